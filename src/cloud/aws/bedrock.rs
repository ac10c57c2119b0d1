//! Bedrock: invocation logging, customization jobs and their custom models,
//! provisioned throughput, model agreements and the use-case form.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_bedrock::primitives::Blob;
use aws_sdk_bedrock::types::{
    CloudWatchConfig, CommitmentDuration, CustomizationConfig, CustomizationType,
    DistillationConfig, InvocationLogSource, InvocationLogsConfig, LoggingConfig, OfferType,
    OutputDataConfig, RequestMetadataBaseFilters, RequestMetadataFilters, S3Config, Tag,
    TeacherModelConfig, TrainingDataConfig, ValidationDataConfig, Validator, VpcConfig,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use super::{Aws, READ_CONCURRENCY, Scope, attr_str, classify, smithy_time};
use crate::cloud::{CloudError, ErrorClass};
use crate::kinds::customization_job::{self as job, CUSTOM_MODEL};
use crate::kinds::provisioned_throughput as pt;
use crate::kinds::{invocation_logging, model_access};
use crate::model::ObservedResource;
use crate::model::plan::Op;
use crate::models::{custom_model_identity, custom_model_name, normalise_model};

const LOGGING: &str = "InvocationLogging";
const MODEL_ACCESS: &str = "ModelAccess";

fn invalid(operation: &str, e: impl std::fmt::Display) -> CloudError {
    CloudError::new(ErrorClass::Validation, operation, e.to_string())
}

pub async fn observe(aws: &Aws, scope: &Scope) -> Result<Vec<ObservedResource>, CloudError> {
    let index = TagIndex::read(aws, scope).await?;
    let (logging, models, jobs, throughputs, access) = tokio::try_join!(
        observe_logging(aws),
        observe_custom_models(aws, scope, &index),
        observe_jobs(aws, scope, &index),
        list_throughputs(aws, scope, &index),
        observe_model_access(aws, scope),
    )?;
    let names: HashMap<String, String> = models
        .iter()
        .filter_map(|m| m.arn.clone().map(|arn| (arn, m.aws_name.clone())))
        .collect();
    let throughputs = throughputs.into_iter().map(|mut t| {
        // A custom model's ARN becomes its identity `custom-model/NAME`.
        if let Some(model) = t.attrs.get("model").and_then(Value::as_str)
            && let Some(name) = names.get(model)
        {
            t.attrs
                .insert("model".into(), json!(custom_model_identity(name)));
        }
        t
    });
    let mut all: Vec<ObservedResource> = logging.into_iter().collect();
    all.extend(models);
    all.extend(jobs);
    all.extend(throughputs);
    all.extend(access);
    Ok(all)
}

async fn observe_logging(aws: &Aws) -> Result<Option<ObservedResource>, CloudError> {
    let out = aws
        .bedrock
        .get_model_invocation_logging_configuration()
        .send()
        .await
        .map_err(|e| {
            classify(
                "bedrock:GetModelInvocationLoggingConfiguration",
                "the region",
                e,
            )
        })?;
    // No destination means not configured (AWS answers with no configuration).
    let Some(config) = out
        .logging_config()
        .filter(|c| c.cloud_watch_config().is_some() || c.s3_config().is_some())
    else {
        return Ok(None);
    };
    let cloud_watch = config
        .cloud_watch_config()
        .map(|cw| {
            crate::kinds::face::strip_nulls(json!({
                "logGroupName": cw.log_group_name(),
                "roleArn": cw.role_arn(),
                "largeDataDeliveryS3Config": cw.large_data_delivery_s3_config().map(|s| json!({
                    "bucketName": s.bucket_name(),
                    "keyPrefix": s.key_prefix().unwrap_or(""),
                })),
            }))
        })
        .unwrap_or(Value::Null);
    let s3 = config
        .s3_config()
        .map(|s| json!({"bucketName": s.bucket_name(), "keyPrefix": s.key_prefix().unwrap_or("")}))
        .unwrap_or(Value::Null);
    let flag = |v: Option<bool>| json!(v.unwrap_or(false));
    Ok(Some(ObservedResource {
        kind: LOGGING.into(),
        aws_name: invocation_logging::AWS_NAME.into(),
        attrs: Map::from_iter([
            ("cloudWatchConfig".to_string(), cloud_watch),
            ("s3Config".to_string(), s3),
            (
                "textDataDeliveryEnabled".to_string(),
                flag(config.text_data_delivery_enabled()),
            ),
            (
                "imageDataDeliveryEnabled".to_string(),
                flag(config.image_data_delivery_enabled()),
            ),
            (
                "embeddingDataDeliveryEnabled".to_string(),
                flag(config.embedding_data_delivery_enabled()),
            ),
            (
                "videoDataDeliveryEnabled".to_string(),
                flag(config.video_data_delivery_enabled()),
            ),
            (
                "audioDataDeliveryEnabled".to_string(),
                flag(config.audio_data_delivery_enabled()),
            ),
        ]),
        ..ObservedResource::default()
    }))
}

async fn tags_of(
    aws: &Aws,
    arn: &str,
    object: &str,
) -> Result<BTreeMap<String, String>, CloudError> {
    let out = aws
        .bedrock
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| classify("bedrock:ListTagsForResource", object, e))?;
    Ok(super::tag_map(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

/// The stack's Bedrock objects with their tags, from the Resource Groups Tagging
/// API in pages. Whether that index covers a type of Bedrock object (custom models,
/// customization jobs, provisioned throughput) is not something bedform assumes: a
/// type counts as covered once the index lists one of the stack's objects of it.
/// Objects of other types have their tags read one by one, as do declared objects
/// the index does not list (it trails fresh tags by a little).
struct TagIndex {
    owned: BTreeMap<String, BTreeMap<String, String>>,
    covered: std::collections::BTreeSet<String>,
}

/// `custom-model` of `arn:aws:bedrock:REGION:ACCOUNT:custom-model/...`.
fn arn_type(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    resource.split('/').next().unwrap_or_default()
}

impl TagIndex {
    async fn read(aws: &Aws, scope: &Scope) -> Result<TagIndex, CloudError> {
        let owned = super::tagged::owned(aws, &scope.stack, "bedrock").await?;
        let covered = owned.keys().map(|arn| arn_type(arn).to_string()).collect();
        Ok(TagIndex { owned, covered })
    }

    /// The tags of the object at `arn`, or none when it is neither this stack's nor
    /// `declared`, so its tags do not matter.
    async fn tags(
        &self,
        aws: &Aws,
        arn: &str,
        object: &str,
        declared: bool,
    ) -> Result<Option<BTreeMap<String, String>>, CloudError> {
        match self.lookup(arn, declared) {
            Lookup::Known(tags) => Ok(Some(tags.clone())),
            Lookup::NotNeeded => Ok(None),
            Lookup::Read => tags_of(aws, arn, object).await.map(Some),
        }
    }

    fn lookup(&self, arn: &str, declared: bool) -> Lookup<'_> {
        if let Some(tags) = self.owned.get(arn) {
            return Lookup::Known(tags);
        }
        if !declared && self.covered.contains(arn_type(arn)) {
            return Lookup::NotNeeded;
        }
        Lookup::Read
    }
}

/// What the tag index knows of one object.
#[derive(Debug, PartialEq)]
enum Lookup<'a> {
    /// The stack's, with these tags.
    Known(&'a BTreeMap<String, String>),
    /// Not the stack's, and not declared: its tags do not matter.
    NotNeeded,
    /// Unknown to the index: read its tags.
    Read,
}

fn owned_or_declared(
    scope: &Scope,
    kind: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> bool {
    tags.get(crate::model::TAG_STACK)
        .is_some_and(|s| s == &scope.stack)
        || scope.declares(kind, name)
}

async fn observe_custom_models(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    let summaries: Vec<_> = aws
        .bedrock
        .list_custom_models()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("bedrock:ListCustomModels", "the region", e))?
        .into_iter()
        .map(|m| {
            (
                m.model_name().to_string(),
                m.model_arn().to_string(),
                normalise_model(m.base_model_arn()),
                m.model_status().map(|s| s.as_str().to_string()),
            )
        })
        .collect();
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(summaries)
        .map(|(name, arn, base, status)| async move {
            let object = format!("custom model {name}");
            let declared = scope.declares(CUSTOM_MODEL, &name);
            let Some(tags) = index.tags(aws, &arn, &object, declared).await? else {
                return Ok(None);
            };
            Ok::<_, CloudError>(
                owned_or_declared(scope, CUSTOM_MODEL, &name, &tags).then(|| ObservedResource {
                    kind: CUSTOM_MODEL.into(),
                    aws_name: name,
                    arn: Some(arn),
                    tags,
                    status,
                    facts: Map::from_iter([("baseModel".to_string(), json!(base))]),
                    ..ObservedResource::default()
                }),
            )
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn observe_jobs(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    let summaries: Vec<(String, String)> = aws
        .bedrock
        .list_model_customization_jobs()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("bedrock:ListModelCustomizationJobs", "the region", e))?
        .into_iter()
        .map(|j| (j.job_name().to_string(), j.job_arn().to_string()))
        .collect();
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
            let Some(tags) = index.tags(aws, &arn, &object, declared).await? else {
                return Ok::<_, CloudError>(None);
            };
            if !declared && !owned_or_declared(scope, job::KIND, &name, &tags) {
                return Ok(None);
            }
            let mut observed = read_job(aws, &name).await?;
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
            return if e.class == ErrorClass::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    let kind = match out.customization_type() {
        Some(CustomizationType::Distillation) => "DISTILLATION",
        Some(CustomizationType::ContinuedPreTraining) => "CONTINUED_PRE_TRAINING",
        _ => "FINE_TUNING",
    };
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
    let hyper: BTreeMap<String, String> = out
        .hyper_parameters()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let vpc = out
        .vpc_config()
        .map(|v| {
            let mut subnets = v.subnet_ids().to_vec();
            subnets.sort();
            let mut groups = v.security_group_ids().to_vec();
            groups.sort();
            json!({"subnetIds": subnets, "securityGroupIds": groups})
        })
        .unwrap_or(Value::Null);
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
        attrs: Map::from_iter([
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
        ]),
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

fn commitment(d: Option<&CommitmentDuration>) -> &'static str {
    match d {
        Some(CommitmentDuration::OneMonth) => "oneMonth",
        Some(CommitmentDuration::SixMonths) => "sixMonths",
        _ => "none",
    }
}

async fn list_throughputs(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    let summaries = match aws
        .bedrock
        .list_provisioned_model_throughputs()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(summaries) => summaries,
        Err(e) if aws.emulator && super::errors::is_unimplemented(&e) => {
            crate::errln!(
                "warning: the endpoint does not implement bedrock:ListProvisionedModelThroughputs; planning as if the region had no provisioned throughput"
            );
            return Ok(Vec::new());
        }
        Err(e) => {
            return Err(classify(
                "bedrock:ListProvisionedModelThroughputs",
                "the region",
                e,
            ));
        }
    };
    let found: Vec<ObservedResource> = summaries
        .iter()
        .map(|t| {
            let mut facts = Map::new();
            if let Some(expiry) = t.commitment_expiration_time() {
                facts.insert(
                    "commitmentExpirationTime".into(),
                    json!(smithy_time(expiry)),
                );
            }
            facts.insert("creationTime".into(), json!(smithy_time(t.creation_time())));
            ObservedResource {
                kind: pt::KIND.into(),
                aws_name: t.provisioned_model_name().to_string(),
                arn: Some(t.provisioned_model_arn().to_string()),
                attrs: Map::from_iter([
                    (
                        "model".to_string(),
                        json!(normalise_model(t.desired_model_arn())),
                    ),
                    ("modelUnits".to_string(), json!(t.desired_model_units())),
                    (
                        "commitment".to_string(),
                        json!(commitment(t.commitment_duration())),
                    ),
                ]),
                status: Some(t.status().as_str().to_string()),
                facts,
                ..ObservedResource::default()
            }
        })
        .collect();
    let tagged: Vec<Option<ObservedResource>> = futures::stream::iter(found)
        .map(|mut t| async move {
            let arn = t.arn.clone().unwrap_or_default();
            let object = format!("provisioned throughput {}", t.aws_name);
            let declared = scope.declares(pt::KIND, &t.aws_name);
            let Some(tags) = index.tags(aws, &arn, &object, declared).await? else {
                return Ok(None);
            };
            t.tags = tags;
            Ok::<_, CloudError>(
                owned_or_declared(scope, pt::KIND, &t.aws_name, &t.tags).then_some(t),
            )
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(tagged.into_iter().flatten().collect())
}

async fn observe_model_access(
    aws: &Aws,
    scope: &Scope,
) -> Result<Option<ObservedResource>, CloudError> {
    if scope.models.is_empty() && !scope.use_case_form && !scope.declares_kind(MODEL_ACCESS) {
        return Ok(None);
    }
    let mut agreements = Vec::new();
    let mut availability = Map::new();
    for model in &scope.models {
        let out = aws
            .bedrock
            .get_foundation_model_availability()
            .model_id(model)
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:GetFoundationModelAvailability",
                    &format!("model {model}"),
                    e,
                )
            })?;
        let agreement = out
            .agreement_availability()
            .map(|a| a.status().as_str().to_string())
            .unwrap_or_default();
        if agreement == "AVAILABLE" {
            agreements.push(model.clone());
        }
        availability.insert(
            model.clone(),
            json!({
                "agreementAvailability": agreement,
                "authorizationStatus": out.authorization_status().as_str(),
                "entitlementAvailability": out.entitlement_availability().as_str(),
                "regionAvailability": out.region_availability().as_str(),
            }),
        );
    }
    let form = if scope.use_case_form {
        match aws.bedrock.get_use_case_for_model_access().send().await {
            Ok(out) => {
                serde_json::from_slice::<Value>(out.form_data().as_ref()).unwrap_or(Value::Null)
            }
            Err(e) => {
                let e = classify("bedrock:GetUseCaseForModelAccess", "the account", e);
                if e.class == ErrorClass::NotFound {
                    Value::Null
                } else {
                    return Err(e);
                }
            }
        }
    } else {
        Value::Null
    };
    Ok(Some(ObservedResource {
        kind: MODEL_ACCESS.into(),
        aws_name: model_access::AWS_NAME.into(),
        attrs: Map::from_iter([
            ("agreements".to_string(), json!(agreements)),
            ("useCaseForm".to_string(), form),
        ]),
        facts: Map::from_iter([("availability".to_string(), Value::Object(availability))]),
        ..ObservedResource::default()
    }))
}

pub async fn get(
    aws: &Aws,
    kind: &str,
    name: &str,
) -> Result<Option<ObservedResource>, CloudError> {
    match kind {
        job::KIND => read_job(aws, name).await,
        CUSTOM_MODEL => match aws
            .bedrock
            .get_custom_model()
            .model_identifier(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObservedResource {
                kind: CUSTOM_MODEL.into(),
                aws_name: name.to_string(),
                arn: Some(out.model_arn().to_string()),
                facts: Map::from_iter([(
                    "baseModel".to_string(),
                    json!(out.base_model_arn().map(normalise_model)),
                )]),
                ..ObservedResource::default()
            })),
            Err(e) => {
                let e = classify("bedrock:GetCustomModel", &format!("custom model {name}"), e);
                if e.class == ErrorClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        },
        pt::KIND => match aws
            .bedrock
            .get_provisioned_model_throughput()
            .provisioned_model_id(name)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObservedResource {
                kind: pt::KIND.into(),
                aws_name: name.to_string(),
                arn: Some(out.provisioned_model_arn().to_string()),
                status: Some(out.status().as_str().to_string()),
                status_message: out.failure_message().map(str::to_string),
                ..ObservedResource::default()
            })),
            Err(e) => {
                let e = classify(
                    "bedrock:GetProvisionedModelThroughput",
                    &format!("provisioned throughput {name}"),
                    e,
                );
                if e.class == ErrorClass::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        },
        LOGGING => observe_logging(aws).await,
        _ => Ok(None),
    }
}

