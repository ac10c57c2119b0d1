//! Customization jobs on the sandbox: a quota of jobs that train at once, a role,
//! models and buckets that must be usable when the job starts, training that takes
//! the sandbox's job time, and a custom model when it completes. Custom models
//! cannot be deleted while a throughput serves them.

use serde_json::{Map, Value, json};

use super::{COMPLETED, CUSTOM_MODEL, IN_PROGRESS, JobState, KIND, STOPPED};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err, rfc3339};
use crate::kinds::bucket::sandbox as bucket;
use crate::kinds::iam_role::sandbox::check_assumable;
use crate::kinds::model_access::sandbox::check_usable;
use crate::kinds::sandbox_face::{Delete, SandboxFace, Update};
use crate::kinds::state::state_of;
use crate::model::Kind;
use crate::models;

/// At most this many jobs train at once (a hard quota in AWS).
const JOB_QUOTA: usize = 2;

/// The customization job's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn create(
        &self,
        world: &mut World,
        _name: &str,
        object: &mut Object,
        operation: &str,
        now: f64,
    ) -> Result<(), CloudError> {
        let job: JobState = state_of(&object.attrs, operation)?;
        check_assumable(world, operation, &job.role_arn, now)?;
        check_usable(world, operation, &job.base_model)?;
        if let Some(teacher) = &job.teacher {
            check_usable(world, operation, &teacher.model)?;
        }
        let rft =
            job.customization_type == super::state::ApiCustomizationType::ReinforcementFineTuning;
        if rft != job.grader_lambda_arn.is_some() {
            return Err(err(
                ErrorClass::Validation,
                operation,
                "ValidationException: a grader (rftConfig.graderConfig) is required for, and only for, REINFORCEMENT_FINE_TUNING",
            ));
        }
        let uri = job
            .training_data
            .as_ref()
            .and_then(|t| {
                t.s3_uri
                    .as_deref()
                    .or(t.invocation_logs.as_ref().map(|l| l.s3_uri.as_str()))
            })
            .unwrap_or_default();
        bucket::check_exists(world, operation, uri)?;
        bucket::check_exists(world, operation, &job.output_s3_uri)?;
        let running = world
            .of_kind(KIND)
            .filter(|(_, j)| j.status.as_deref() == Some(IN_PROGRESS))
            .count();
        if running >= JOB_QUOTA {
            return Err(err(
                ErrorClass::QuotaExceeded,
                operation,
                format!(
                    "ServiceQuotaExceededException: at most {JOB_QUOTA} customization jobs run at once in this account"
                ),
            ));
        }
        let base = json!(job.base_model);
        let id = world.next_id();
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:model-customization-job/{id:012}",
            world.region, world.account_id
        ));
        object.status = Some(IN_PROGRESS.into());
        object.facts.insert("stage".into(), json!("Validation"));
        object.facts.insert("baseModel".into(), base);
        Ok(())
    }

    /// A job changes only in its tags, and its custom model's with it (the plan
    /// sends nothing else: the rest of a job cannot change).
    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        let job: JobState = state_of(update.attrs, update.operation)?;
        let Some(existing) = world.get_mut(KIND, update.name) else {
            return Err(err(
                ErrorClass::NotFound,
                update.operation,
                format!("ResourceNotFoundException: {}", update.name),
            ));
        };
        existing.tags = update.tags.clone();
        if let Some(model) = world.get_mut(CUSTOM_MODEL, &job.custom_model_name) {
            model.tags = update.tags.clone();
        }
        Ok(())
    }

    fn stop(&self, world: &mut World, name: &str, operation: &str) -> Result<(), CloudError> {
        let Some(j) = world.get_mut(KIND, name) else {
            return Err(err(
                ErrorClass::NotFound,
                operation,
                "ResourceNotFoundException",
            ));
        };
        if j.status.as_deref() == Some(IN_PROGRESS) {
            j.status = Some(STOPPED.into());
            j.status_message = Some("Stopped by request".into());
        }
        Ok(())
    }

    /// Jobs train through their stages and complete after the sandbox's job time,
    /// each leaving its custom model and writing its metrics to its output bucket.
    fn advance(&self, world: &mut World, now: f64) {
        let job_seconds = world.timing.job_seconds;
        let mut completed: Vec<(String, Object)> = Vec::new();
        for (name, j) in world.of_kind_mut(KIND) {
            if j.status.as_deref() != Some(IN_PROGRESS) {
                continue;
            }
            if now - j.created >= job_seconds {
                j.status = Some(COMPLETED.into());
                j.facts
                    .insert("endTime".into(), json!(rfc3339(j.created + job_seconds)));
                completed.push((name.clone(), j.clone()));
            } else {
                let progress = (now - j.created) / job_seconds;
                let stage = if progress < 0.2 {
                    "Validation"
                } else if progress < 0.4 {
                    "DataProcessing"
                } else {
                    "Training"
                };
                j.facts.insert("stage".into(), json!(stage));
                j.facts
                    .insert("progress".into(), json!((progress * 100.0).floor() / 100.0));
            }
        }
        for (job_name, j) in completed {
            let model_name = j
                .attrs
                .get("customModelName")
                .and_then(Value::as_str)
                .unwrap_or(&job_name)
                .to_string();
            let id = world.next_id();
            let model = Object {
                attrs: Map::new(),
                tags: j.tags.clone(),
                created: j.created + job_seconds,
                status: Some("Active".into()),
                status_message: None,
                facts: Map::from_iter([
                    (
                        "baseModel".to_string(),
                        j.attrs.get("baseModel").cloned().unwrap_or(Value::Null),
                    ),
                    ("jobName".to_string(), json!(job_name)),
                ]),
                arn: Some(format!(
                    "arn:aws:bedrock:{}:{}:custom-model/{model_name}/{id:012}",
                    world.region, world.account_id
                )),
            };
            world.insert(CUSTOM_MODEL, &model_name, model);
            // The job writes its metrics to the output location.
            if let Some(bucket) = j
                .attrs
                .get("outputS3Uri")
                .and_then(Value::as_str)
                .and_then(crate::names::s3_bucket)
            {
                bucket::add_objects(world, bucket, 1);
            }
        }
    }
}

