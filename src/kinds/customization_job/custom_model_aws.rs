//! How custom models are read and written through the SDK: the ones jobs train
//! (read, tagged, deleted) and the ones brought in from outside
//! (`CreateCustomModel`); and what the kinds that serve a model need of them.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_bedrock::types::{
    CustomModelDataSource, ModelDataSource, ModelPackageArnDataSource, S3DataSource,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use crate::cloud::aws::bedrock::{self, invalid, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::aws_face::AwsFace;
use crate::kinds::customization_job::{self as job, CUSTOM_MODEL};
use crate::kinds::state::state_of;
use crate::model::ObservedResource;
use crate::model::plan::Op;
use crate::models::{custom_model_name, normalise_model};

async fn observe_custom_models(
    aws: &Aws,
    reads: &Reads<'_>,
) -> Result<Vec<ObservedResource>, CloudError> {
    let scope = reads.scope;
    // The listing does not wait for the tagging index: both at once.
    let listing = async {
        let summaries: Vec<_> = aws
            .bedrock
            .list_custom_models()
            .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
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
        Ok::<_, CloudError>(summaries)
    };
    let (index, summaries) = futures::try_join!(reads.bedrock_index(aws), listing)?;
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(summaries)
        .map(|(name, arn, base, status)| async move {
            let object = format!("custom model {name}");
            let declared = scope.declares(CUSTOM_MODEL, &name);
            let ours = job::named_by_bedform(&name);
            let Some(tags) = index.tags(aws, &arn, &object, declared, ours).await? else {
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

/// A custom model brought in from outside (`CreateCustomModel`), from S3 or a
/// SageMaker AI model package.
async fn create_custom_model(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateCustomModel";
    let state: job::CustomModelState = state_of(attrs, op)?;
    let mut create = aws
        .bedrock
        .create_custom_model()
        .model_name(name)
        .set_role_arn(state.role_arn.clone())
        .set_model_kms_key_arn(state.kms_key_arn.clone())
        .set_model_tags(Some(bedrock::bedrock_tags(tags)?))
        .set_client_request_token(token.map(str::to_string));
    if let Some(uri) = &state.source_s3_uri {
        create = create.model_source_config(ModelDataSource::S3DataSource(
            S3DataSource::builder()
                .s3_uri(uri)
                .build()
                .map_err(|e| invalid(op, e))?,
        ));
    }
    if let Some(package) = &state.model_package_arn {
        create = create.custom_model_data_source(CustomModelDataSource::ModelPackageArnDataSource(
            ModelPackageArnDataSource::builder()
                .model_package_arn(package)
                .build()
                .map_err(|e| invalid(op, e))?,
        ));
    }
    create
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(op, &format!("custom model {name}"), e))
}

pub(super) async fn get_custom_model(
    aws: &Aws,
    name: &str,
) -> Result<Option<ObservedResource>, CloudError> {
    match aws
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
            status: out.model_status().map(|s| s.as_str().to_string()),
            status_message: out.failure_message().map(str::to_string),
            facts: Map::from_iter([(
                "baseModel".to_string(),
                json!(out.base_model_arn().map(normalise_model)),
            )]),
            ..ObservedResource::default()
        })),
        Err(e) => {
            let e = classify("bedrock:GetCustomModel", &format!("custom model {name}"), e);
            e.absent_if_not_found()
        }
    }
}

/// In the objects of `kind` (which serve a `model`), a custom model's ARN becomes
/// its identity `custom-model/NAME`, as the manifests write it, for the custom
/// models read.
pub fn name_served_models(all: &mut [ObservedResource], kind: &str) {
    let names: HashMap<String, String> = all
        .iter()
        .filter(|m| m.kind == CUSTOM_MODEL)
        .filter_map(|m| m.arn.clone().map(|arn| (arn, m.aws_name.clone())))
        .collect();
    for t in all.iter_mut().filter(|t| t.kind == kind) {
        if let Some(model) = t.attrs.get("model").and_then(Value::as_str)
            && let Some(name) = names.get(model)
        {
            t.attrs.insert(
                "model".into(),
                Value::String(crate::models::custom_model_identity(name)),
            );
        }
    }
}

/// The ARN to send for a model identity: a custom model's (`custom-model/NAME`)
/// is looked up, any other is sent as it is.
pub async fn model_arn(aws: &Aws, model: &str) -> Result<String, CloudError> {
    match custom_model_name(model) {
        Some(name) => match get_custom_model(aws, name).await? {
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

/// The custom model's AWS face.
pub struct CustomModelFace;
pub static CUSTOM_MODEL_AWS: CustomModelFace = CustomModelFace;

#[async_trait]
impl AwsFace for CustomModelFace {
    async fn observe(
        &self,
        aws: &Aws,
        reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError> {
        observe_custom_models(aws, reads).await
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        get_custom_model(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Delete { name, .. } => bedrock::gone_is_done(
                aws.bedrock
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
            ),
            Op::Untag { kind, name, keys } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &format!("{kind} {name}"), keys).await
            }
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_custom_model(aws, name, attrs, tags, client_request_token.as_deref()).await,
            Op::Update { name, tags, .. } => {
                let arn = self
                    .get(aws, name)
                    .await?
                    .and_then(|m| m.arn)
                    .ok_or_else(|| {
                        invalid(
                            "bedrock:TagResource",
                            format!("custom model {name} does not exist"),
                        )
                    })?;
                bedrock::set_tags(aws, &arn, &format!("custom model {name}"), tags).await
            }
            Op::StopJob { .. } => Err(bedrock::unsupported(op, "a custom model is not a job")),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let found = self.get(aws, name).await?;
        bedrock::add_tags_to(aws, found, &format!("{CUSTOM_MODEL} {name}"), tags).await
    }
}
