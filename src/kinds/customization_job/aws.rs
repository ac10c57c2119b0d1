//! How customization jobs are read and written through the SDK (their custom
//! models are in `custom_model_aws.rs`).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_bedrock::types::{
    CustomizationConfig, CustomizationType, DistillationConfig, GraderConfig, InvocationLogSource,
    InvocationLogsConfig, LambdaGraderConfig, OutputDataConfig, ReasoningEffort,
    RequestMetadataBaseFilters, RequestMetadataFilters, RftConfig, RftHyperParameters,
    TeacherModelConfig, TrainingDataConfig, ValidationDataConfig, Validator, VpcConfig,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use async_trait::async_trait;

use crate::cloud::aws::bedrock::{self, invalid, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify, smithy_time};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::aws_face::AwsFace;
use crate::kinds::customization_job as job;
use crate::kinds::customization_job::JobState;
use crate::kinds::customization_job::custom_model_aws::{get_custom_model, model_arn};
use crate::kinds::customization_job::state::ApiCustomizationType;
use crate::kinds::state::state_of;
use crate::model::ObservedResource;
use crate::model::plan::Op;
use crate::models::normalise_model;

async fn observe_jobs(aws: &Aws, reads: &Reads<'_>) -> Result<Vec<ObservedResource>, CloudError> {
    let scope = reads.scope;
    // The listing does not wait for the tagging index: both at once.
    let listing = async {
        let summaries: Vec<(String, String)> = aws
            .bedrock
            .list_model_customization_jobs()
            .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("bedrock:ListModelCustomizationJobs", "the region", e))?
            .into_iter()
            .map(|j| (j.job_name().to_string(), j.job_arn().to_string()))
            .collect();
        Ok::<_, CloudError>(summaries)
    };
    let (index, summaries) = futures::try_join!(reads.bedrock_index(aws), listing)?;
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(summaries)
        .map(|(name, arn)| async move {
            let declared = scope.declares(job::KIND, &name)
                || scope.declared.get(job::KIND).is_some_and(|names| {
                    names.iter().any(|d| {
                        name.strip_prefix(d.as_str())
                            .is_some_and(|r| r.starts_with("-r"))
                    })
                });
            let object = format!("customization job {name}");
            let ours = job::named_by_bedform(&name);
            let tags = index.tags(aws, &arn, &object, declared, ours);
            // A declared job is read whatever its tags say: both at once. Another
            // job is read only once its tags say it is the stack's.
            let (tags, mut observed) = if declared {
                futures::try_join!(tags, read_job(aws, &name))?
            } else {
                match tags.await? {
                    Some(tags) if owned_or_declared(scope, job::KIND, &name, &tags) => {
                        (Some(tags), read_job(aws, &name).await?)
                    }
                    _ => return Ok::<_, CloudError>(None),
                }
            };
            let Some(tags) = tags else {
                return Ok(None);
            };
            if let Some(o) = observed.as_mut() {
                o.tags = tags;
            }
            Ok(observed)
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

fn filters_value(filters: &RequestMetadataFilters) -> Value {
    let map = |m: &HashMap<String, String>| json!(m.iter().collect::<BTreeMap<_, _>>());
    let base = |b: &RequestMetadataBaseFilters| {
        crate::kinds::face::strip_nulls(json!({
            "equals": b.equals().map(map),
            "notEquals": b.not_equals().map(map),
        }))
    };
    match filters {
        RequestMetadataFilters::Equals(m) => json!({"equals": map(m)}),
        RequestMetadataFilters::NotEquals(m) => json!({"notEquals": map(m)}),
        RequestMetadataFilters::AndAll(list) => {
            json!({"andAll": list.iter().map(base).collect::<Vec<_>>()})
        }
        RequestMetadataFilters::OrAll(list) => {
            json!({"orAll": list.iter().map(base).collect::<Vec<_>>()})
        }
        _ => Value::Null,
    }
}

async fn read_job(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    let out = match aws
        .bedrock
        .get_model_customization_job()
        .job_identifier(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = classify(
                "bedrock:GetModelCustomizationJob",
                &format!("customization job {name}"),
                e,
            );
            return e.absent_if_not_found();
        }
    };
    let kind = match out.customization_type() {
        Some(CustomizationType::Distillation) => "DISTILLATION",
        Some(CustomizationType::ContinuedPreTraining) => "CONTINUED_PRE_TRAINING",
        Some(CustomizationType::ReinforcementFineTuning) => "REINFORCEMENT_FINE_TUNING",
        _ => "FINE_TUNING",
    };
    let rft = match out.customization_config() {
        Some(CustomizationConfig::RftConfig(rft)) => Some(rft),
        _ => None,
    };
    let grader = rft
        .and_then(|r| r.grader_config())
        .and_then(|g| g.as_lambda_grader().ok())
        .map(|l| l.lambda_arn().to_string());
    let teacher = match out.customization_config() {
        Some(CustomizationConfig::DistillationConfig(d)) => d
            .teacher_model_config()
            .map(|t| json!({"model": normalise_model(t.teacher_model_identifier()), "maxResponseLength": t.max_response_length_for_inference()}))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let training = out
        .training_data_config()
        .map(|t| match (t.s3_uri(), t.invocation_logs_config()) {
            (Some(uri), _) => json!({"s3Uri": uri}),
            (None, Some(logs)) => {
                json!({"invocationLogs": crate::kinds::face::strip_nulls(json!({
                    "s3Uri": logs.invocation_log_source().and_then(|s| s.as_s3_uri().ok()),
                    "usePromptResponse": logs.use_prompt_response(),
                    "requestMetadataFilters": logs.request_metadata_filters().map(filters_value),
                }))})
            }
            _ => Value::Null,
        })
        .unwrap_or(Value::Null);
    let validation: Vec<Value> = out
        .validation_data_config()
        .map(|v| {
            v.validators()
                .iter()
                .map(|x| json!({"s3Uri": x.s3_uri()}))
                .collect()
        })
        .unwrap_or_default();
    let mut hyper: BTreeMap<String, String> = out
        .hyper_parameters()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    if let Some(h) = rft.and_then(|r| r.hyper_parameters()) {
        hyper.extend(rft_hyper_parameters_read(h));
    }
    let vpc = vpc_value(out.vpc_config());
    let status = out.status().map(|s| s.as_str().to_string());
    let stage = out.status_details().and_then(|d| {
        let running = |s: Option<&aws_sdk_bedrock::types::JobStatusDetails>| {
            s.is_some_and(|s| s.as_str() == "InProgress")
        };
        if running(d.training_details().and_then(|t| t.status())) {
            Some("Training")
        } else if running(d.data_processing_details().and_then(|t| t.status())) {
            Some("DataProcessing")
        } else if running(d.validation_details().and_then(|t| t.status())) {
            Some("Validation")
        } else {
            None
        }
    });
    let mut facts = Map::from_iter([
        (
            "creationTime".to_string(),
            json!(smithy_time(out.creation_time())),
        ),
        (
            "baseModel".to_string(),
            json!(normalise_model(out.base_model_arn())),
        ),
    ]);
    if let Some(stage) = stage {
        facts.insert("stage".into(), json!(stage));
    }
    Ok(Some(ObservedResource {
        kind: job::KIND.into(),
        aws_name: name.to_string(),
        arn: Some(out.job_arn().to_string()),
        attrs: [
            ("customizationType".to_string(), json!(kind)),
            (
                "baseModel".to_string(),
                json!(normalise_model(out.base_model_arn())),
            ),
            ("teacher".to_string(), teacher),
            ("trainingData".to_string(), training),
            ("validationData".to_string(), json!(validation)),
            ("hyperParameters".to_string(), json!(hyper)),
            (
                "outputS3Uri".to_string(),
                json!(out.output_data_config().map(|o| o.s3_uri())),
            ),
            ("roleArn".to_string(), json!(out.role_arn())),
            (
                "customModelName".to_string(),
                json!(out.output_model_name()),
            ),
            (
                "customModelKmsKeyId".to_string(),
                json!(out.output_model_kms_key_arn()),
            ),
            ("vpcConfig".to_string(), vpc),
        ]
        .into_iter()
        .chain(grader.map(|g| ("graderLambdaArn".to_string(), json!(g))))
        .collect(),
        // Only a failed job's message means anything (moto fills it in always).
        status_message: out
            .failure_message()
            .filter(|_| matches!(status.as_deref(), Some("Failed" | "Stopped")))
            .map(str::to_string),
        status,
        facts,
        ..ObservedResource::default()
    }))
}

/// The SDK's `VpcConfig` of a job's desired VPC.
pub fn sdk_vpc(op: &str, vpc: &job::state::Vpc) -> Result<VpcConfig, CloudError> {
    VpcConfig::builder()
        .set_subnet_ids(Some(vpc.subnet_ids.clone()))
        .set_security_group_ids(Some(vpc.security_group_ids.clone()))
        .build()
        .map_err(|e| invalid(op, e))
}

/// A VPC AWS reports, in the desired state's shape (ids sorted).
pub fn vpc_value(vpc: Option<&VpcConfig>) -> Value {
    vpc.map(|v| {
        let mut subnets = v.subnet_ids().to_vec();
        subnets.sort();
        let mut groups = v.security_group_ids().to_vec();
        groups.sort();
        json!({"subnetIds": subnets, "securityGroupIds": groups})
    })
    .unwrap_or(Value::Null)
}

/// RFT's typed hyper-parameters from the state's strings (validated offline).
fn rft_hyper_parameters(
    op: &str,
    values: &BTreeMap<String, String>,
) -> Result<RftHyperParameters, CloudError> {
    let int = |name: &str| -> Result<Option<i32>, CloudError> {
        values
            .get(name)
            .map(|v| {
                v.parse::<i32>().map_err(|_| {
                    invalid(
                        op,
                        format!("hyper-parameter {name} `{v}` is not a whole number"),
                    )
                })
            })
            .transpose()
    };
    let learning_rate = values
        .get("learningRate")
        .map(|v| {
            v.parse::<f32>().map_err(|_| {
                invalid(
                    op,
                    format!("hyper-parameter learningRate `{v}` is not a number"),
                )
            })
        })
        .transpose()?;
    Ok(RftHyperParameters::builder()
        .set_epoch_count(int("epochCount")?)
        .set_batch_size(int("batchSize")?)
        .set_learning_rate(learning_rate)
        .set_max_prompt_length(int("maxPromptLength")?)
        .set_training_sample_per_prompt(int("trainingSamplePerPrompt")?)
        .set_inference_max_tokens(int("inferenceMaxTokens")?)
        .set_reasoning_effort(
            values
                .get("reasoningEffort")
                .map(|v| ReasoningEffort::from(v.as_str())),
        )
        .set_eval_interval(int("evalInterval")?)
        .build())
}

/// RFT's hyper-parameters as the state writes them.
fn rft_hyper_parameters_read(h: &RftHyperParameters) -> BTreeMap<String, String> {
    let ints = [
        ("epochCount", h.epoch_count()),
        ("batchSize", h.batch_size()),
        ("maxPromptLength", h.max_prompt_length()),
        ("trainingSamplePerPrompt", h.training_sample_per_prompt()),
        ("inferenceMaxTokens", h.inference_max_tokens()),
        ("evalInterval", h.eval_interval()),
    ];
    ints.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
        .chain(
            h.learning_rate()
                .map(|v| ("learningRate".to_string(), v.to_string())),
        )
        .chain(
            h.reasoning_effort()
                .map(|v| ("reasoningEffort".to_string(), v.as_str().to_string())),
        )
        .collect()
}

fn metadata_filters(value: &Value) -> Option<RequestMetadataFilters> {
    let map = |v: &Value| -> HashMap<String, String> {
        v.as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let base = |v: &Value| {
        RequestMetadataBaseFilters::builder()
            .set_equals(v.get("equals").map(map))
            .set_not_equals(v.get("notEquals").map(map))
            .build()
    };
    let list = |v: &Value| {
        v.as_array()
            .map(|l| l.iter().map(base).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    if let Some(v) = value.get("equals") {
        Some(RequestMetadataFilters::Equals(map(v)))
    } else if let Some(v) = value.get("notEquals") {
        Some(RequestMetadataFilters::NotEquals(map(v)))
    } else if let Some(v) = value.get("andAll") {
        Some(RequestMetadataFilters::AndAll(list(v)))
    } else {
        value
            .get("orAll")
            .map(|v| RequestMetadataFilters::OrAll(list(v)))
    }
}

async fn create_job(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateModelCustomizationJob";
    let object = format!("customization job {name}");
    let state: JobState = state_of(attrs, op)?;
    let mut training_config = TrainingDataConfig::builder();
    if let Some(training) = &state.training_data {
        training_config = training_config.set_s3_uri(training.s3_uri.clone());
        if let Some(logs) = &training.invocation_logs {
            training_config = training_config.invocation_logs_config(
                InvocationLogsConfig::builder()
                    .use_prompt_response(logs.use_prompt_response.unwrap_or(false))
                    .invocation_log_source(InvocationLogSource::S3Uri(logs.s3_uri.clone()))
                    .set_request_metadata_filters(
                        logs.request_metadata_filters
                            .as_ref()
                            .and_then(metadata_filters),
                    )
                    .build(),
            );
        }
    }
    let customization_type = match state.customization_type {
        ApiCustomizationType::FineTuning => CustomizationType::FineTuning,
        ApiCustomizationType::ContinuedPreTraining => CustomizationType::ContinuedPreTraining,
        ApiCustomizationType::Distillation => CustomizationType::Distillation,
        ApiCustomizationType::ReinforcementFineTuning => CustomizationType::ReinforcementFineTuning,
    };
    let rft = state.customization_type == ApiCustomizationType::ReinforcementFineTuning;
    let mut create = aws
        .bedrock
        .create_model_customization_job()
        .job_name(name)
        .custom_model_name(&state.custom_model_name)
        .role_arn(&state.role_arn)
        .base_model_identifier(model_arn(aws, &state.base_model).await?)
        .customization_type(customization_type)
        .training_data_config(training_config.build())
        .output_data_config(
            OutputDataConfig::builder()
                .s3_uri(&state.output_s3_uri)
                .build()
                .map_err(|e| invalid(op, e))?,
        )
        .set_client_request_token(token.map(str::to_string))
        .set_job_tags(Some(bedrock::bedrock_tags(tags)?))
        .set_custom_model_tags(Some(bedrock::bedrock_tags(tags)?))
        .set_custom_model_kms_key_id(state.custom_model_kms_key_id.clone());
    let validators = state
        .validation_data
        .iter()
        .map(|v| {
            Validator::builder()
                .s3_uri(&v.s3_uri)
                .build()
                .map_err(|e| invalid(op, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !validators.is_empty() {
        create = create.validation_data_config(
            ValidationDataConfig::builder()
                .set_validators(Some(validators))
                .build()
                .map_err(|e| invalid(op, e))?,
        );
    }
    if rft {
        let grader = state
            .grader_lambda_arn
            .as_ref()
            .ok_or_else(|| invalid(op, "a reinforcement fine-tuning job needs a grader"))?;
        create = create.customization_config(CustomizationConfig::RftConfig(
            RftConfig::builder()
                .grader_config(GraderConfig::LambdaGrader(
                    LambdaGraderConfig::builder()
                        .lambda_arn(grader)
                        .build()
                        .map_err(|e| invalid(op, e))?,
                ))
                .hyper_parameters(rft_hyper_parameters(op, &state.hyper_parameters)?)
                .build(),
        ));
    } else {
        for (k, v) in &state.hyper_parameters {
            create = create.hyper_parameters(k, v);
        }
    }
    if let Some(teacher) = &state.teacher {
        let max = teacher
            .max_response_length
            .map(|n| {
                i32::try_from(n)
                    .map_err(|_| invalid(op, format!("{n} is not a response length AWS takes")))
            })
            .transpose()?;
        let config = TeacherModelConfig::builder()
            .teacher_model_identifier(&teacher.model)
            .set_max_response_length_for_inference(max)
            .build()
            .map_err(|e| invalid(op, e))?;
        create = create.customization_config(CustomizationConfig::DistillationConfig(
            DistillationConfig::builder()
                .teacher_model_config(config)
                .build(),
        ));
    }
    if let Some(vpc) = &state.vpc_config {
        create = create.vpc_config(sdk_vpc(op, vpc)?);
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = classify(op, &object, e);
            // A re-run of the same create: the job exists with our token.
            if e.class == ErrorClass::Conflict
                && let Some(existing) = aws
                    .bedrock
                    .get_model_customization_job()
                    .job_identifier(name)
                    .send()
                    .await
                    .ok()
                && existing.client_request_token().is_some()
                && existing.client_request_token() == token
            {
                return Ok(());
            }
            Err(e)
        }
    }
}

async fn stop_job(aws: &Aws, name: &str) -> Result<(), CloudError> {
    match aws
        .bedrock
        .stop_model_customization_job()
        .job_identifier(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = classify(
                "bedrock:StopModelCustomizationJob",
                &format!("customization job {name}"),
                e,
            );
            // Already finished or stopping: nothing to stop.
            if matches!(e.class, ErrorClass::Validation | ErrorClass::Conflict) {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// The customization job's AWS face.
pub struct Face;
pub static AWS: Face = Face;

#[async_trait]
impl AwsFace for Face {
    async fn observe(
        &self,
        aws: &Aws,
        reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError> {
        observe_jobs(aws, reads).await
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        read_job(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_job(aws, name, attrs, tags, client_request_token.as_deref()).await,
            Op::StopJob { name } => stop_job(aws, name).await,
            Op::Untag { kind, name, keys } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &format!("{kind} {name}"), keys).await
            }
            // Only tags change in place, the job's and its custom model's.
            Op::Update {
                name,
                attrs,
                tags,
                fields,
                ..
            } if fields.iter().all(|f| f == "tags") => {
                let state: JobState = state_of(attrs, &op.describe())?;
                let job = read_job(aws, name)
                    .await?
                    .and_then(|j| j.arn)
                    .ok_or_else(|| {
                        CloudError::new(
                            ErrorClass::NotFound,
                            format!("bedrock:TagResource on customization job {name}"),
                            "it does not exist",
                        )
                    })?;
                bedrock::set_tags(aws, &job, &format!("customization job {name}"), tags).await?;
                let model = &state.custom_model_name;
                if let Some(arn) = get_custom_model(aws, model).await?.and_then(|m| m.arn) {
                    bedrock::set_tags(aws, &arn, &format!("custom model {model}"), tags).await?;
                }
                Ok(())
            }
            Op::Update { .. } | Op::Delete { .. } => Err(bedrock::unsupported(
                op,
                "a customization job is changed only in its tags, and is never deleted, only stopped",
            )),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let found = self.get(aws, name).await?;
        bedrock::add_tags_to(aws, found, &format!("{} {name}", job::KIND), tags).await
    }
}