/// The custom model's sandbox face: made by its job, or brought in from outside
/// (from S3, read with a role that must be assumable, or a model package):
/// Creating, then Active after the sandbox's throughput time.
pub struct CustomModelFace;
pub static CUSTOM_MODEL_SANDBOX: CustomModelFace = CustomModelFace;

impl SandboxFace for CustomModelFace {
    fn create(
        &self,
        world: &mut World,
        _name: &str,
        object: &mut Object,
        operation: &str,
        now: f64,
    ) -> Result<(), CloudError> {
        let state: super::CustomModelState = state_of(&object.attrs, operation)?;
        if let Some(uri) = &state.source_s3_uri {
            let role = state.role_arn.as_deref().ok_or_else(|| {
                err(
                    ErrorClass::Validation,
                    operation,
                    "ValidationException: a model from S3 needs a roleArn",
                )
            })?;
            check_assumable(world, operation, role, now)?;
            bucket::check_exists(world, operation, uri)?;
        }
        let id = world.next_id();
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:custom-model/imported/{id:012}",
            world.region, world.account_id
        ));
        object.status = Some("Creating".into());
        object.facts.insert(
            "readyAt".into(),
            json!(now + world.timing.throughput_seconds),
        );
        Ok(())
    }

    /// A model brought in from outside is Active once its time has passed.
    fn advance(&self, world: &mut World, now: f64) {
        for (_, m) in world.of_kind_mut(CUSTOM_MODEL) {
            if m.status.as_deref() == Some("Creating")
                && let Some(ready_at) = m.facts.get("readyAt").and_then(Value::as_f64)
                && now >= ready_at
            {
                m.status = Some("Active".into());
            }
        }
    }

    fn check_delete(&self, world: &World, delete: Delete<'_>) -> Result<(), CloudError> {
        let identity = models::custom_model_identity(delete.name);
        let server = Kind::ALL
            .into_iter()
            .filter(|k| k.facts().inference.is_some())
            .find(|k| {
                world.of_kind(k.as_str()).any(|(_, t)| {
                    t.attrs.get("model").and_then(Value::as_str) == Some(identity.as_str())
                })
            });
        if let Some(kind) = server {
            return Err(err(
                ErrorClass::Conflict,
                delete.operation,
                format!("ResourceInUseException: a {kind} serves this model"),
            ));
        }
        Ok(())
    }
}
