//! How application inference profiles are read and written through the SDK
//! (`Create/Get/List/DeleteInferenceProfile`). A profile is found by its name
//! among the region's application profiles (the API identifies one by its id or
//! ARN); the model it was copied from is kept in its `bedform:copy-from` tag,
//! which the plan never sees as a tag.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_bedrock::types::{
    InferenceProfileModelSource, InferenceProfileSummary, InferenceProfileType,
};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use super::{KIND, ProfileState, TAG_COPY_FROM};
use crate::cloud::aws::bedrock::{self, TagIndex, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify, errors::is_unimplemented, tagged};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
use crate::kinds::state::state_of;
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};

/// The type in an application inference profile's ARN.
const ARN_TYPE: &str = "application-inference-profile";

fn object(name: &str) -> String {
    format!("inference profile {name}")
}

/// The region's application inference profiles.
async fn list(aws: &Aws) -> Result<Option<Vec<InferenceProfileSummary>>, CloudError> {
    match aws
        .bedrock
        .list_inference_profiles()
        .type_equals(InferenceProfileType::Application)
        .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(found) => Ok(Some(found)),
        Err(e) if aws.emulator && is_unimplemented(&e) => Ok(None),
        Err(e) => Err(classify("bedrock:ListInferenceProfiles", "the region", e)),
    }
}

/// A profile as the plan sees it: `model` from its copy-from tag (else the one
/// model it routes to), that tag left out of its tags.
fn observed(p: &InferenceProfileSummary, mut tags: BTreeMap<String, String>) -> ObservedResource {
    let recorded = tags.remove(TAG_COPY_FROM);
    let known = recorded.is_some();
    let model = recorded.or_else(|| match p.models() {
        [one] => one.model_arn().map(crate::models::normalise_model),
        _ => None,
    });
    let mut attrs = Map::new();
    attrs.insert(
        "model".into(),
        model.map(Value::String).unwrap_or(Value::Null),
    );
    if let Some(d) = p.description() {
        attrs.insert("description".into(), json!(d));
    }
    let routes: Vec<Value> = p
        .models()
        .iter()
        .filter_map(|m| m.model_arn().map(|a| json!(a)))
        .collect();
    ObservedResource {
        kind: KIND.into(),
        aws_name: p.inference_profile_name().to_string(),
        arn: Some(p.inference_profile_arn().to_string()),
        attrs,
        tags,
        status: Some(p.status().as_str().to_string()),
        facts: Map::from_iter([
            ("models".to_string(), Value::Array(routes)),
            ("copyFromRecorded".to_string(), Value::Bool(known)),
        ]),
        ..ObservedResource::default()
    }
}

async fn observe_profiles(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    if !index.needs_listing(scope, KIND, &[ARN_TYPE]) {
        return Ok(Vec::new());
    }
    let Some(profiles) = list(aws).await? else {
        crate::errln!(
            "warning: the endpoint does not implement bedrock:ListInferenceProfiles; planning as if the region had no application inference profile"
        );
        return Ok(Vec::new());
    };
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(profiles)
        .map(|p| async move {
            let name = p.inference_profile_name().to_string();
            let declared = scope.declares(KIND, &name);
            let arn = p.inference_profile_arn();
            let Some(tags) = index.tags(aws, arn, &object(&name), declared, true).await? else {
                return Ok(None);
            };
            Ok::<_, CloudError>(
                owned_or_declared(scope, KIND, &name, &tags).then(|| observed(&p, tags)),
            )
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn get_profile(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    let Some(profiles) = list(aws).await? else {
        return Ok(None);
    };
    let Some(p) = profiles
        .into_iter()
        .find(|p| p.inference_profile_name() == name)
    else {
        return Ok(None);
    };
    let tags = bedrock::tags_of(aws, p.inference_profile_arn(), &object(name)).await?;
    Ok(Some(observed(&p, tags)))
}

/// The ARN `copyFrom` takes for a declared model: an ARN as it is, a system
/// profile id (geography prefix) as this account's profile, a model id as the
/// region's foundation model.
async fn copy_from(aws: &Aws, model: &str) -> Result<String, CloudError> {
    if model.starts_with("arn:") {
        return Ok(model.to_string());
    }
    let profile = ["us.", "eu.", "apac.", "global.", "us-gov."]
        .iter()
        .any(|p| model.starts_with(p));
    Ok(if profile {
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{model}",
            aws.region,
            aws.account().await?
        )
    } else {
        crate::models::foundation_model_arn(&aws.region, model)
    })
}

/// The tags sent: the plan's, and the model copied from.
fn with_copy_from(tags: &BTreeMap<String, String>, model: &str) -> BTreeMap<String, String> {
    let mut all = tags.clone();
    all.insert(TAG_COPY_FROM.into(), model.to_string());
    all
}

async fn create_profile(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateInferenceProfile";
    let state: ProfileState = state_of(attrs, op)?;
    let out = aws
        .bedrock
        .create_inference_profile()
        .inference_profile_name(name)
        .set_description(state.description.clone())
        .model_source(InferenceProfileModelSource::CopyFrom(
            copy_from(aws, &state.model).await?,
        ))
        .set_tags(Some(bedrock::bedrock_tags(&with_copy_from(
            tags,
            &state.model,
        ))?))
        .set_client_request_token(token.map(str::to_string))
        .send()
        .await
        .map_err(|e| classify(op, &object(name), e))?;
    tagged::await_indexed(aws, out.inference_profile_arn(), tags, &object(name)).await;
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
        observe_profiles(aws, reads.scope, reads.bedrock_index(aws).await?).await
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        get_profile(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_profile(aws, name, attrs, tags, client_request_token.as_deref()).await,
            // Only the tags change in place.
            Op::Update {
                name, attrs, tags, ..
            } => {
                let state: ProfileState = state_of(attrs, "bedrock:TagResource")?;
                let arn = get_profile(aws, name)
                    .await?
                    .and_then(|p| p.arn)
                    .unwrap_or_default();
                bedrock::set_tags(
                    aws,
                    &arn,
                    &object(name),
                    &with_copy_from(tags, &state.model),
                )
                .await
            }
            Op::Delete { name, .. } => {
                let Some(arn) = get_profile(aws, name).await?.and_then(|p| p.arn) else {
                    return Ok(());
                };
                bedrock::gone_is_done(
                    aws.bedrock
                        .delete_inference_profile()
                        .inference_profile_identifier(arn)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| classify("bedrock:DeleteInferenceProfile", &object(name), e)),
                )
            }
            Op::Untag { name, keys, .. } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &object(name), keys).await
            }
            Op::StopJob { .. } => Err(bedrock::unsupported(op, "a profile is not a job")),
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
