//! How custom model deployments are read and written through the SDK.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_bedrock::types::CustomModelDeploymentUpdateStatus;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use super::{DeploymentState, KIND, UPDATE_FAILED, UPDATING};
use crate::cloud::aws::bedrock::{self, TagIndex, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify, smithy_time, tagged};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
use crate::kinds::customization_job::custom_model_aws::{model_arn, name_served_models};
use crate::kinds::state::{attrs_of, state_of};
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};

/// The type in a deployment's ARN.
const ARN_TYPE: &str = "custom-model-deployment";

fn object(name: &str) -> String {
    format!("custom model deployment {name}")
}

/// The region's deployments that are the stack's or declared, each read whole
/// (the listing carries neither the description nor a running update).
async fn list_deployments(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    if !index.needs_listing(scope, KIND, &[ARN_TYPE]) {
        return Ok(Vec::new());
    }
    let summaries: Vec<_> = match aws
        .bedrock
        .list_custom_model_deployments()
        .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(summaries) => summaries,
        Err(e) if aws.emulator && crate::cloud::aws::errors::is_unimplemented(&e) => {
            crate::errln!(
                "warning: the endpoint does not implement bedrock:ListCustomModelDeployments; planning as if the region had no custom model deployment"
            );
            return Ok(Vec::new());
        }
        Err(e) => {
            return Err(classify(
                "bedrock:ListCustomModelDeployments",
                "the region",
                e,
            ));
        }
    };
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(summaries)
        .map(|d| async move {
            let name = d.custom_model_deployment_name().to_string();
            let arn = d.custom_model_deployment_arn();
            let declared = scope.declares(KIND, &name);
            // Deployment names are the manifests' own: any may be the stack's.
            let Some(tags) = index.tags(aws, arn, &object(&name), declared, true).await? else {
                return Ok(None);
            };
            if !owned_or_declared(scope, KIND, &name, &tags) {
                return Ok(None);
            }
            // Gone since it was listed: nothing to plan for.
            Ok::<_, CloudError>(get_deployment(aws, &name).await?.map(|mut d| {
                d.tags = tags;
                d
            }))
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// One deployment by name or ARN. While an update swaps its model, it is observed
/// with the update's status and the model it is being pointed at (so the plan does
/// not send the swap again); a failed update leaves the model it still serves.
async fn get_deployment(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    let out = match aws
        .bedrock
        .get_custom_model_deployment()
        .custom_model_deployment_identifier(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            return classify("bedrock:GetCustomModelDeployment", &object(name), e)
                .absent_if_not_found();
        }
    };
    let mut status = out.status().as_str().to_string();
    let mut model = out.model_arn().to_string();
    let mut facts = Map::new();
    facts.insert("createdAt".into(), json!(smithy_time(out.created_at())));
    if let Some(update) = out.update_details() {
        facts.insert("updateModelArn".into(), json!(update.model_arn()));
        match update.update_status() {
            CustomModelDeploymentUpdateStatus::Updating => {
                status = UPDATING.into();
                model = update.model_arn().to_string();
            }
            CustomModelDeploymentUpdateStatus::UpdateFailed => status = UPDATE_FAILED.into(),
            _ => {}
        }
    }
    Ok(Some(ObservedResource {
        kind: KIND.into(),
        aws_name: out.model_deployment_name().to_string(),
        arn: Some(out.custom_model_deployment_arn().to_string()),
        attrs: attrs_of(&DeploymentState {
            model,
            description: out.description().map(str::to_string),
        }),
        status: Some(status),
        status_message: out.failure_message().map(str::to_string),
        facts,
        ..ObservedResource::default()
    }))
}

async fn create_deployment(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateCustomModelDeployment";
    let state: DeploymentState = state_of(attrs, op)?;
    let out = aws
        .bedrock
        .create_custom_model_deployment()
        .model_deployment_name(name)
        .model_arn(model_arn(aws, &state.model).await?)
        .set_description(state.description)
        .set_client_request_token(token.map(str::to_string))
        .set_tags(Some(bedrock::bedrock_tags(tags)?))
        .send()
        .await
        .map_err(|e| classify(op, &object(name), e))?;
    tagged::await_indexed(aws, out.custom_model_deployment_arn(), tags, &object(name)).await;
    Ok(())
}

async fn update_deployment(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    fields: &[String],
) -> Result<(), CloudError> {
    let op = "bedrock:UpdateCustomModelDeployment";
    if fields.iter().any(|f| f == "model") {
        let state: DeploymentState = state_of(attrs, op)?;
        aws.bedrock
            .update_custom_model_deployment()
            .custom_model_deployment_identifier(name)
            .model_arn(model_arn(aws, &state.model).await?)
            .send()
            .await
            .map_err(|e| classify(op, &object(name), e))?;
    }
    if fields.iter().any(|f| f == "tags") {
        let arn = get_deployment(aws, name)
            .await?
            .and_then(|d| d.arn)
            .unwrap_or_default();
        bedrock::set_tags(aws, &arn, &object(name), tags).await?;
    }
    Ok(())
}

/// The kind's AWS face.
pub struct Face;
pub static AWS: Face = Face;

#[async_trait]
impl AwsFace for Face {
    async fn observe(
        &self,
        aws: &Aws,
        reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError> {
        list_deployments(aws, reads.scope, reads.bedrock_index(aws).await?).await
    }
    fn after_read(&self, all: &mut [ObservedResource]) {
        name_served_models(all, KIND);
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        get_deployment(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_deployment(aws, name, attrs, tags, client_request_token.as_deref()).await,
            Op::Update {
                name,
                attrs,
                tags,
                fields,
                ..
            } => update_deployment(aws, name, attrs, tags, fields).await,
            Op::Delete { name, .. } => bedrock::gone_is_done(
                aws.bedrock
                    .delete_custom_model_deployment()
                    .custom_model_deployment_identifier(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify("bedrock:DeleteCustomModelDeployment", &object(name), e)),
            ),
            Op::Untag { name, keys, .. } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &object(name), keys).await
            }
            Op::StopJob { .. } => Err(bedrock::unsupported(op, "a deployment is not a job")),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let found = self.get(aws, name).await?;
        bedrock::add_tags_then_index(aws, found, &object(name), tags).await
    }
}
