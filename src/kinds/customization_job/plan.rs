//! How the planner treats a customization job and the custom model it produces:
//! create-once jobs named by their training hash, retraining, stops, retries and
//! the superseded model's fate.

use serde_json::{Value, json};

use super::custom_model::{NewModel, plan_old_model};
use super::*;
use crate::kinds::face::PlanCx;
use crate::kinds::face::{ExportCx, Exported, KindBehaviour, NotExported};
use crate::kinds::lifecycle;
use crate::model::Scope;
use crate::model::plan::{Action, Change, Op};
use crate::model::{DesiredResource, ObservedResource};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// A customization job's status (`ModelCustomizationJobStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    InProgress,
    Completed,
    Failed,
    Stopping,
    Stopped,
}

impl JobStatus {
    /// The status AWS wrote, if it is one the API documents.
    pub fn parse(status: &str) -> Option<JobStatus> {
        [
            (IN_PROGRESS, JobStatus::InProgress),
            (COMPLETED, JobStatus::Completed),
            (FAILED, JobStatus::Failed),
            (STOPPING, JobStatus::Stopping),
            (STOPPED, JobStatus::Stopped),
        ]
        .into_iter()
        .find_map(|(name, parsed)| (name == status).then_some(parsed))
    }
}

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // After the throughput that serves its model, before the model itself.
    teardown_rank: 1,
    singleton: false,
    // AWS chooses the job's ARN when it starts.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &["requestMetadataFilters"],
    status_class: job_status_class,
    // Trains for hours after AWS accepted it.
    converges: true,
    replacement_waits_until_ready: false,
    retried_only_when_asked: true,
    not_exported_because: None,
    // `statusDetails` of `GetModelCustomizationJob`, in the order they run.
    stages: &[
        crate::kinds::facts::Stage {
            name: "Validation",
            said: "validation",
        },
        crate::kinds::facts::Stage {
            name: "DataProcessing",
            said: "data processing",
        },
        crate::kinds::facts::Stage {
            name: "Training",
            said: "training",
        },
    ],
    inference: None,
    made_by: None,
    tags: Some(crate::kinds::facts::BEDROCK_TAGS),
};

fn job_status_class(status: &str) -> crate::kinds::facts::StatusClass {
    use crate::kinds::facts::StatusClass;
    match JobStatus::parse(status) {
        Some(JobStatus::InProgress | JobStatus::Stopping) => StatusClass::Transitional,
        // A job stopped outside bedform ended too: it is not retried by itself.
        Some(JobStatus::Failed | JobStatus::Stopped) => StatusClass::Failed,
        Some(JobStatus::Completed) => StatusClass::Ready,
        None => StatusClass::Undocumented,
    }
}