/// Adds `tags` to a job, custom model or throughput, keeping its other tags.
pub async fn add_tags(
    aws: &Aws,
    kind: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let object = format!("{kind} {name}");
    let arn = get(aws, kind, name)
        .await?
        .and_then(|o| o.arn)
        .ok_or_else(|| {
            CloudError::new(
                ErrorClass::NotFound,
                format!("bedrock:TagResource on {object}"),
                "it does not exist or takes no tags",
            )
        })?;
    aws.bedrock
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(bedrock_tags(tags)?))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("bedrock:TagResource", &object, e))
}

fn bedrock_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, CloudError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("bedrock:TagResource", e))
}

/// The ARN to send for a model identity.
async fn model_id(aws: &Aws, model: &str) -> Result<String, CloudError> {
    match custom_model_name(model) {
        Some(name) => match get(aws, CUSTOM_MODEL, name).await? {
            Some(m) => Ok(m.arn.unwrap_or_else(|| name.to_string())),
            None => Err(CloudError::new(
                ErrorClass::NotFound,
                format!("custom model {name}"),
                "it does not exist (yet)",
            )),
        },
        None => Ok(model.to_string()),
    }
}

pub async fn execute(aws: &Aws, op: &Op) -> Result<(), CloudError> {
    match op {
        Op::Create {
            kind,
            name,
            attrs,
            tags,
            client_request_token,
        } => match kind.as_str() {
            LOGGING => put_logging(aws, attrs).await,
            job::KIND => create_job(aws, name, attrs, tags, client_request_token.as_deref()).await,
            pt::KIND => {
                create_throughput(aws, name, attrs, tags, client_request_token.as_deref()).await
            }
            other => Err(invalid(&format!("create {other}"), "not a Bedrock kind")),
        },
        Op::Update {
            kind,
            name,
            attrs,
            tags,
            fields,
            current_name,
        } => match kind.as_str() {
            LOGGING => put_logging(aws, attrs).await,
            MODEL_ACCESS => update_model_access(aws, attrs).await,
            pt::KIND => {
                update_throughput(aws, name, current_name.as_deref(), attrs, tags, fields).await
            }
            other => Err(invalid(&format!("update {other}"), "not updatable")),
        },
        Op::Delete { kind, name, .. } => {
            let result = match kind.as_str() {
                LOGGING => aws
                    .bedrock
                    .delete_model_invocation_logging_configuration()
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        classify(
                            "bedrock:DeleteModelInvocationLoggingConfiguration",
                            "the region",
                            e,
                        )
                    }),
                CUSTOM_MODEL => aws
                    .bedrock
                    .delete_custom_model()
                    .model_identifier(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        classify(
                            "bedrock:DeleteCustomModel",
                            &format!("custom model {name}"),
                            e,
                        )
                    }),
                pt::KIND => aws
                    .bedrock
                    .delete_provisioned_model_throughput()
                    .provisioned_model_id(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        classify(
                            "bedrock:DeleteProvisionedModelThroughput",
                            &format!("provisioned throughput {name}"),
                            e,
                        )
                    }),
                other => Err(invalid(&format!("delete {other}"), "not a Bedrock kind")),
            };
            match result {
                Err(e) if e.class == ErrorClass::NotFound => Ok(()),
                other => other,
            }
        }
        Op::StopJob { name } => match aws
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
        },
        Op::Untag { kind, name, keys } => {
            let Some(found) = get(aws, kind, name).await? else {
                return Ok(());
            };
            let arn = found.arn.unwrap_or_default();
            aws.bedrock
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(keys.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("bedrock:UntagResource", &format!("{kind} {name}"), e))
        }
    }
}