fn attempt_name(base: &str, attempt: u32) -> String {
    if attempt <= 1 {
        base.to_string()
    } else {
        format!("{base}-r{attempt}")
    }
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::CustomizationJob
    }
    /// The job, and the custom model it trains.
    fn scope(&self, desired: &DesiredResource, scope: &mut Scope) {
        scope.declare(&desired.address.kind, &desired.aws_name);
        if let Some(model) = model_name_of(desired) {
            scope.declare(CUSTOM_MODEL, model);
        }
    }
    fn name_member(&self) -> &'static str {
        "jobName"
    }
    fn name_field(&self) -> String {
        "`jobName` (a prefix the spec hash follows) or `adopted.jobName`".into()
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        !matches!(
            observed.status.as_deref(),
            Some(FAILED | STOPPED | STOPPING)
        )
    }

    fn export_document_name(&self, observed: &ObservedResource) -> Option<String> {
        let hash = exported_training_hash(&observed.attrs);
        observed
            .aws_name
            .strip_suffix(&format!("-{hash}"))
            .map(str::to_string)
    }

    fn export_needs(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        let role = observed.attrs.get("roleArn").and_then(Value::as_str);
        cx.observed
            .of_kind("IamRole")
            .filter(|r| r.arn.is_some() && r.arn.as_deref() == role)
            .map(|r| (r.kind.clone(), r.aws_name.clone()))
            .collect()
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let attrs = &observed.attrs;
        // A completed job whose model is gone: its document would train again.
        if observed.status.as_deref() == Some(COMPLETED)
            && let Some(model) = attrs.get("customModelName").and_then(Value::as_str)
            && cx.observed.find(CUSTOM_MODEL, model).is_none()
        {
            return Err(NotExported::ModelGone {
                model: model.to_string(),
            });
        }
        let get = |key: &str| attrs.get(key).filter(|v| !v.is_null()).cloned();
        let mut out = Exported::default();
        let kind = match attrs.get("customizationType").and_then(Value::as_str) {
            Some("DISTILLATION") => "distillation",
            Some("CONTINUED_PRE_TRAINING") => "continuedPreTraining",
            _ => "fineTuning",
        };
        out.set("type", json!(kind));
        out.set("baseModel", get("baseModel").unwrap_or(Value::Null));
        match get("teacher") {
            Some(teacher) => out.set("teacher", teacher),
            None if kind == "distillation" => {
                return Err(NotExported::Missing(
                    "teacher model, which a distillation job declares",
                ));
            }
            None => {}
        }
        let training = match lowered_training_data(attrs) {
            Some(Value::Object(data)) => {
                if data
                    .get("invocationLogs")
                    .is_some_and(|logs| logs.get("requestMetadataFilters").is_some())
                {
                    out.warnings.push(
                        "`trainingData.invocationLogs.requestMetadataFilters` is written in clear: AWS marks request metadata filters sensitive, and the manifest must hold them for the job's training hash to match; review them before committing".into(),
                    );
                }
                Value::Object(data)
            }
            _ => return Err(NotExported::Missing("training data")),
        };
        out.set("trainingData", training);
        if let Some(Value::Array(v)) =
            get("validationData").filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        {
            out.set("validationData", Value::Array(v));
        }
        out.set(
            "output",
            json!({"s3Uri": get("outputS3Uri").unwrap_or(Value::Null)}),
        );
        let role = attrs
            .get("roleArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.set(
            "role",
            cx.reference_by_arn("IamRole", role).unwrap_or(json!(role)),
        );
        if let Some(Value::Object(h)) =
            get("hyperParameters").filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        {
            out.set("hyperParameters", Value::Object(h));
        }
        out.set(
            "kmsKeyId",
            get("customModelKmsKeyId").unwrap_or(Value::Null),
        );
        out.set("vpcConfig", get("vpcConfig").unwrap_or(Value::Null));
        let hash = exported_training_hash(attrs);
        let model = attrs
            .get("customModelName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = cx
            .names
            .get(&(KIND.to_string(), observed.aws_name.clone()))
            .cloned()
            .unwrap_or_default();
        let default = format!("{name}-{hash}");
        if observed.aws_name != default || model != default {
            out.set(
                "adopted",
                json!({"jobName": observed.aws_name, "customModelName": model, "trainingHash": hash}),
            );
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn owned_objects(&self, desired: &DesiredResource) -> Vec<(String, String)> {
        let mut objects = vec![(KIND.to_string(), desired.aws_name.clone())];
        if let Some(model) = model_name_of(desired) {
            objects.push((CUSTOM_MODEL.to_string(), model.to_string()));
        }
        objects
    }

    fn adoption_refusal(
        &self,
        desired: &DesiredResource,
        observed: &ObservedResource,
    ) -> Option<String> {
        if observed.kind != KIND {
            return None;
        }
        let differing: Vec<&str> = TRAINING_FIELDS
            .iter()
            .chain(&["customModelName"])
            .copied()
            .filter(|f| {
                desired.attrs.get(*f).filter(|v| !v.is_null())
                    != observed.attrs.get(*f).filter(|v| !v.is_null())
            })
            .collect();
        (!differing.is_empty()).then(|| {
            format!(
                "job `{}` was run with other `{}` than the manifest declares; a job cannot be changed, so adopting it would hide what it trained. Declare what it ran (`bedform export` writes it), or let the plan train a new job",
                observed.aws_name,
                differing.join("`, `")
            )
        })
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let address = &desired.address;
        let model_name = model_name_of(desired).unwrap_or_default().to_string();
        // Attempts of the current spec: NAME, NAME-r2, NAME-r3...
        let mut attempts: Vec<(u32, &ObservedResource)> = Vec::new();
        for attempt in 1..=20 {
            if let Some(job) = cx.find(KIND, &attempt_name(&desired.aws_name, attempt)) {
                attempts.push((attempt, job));
            }
        }
        for (_, job) in &attempts {
            cx.claim(job);
            if !job.owned_by(cx.stack()) {
                return vec![lifecycle::unmanaged(cx, desired, job)];
            }
        }
        let previous: Vec<&ObservedResource> = cx
            .owned_for(KIND, address)
            .into_iter()
            .filter(|j| !attempts.iter().any(|(_, a)| a.aws_name == j.aws_name))
            .collect();
        let model = cx.find(CUSTOM_MODEL, &model_name);
        if let Some(model) = model {
            cx.claim(model);
        }
        let mut changes = Vec::new();
        // Old generations: stop what still runs; release models nothing serves.
        for job in &previous {
            cx.claim(job);
            if job.status.as_deref() == Some(IN_PROGRESS) {
                changes.push(
                    Change::new(address.clone(), job.aws_name.clone(), Action::Stop)
                        .because("its spec changed while it was training; a new job replaces it")
                        .with_status(job)
                        .with_op(Op::StopJob {
                            name: job.aws_name.clone(),
                        }),
                );
            }
        }
        let old_models_at = changes.len();

        let latest = attempts.last().copied();
        match latest {
            Some((_, job)) if job.status.as_deref() == Some(COMPLETED) => {
                let mut change = Change::new(address.clone(), job.aws_name.clone(), Action::NoOp)
                    .with_status(job);
                // What a caller needs to call the model it trained.
                if let Some(model) = model {
                    change = change.note(format!(
                        "trained custom model `{}`, {}",
                        model.aws_name,
                        model
                            .arn
                            .as_deref()
                            .unwrap_or("whose ARN AWS did not report")
                    ));
                }
                if model.is_none() {
                    change = change.warn(format!(
                        "the job completed but its custom model `{model_name}` is gone; re-run with --retry-failed to train again"
                    ));
                    if cx.options.retry_failed {
                        return vec![new_job(
                            cx,
                            desired,
                            attempts.len() as u32 + 1,
                            "its custom model no longer exists",
                            &previous,
                        )];
                    }
                }
                for note in untrained_changes(desired, job) {
                    change.notes.push(note);
                }
                changes.push(retagged(cx, desired, job, change));
            }
            Some((_, job))
                if matches!(job.status.as_deref(), Some(IN_PROGRESS) | Some(STOPPING)) =>
            {
                changes.push(retagged(
                    cx,
                    desired,
                    job,
                    Change::new(address.clone(), job.aws_name.clone(), Action::NoOp)
                        .with_status(job)
                        .note("training; nothing to do until it finishes"),
                ));
            }
            Some((attempt, job)) => {
                // Failed or stopped outside bedform.
                if cx.options.retry_failed {
                    let why = format!(
                        "attempt `{}` ended {}",
                        job.aws_name,
                        job.status.as_deref().unwrap_or("unknown")
                    );
                    changes.push(new_job(cx, desired, attempt + 1, &why, &[]));
                } else {
                    let mut change =
                        Change::new(address.clone(), job.aws_name.clone(), Action::NoOp)
                            .with_status(job)
                            .warn("the job did not complete; run plan/apply with --retry-failed to train again under a new name");
                    // bedform stops only the jobs of an earlier spec, never the
                    // latest attempt: stopped, it was stopped outside bedform.
                    if job.status.as_deref() == Some(STOPPED) {
                        change.drift = true;
                        change = change.because("it was stopped outside bedform");
                    }
                    changes.push(change);
                }
            }
            None => {
                let why = if previous.is_empty() {
                    "a new customization job".to_string()
                } else {
                    "the training inputs changed; jobs cannot be changed, so a new job trains a new model".to_string()
                };
                let mut change = new_job(cx, desired, 1, &why, &previous);
                if desired.prevent_destroy && !previous.is_empty() {
                    change
                        .warnings
                        .push("`preventDestroy`: the previous model is kept".into());
                }
                changes.push(change);
            }
        }
        // What becomes of the models earlier specs trained, planned once it is
        // known which job trains the current one.
        let trainer = changes
            .iter()
            .find(|c| c.retrains)
            .map(|c| c.aws_name.clone())
            .or_else(|| latest.map(|(_, j)| j.aws_name.clone()));
        let new_model = NewModel {
            name: &model_name,
            ready: model.is_some(),
            coming: changes.iter().any(|c| c.retrains)
                || latest.is_some_and(|(_, j)| j.status.as_deref() == Some(IN_PROGRESS)),
            trainer,
        };
        let mut old_models = Vec::new();
        for old_model in cx.owned_for(CUSTOM_MODEL, address) {
            if old_model.aws_name == model_name {
                continue;
            }
            cx.claim(old_model);
            old_models.extend(plan_old_model(cx, desired, old_model, &new_model));
        }
        changes.splice(old_models_at..old_models_at, old_models);
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        // A job of a resource no longer declared: stop it if it runs; job records
        // cannot be deleted. Its model is planned as a CustomModel orphan.
        if observed.status.as_deref() == Some(IN_PROGRESS) {
            let _ = cx;
            return vec![
                Change::new(
                    lifecycle::orphan_address(observed),
                    observed.aws_name.clone(),
                    Action::Stop,
                )
                .because("it is no longer declared")
                .with_status(observed)
                .with_op(Op::StopJob {
                    name: observed.aws_name.clone(),
                }),
            ];
        }
        Vec::new()
    }
}

/// The change that starts a job (attempt 1, or a retry under `NAME-rN`).
fn new_job(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    attempt: u32,
    why: &str,
    previous: &[&ObservedResource],
) -> Change {
    let name = attempt_name(&desired.aws_name, attempt);
    let token = crate::hash::client_request_token(
        cx.stack(),
        &desired.address.to_string(),
        &name,
        &desired.spec_hash,
    );
    let op = Op::Create {
        kind: KIND.into(),
        name: name.clone(),
        attrs: desired.attrs.clone(),
        tags: desired.tags_with_ownership(cx.stack()),
        client_request_token: Some(token),
    };
    let (action, fields) = match previous
        .iter()
        .max_by_key(|j| j.fact_str("creationTime").unwrap_or(""))
    {
        Some(old) => {
            let mut fields = lifecycle::diff_attrs(&BEHAVIOUR, &desired.attrs, &old.attrs);
            fields.retain(|f| f.path != "customModelName");
            for field in &mut fields {
                field.forces_replacement = TRAINING_FIELDS.contains(&field.path.as_str());
            }
            (Action::Replace, fields)
        }
        None => (Action::Create, lifecycle::created_fields(desired)),
    };
    let mut change = Change::new(desired.address.clone(), name, action)
        .because(why)
        .with_fields(fields)
        .with_op(op);
    change.create_before_destroy = true;
    change.retrains = true;
    change.warnings.push(format!(
        "starts a training job (billed per token processed) producing custom model `{}`",
        model_name_of(desired).unwrap_or_default()
    ));
    if let Some(wait) = waits_on_base_model(cx, desired) {
        change.notes.push(format!(
            "started once {} is Active ({})",
            wait.address, wait.reason
        ));
        change.waits_on = Some(wait);
    }
    change
}

/// Changes to fields that do not retrain, on a job that already ran.
fn untrained_changes(desired: &DesiredResource, job: &ObservedResource) -> Vec<String> {
    let mut notes = Vec::new();
    for field in ["roleArn", "outputS3Uri", "customModelKmsKeyId", "vpcConfig"] {
        let declared = desired.attrs.get(field).filter(|v| !v.is_null());
        let used = job.attrs.get(field).filter(|v| !v.is_null());
        if job.attrs.contains_key(field) && declared != used {
            notes.push(format!(
                "`{field}` changed; it applies to the next training run, not to the finished job"
            ));
        }
    }
    notes
}

/// A model trained by an earlier spec of a declared job.
/// `change` of a job that stays, with its tags (and its custom model's) brought to
/// the declared ones in place when they differ: tags never retrain.
fn retagged(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    job: &ObservedResource,
    mut change: Change,
) -> Change {
    let tags = desired.tags_with_ownership(cx.stack());
    let Some(diff) = lifecycle::diff_tags(&tags, &job.tags) else {
        return change;
    };
    change.action = Action::Update;
    change.fields.push(diff);
    change = change.because(
        "its tags changed; jobs and custom models are tagged in place, without training again",
    );
    change.ops.push(Op::Update {
        kind: KIND.into(),
        name: job.aws_name.clone(),
        attrs: desired.attrs.clone(),
        tags,
        fields: vec!["tags".into()],
        current_name: None,
    });
    change
}