async fn put_logging(aws: &Aws, attrs: &Map<String, Value>) -> Result<(), CloudError> {
    let op = "bedrock:PutModelInvocationLoggingConfiguration";
    let flag = |key: &str| attrs.get(key).and_then(Value::as_bool).unwrap_or(false);
    let s3_config = |v: &Value| -> Result<S3Config, CloudError> {
        S3Config::builder()
            .bucket_name(
                v.get("bucketName")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
            .key_prefix(
                v.get("keyPrefix")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
            .build()
            .map_err(|e| invalid(op, e))
    };
    // Every delivery flag is sent explicitly: AWS's defaults for new flags drift.
    let mut config = LoggingConfig::builder()
        .text_data_delivery_enabled(flag("textDataDeliveryEnabled"))
        .image_data_delivery_enabled(flag("imageDataDeliveryEnabled"))
        .embedding_data_delivery_enabled(flag("embeddingDataDeliveryEnabled"))
        .video_data_delivery_enabled(flag("videoDataDeliveryEnabled"))
        .audio_data_delivery_enabled(flag("audioDataDeliveryEnabled"));
    if let Some(cw) = attrs.get("cloudWatchConfig").filter(|v| !v.is_null()) {
        let mut builder = CloudWatchConfig::builder()
            .log_group_name(
                cw.get("logGroupName")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
            .role_arn(
                cw.get("roleArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            );
        if let Some(large) = cw.get("largeDataDeliveryS3Config").filter(|v| !v.is_null()) {
            builder = builder.large_data_delivery_s3_config(s3_config(large)?);
        }
        config = config.cloud_watch_config(builder.build().map_err(|e| invalid(op, e))?);
    }
    if let Some(s3) = attrs.get("s3Config").filter(|v| !v.is_null()) {
        config = config.s3_config(s3_config(s3)?);
    }
    aws.bedrock
        .put_model_invocation_logging_configuration()
        .logging_config(config.build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(op, "the region's invocation logging", e))
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
    let training = attrs.get("trainingData").cloned().unwrap_or(Value::Null);
    let mut training_config = TrainingDataConfig::builder().set_s3_uri(
        training
            .get("s3Uri")
            .and_then(Value::as_str)
            .map(str::to_string),
    );
    if let Some(logs) = training.get("invocationLogs") {
        training_config = training_config.invocation_logs_config(
            InvocationLogsConfig::builder()
                .use_prompt_response(
                    logs.get("usePromptResponse")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                )
                .invocation_log_source(InvocationLogSource::S3Uri(
                    logs.get("s3Uri")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                ))
                .set_request_metadata_filters(
                    logs.get("requestMetadataFilters")
                        .and_then(metadata_filters),
                )
                .build(),
        );
    }
    let customization_type = match attr_str(attrs, "customizationType") {
        Some("DISTILLATION") => CustomizationType::Distillation,
        Some("CONTINUED_PRE_TRAINING") => CustomizationType::ContinuedPreTraining,
        _ => CustomizationType::FineTuning,
    };
    let mut create = aws
        .bedrock
        .create_model_customization_job()
        .job_name(name)
        .custom_model_name(attr_str(attrs, "customModelName").unwrap_or(name))
        .role_arn(attr_str(attrs, "roleArn").unwrap_or_default())
        .base_model_identifier(attr_str(attrs, "baseModel").unwrap_or_default())
        .customization_type(customization_type)
        .training_data_config(training_config.build())
        .output_data_config(
            OutputDataConfig::builder()
                .s3_uri(attr_str(attrs, "outputS3Uri").unwrap_or_default())
                .build()
                .map_err(|e| invalid(op, e))?,
        )
        .set_client_request_token(token.map(str::to_string))
        .set_job_tags(Some(bedrock_tags(tags)?))
        .set_custom_model_tags(Some(bedrock_tags(tags)?))
        .set_custom_model_kms_key_id(attr_str(attrs, "customModelKmsKeyId").map(str::to_string));
    let validators = attrs
        .get("validationData")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("s3Uri").and_then(Value::as_str))
        .map(|uri| {
            Validator::builder()
                .s3_uri(uri)
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
    for (k, v) in attrs
        .get("hyperParameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        create = create.hyper_parameters(k, v.as_str().unwrap_or_default());
    }
    if let Some(teacher) = attrs.get("teacher").filter(|t| !t.is_null()) {
        let config = TeacherModelConfig::builder()
            .teacher_model_identifier(
                teacher
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
            .set_max_response_length_for_inference(
                teacher
                    .get("maxResponseLength")
                    .and_then(Value::as_i64)
                    .map(|n| n as i32),
            )
            .build()
            .map_err(|e| invalid(op, e))?;
        create = create.customization_config(CustomizationConfig::DistillationConfig(
            DistillationConfig::builder()
                .teacher_model_config(config)
                .build(),
        ));
    }
    if let Some(vpc) = attrs.get("vpcConfig").filter(|v| !v.is_null()) {
        let strings = |key: &str| -> Vec<String> {
            vpc.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        create = create.vpc_config(
            VpcConfig::builder()
                .set_subnet_ids(Some(strings("subnetIds")))
                .set_security_group_ids(Some(strings("securityGroupIds")))
                .build()
                .map_err(|e| invalid(op, e))?,
        );
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

async fn create_throughput(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateProvisionedModelThroughput";
    let model = model_id(aws, attr_str(attrs, "model").unwrap_or_default()).await?;
    let duration = match attr_str(attrs, "commitment") {
        Some("oneMonth") => Some(CommitmentDuration::OneMonth),
        Some("sixMonths") => Some(CommitmentDuration::SixMonths),
        _ => None,
    };
    aws.bedrock
        .create_provisioned_model_throughput()
        .provisioned_model_name(name)
        .model_id(model)
        .model_units(attrs.get("modelUnits").and_then(Value::as_i64).unwrap_or(1) as i32)
        .set_commitment_duration(duration)
        .set_client_request_token(token.map(str::to_string))
        .set_tags(Some(bedrock_tags(tags)?))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(op, &format!("provisioned throughput {name}"), e))
}

async fn update_throughput(
    aws: &Aws,
    name: &str,
    current: Option<&str>,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    fields: &[String],
) -> Result<(), CloudError> {
    let op = "bedrock:UpdateProvisionedModelThroughput";
    let id = current.unwrap_or(name);
    let mut update = aws
        .bedrock
        .update_provisioned_model_throughput()
        .provisioned_model_id(id);
    if current.is_some_and(|c| c != name) {
        update = update.desired_provisioned_model_name(name);
    }
    if fields.iter().any(|f| f == "model") {
        update = update
            .desired_model_id(model_id(aws, attr_str(attrs, "model").unwrap_or_default()).await?);
    }
    if current.is_some_and(|c| c != name) || fields.iter().any(|f| f == "model") {
        update
            .send()
            .await
            .map_err(|e| classify(op, &format!("provisioned throughput {id}"), e))?;
    }
    if fields.iter().any(|f| f == "tags") {
        let object = format!("provisioned throughput {name}");
        let arn = get(aws, pt::KIND, name)
            .await?
            .and_then(|t| t.arn)
            .unwrap_or_default();
        let current = tags_of(aws, &arn, &object).await?;
        let stale = super::stale_tag_keys(current.keys().map(String::as_str), tags);
        if !stale.is_empty() {
            aws.bedrock
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(stale))
                .send()
                .await
                .map_err(|e| classify("bedrock:UntagResource", &object, e))?;
        }
        aws.bedrock
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(bedrock_tags(tags)?))
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:TagResource",
                    &format!("provisioned throughput {name}"),
                    e,
                )
            })?;
    }
    Ok(())
}

async fn update_model_access(aws: &Aws, attrs: &Map<String, Value>) -> Result<(), CloudError> {
    for entry in attrs
        .get("createAgreements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let model = entry
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let offer_type = if entry.get("offerType").and_then(Value::as_str) == Some("all") {
            OfferType::All
        } else {
            OfferType::Public
        };
        let offers = aws
            .bedrock
            .list_foundation_model_agreement_offers()
            .model_id(model)
            .offer_type(offer_type)
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:ListFoundationModelAgreementOffers",
                    &format!("model {model}"),
                    e,
                )
            })?;
        // Offer tokens are volatile: fetched now, never stored or compared.
        let wanted = entry.get("offerId").and_then(Value::as_str);
        let offer = offers
            .offers()
            .iter()
            .find(|o| wanted.is_none() || o.offer_id() == wanted)
            .ok_or_else(|| {
                CloudError::new(
                    ErrorClass::NotFound,
                    format!("agreement offers for {model}"),
                    "no matching offer",
                )
            })?;
        aws.bedrock
            .create_foundation_model_agreement()
            .model_id(model)
            .offer_token(offer.offer_token())
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:CreateFoundationModelAgreement",
                    &format!("model {model}"),
                    e,
                )
            })?;
    }
    for model in attrs
        .get("deleteAgreements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        aws.bedrock
            .delete_foundation_model_agreement()
            .model_id(model)
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:DeleteFoundationModelAgreement",
                    &format!("model {model}"),
                    e,
                )
            })?;
    }
    if let Some(form) = attrs.get("useCaseForm").filter(|v| !v.is_null()) {
        aws.bedrock
            .put_use_case_for_model_access()
            .form_data(Blob::new(form.to_string().into_bytes()))
            .send()
            .await
            .map_err(|e| {
                classify(
                    "bedrock:PutUseCaseForModelAccess",
                    "the account's use-case form",
                    e,
                )
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tag_index_tests {
    use super::*;

    const JOB: &str = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/abcdefghijkl";
    const OTHER_JOB: &str = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.nova-lite-v1:0:300k/zzzzzzzzzzzz";
    const THROUGHPUT: &str =
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdefghijkl";

    fn index(owned: &[&str]) -> TagIndex {
        let owned: BTreeMap<String, BTreeMap<String, String>> = owned
            .iter()
            .map(|arn| {
                let tags = BTreeMap::from([("bedform:stack".to_string(), "demo".to_string())]);
                (arn.to_string(), tags)
            })
            .collect();
        let covered = owned.keys().map(|arn| arn_type(arn).to_string()).collect();
        TagIndex { owned, covered }
    }

    #[test]
    fn the_type_of_an_arn_is_its_resource_kind() {
        assert_eq!(arn_type(JOB), "model-customization-job");
        assert_eq!(arn_type(THROUGHPUT), "provisioned-model");
        assert_eq!(arn_type("not-an-arn"), "");
    }

    #[test]
    fn only_types_the_index_has_shown_it_covers_are_trusted() {
        let index = index(&[JOB]);
        assert!(matches!(index.lookup(JOB, false), Lookup::Known(_)));
        // Jobs are covered: an unlisted, undeclared job is someone else's.
        assert_eq!(index.lookup(OTHER_JOB, false), Lookup::NotNeeded);
        // ... but a declared one may just be fresh: read it.
        assert_eq!(index.lookup(OTHER_JOB, true), Lookup::Read);
        // Throughputs are not known to be covered: read, declared or not.
        assert_eq!(index.lookup(THROUGHPUT, false), Lookup::Read);
        // An index that listed nothing proves nothing.
        assert_eq!(self::index(&[]).lookup(JOB, false), Lookup::Read);
    }
}
