//! How guardrails are read and written through the SDK
//! (`Create/Get/List/Update/DeleteGuardrail`, `CreateGuardrailVersion`). A
//! guardrail is found by its name among the region's DRAFTs (the API names one
//! by its id or ARN); its versions are listed with `ListGuardrails` for its id.
//! Creates and updates wait until the guardrail is `READY` again (seconds),
//! since a version can only be published then.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_bedrock::types::GuardrailSummary;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use super::{GuardrailState, KIND, Publish, READY, recorded_content, version_description};
use crate::cloud::aws::bedrock::{self, TagIndex, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify, errors::is_unimplemented, tagged};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::aws_face::AwsFace;
use crate::kinds::state::{attrs_of, state_of};
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};

/// The type in a guardrail's ARN.
const ARN_TYPE: &str = "guardrail";

fn object(name: &str) -> String {
    format!("guardrail {name}")
}

/// The DRAFT of every guardrail in the region.
async fn list(aws: &Aws) -> Result<Option<Vec<GuardrailSummary>>, CloudError> {
    match aws
        .bedrock
        .list_guardrails()
        .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
    {
        Ok(found) => Ok(Some(found)),
        Err(e) if aws.emulator && is_unimplemented(&e) => Ok(None),
        Err(e) => Err(classify("bedrock:ListGuardrails", "the region", e)),
    }
}

/// The numbered versions of guardrail `id`, each with the content hash bedform
/// recorded in its description.
async fn versions(aws: &Aws, id: &str, name: &str) -> Result<Vec<Value>, CloudError> {
    let all: Vec<GuardrailSummary> = aws
        .bedrock
        .list_guardrails()
        .guardrail_identifier(id)
        .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("bedrock:ListGuardrails", &object(name), e))?;
    Ok(all
        .iter()
        .filter(|v| v.version() != "DRAFT")
        .map(|v| {
            json!({
                "version": v.version(),
                "content": recorded_content(v.description()),
            })
        })
        .collect())
}

/// A guardrail as the plan sees it: its DRAFT's policies, its versions.
async fn read(
    aws: &Aws,
    id: &str,
    name: &str,
    tags: BTreeMap<String, String>,
) -> Result<Option<ObservedResource>, CloudError> {
    let draft = aws.bedrock.get_guardrail().guardrail_identifier(id).send();
    let (draft, versions) = futures::join!(draft, versions(aws, id, name));
    let draft = match draft {
        Ok(draft) => draft,
        Err(e) => {
            let e = classify("bedrock:GetGuardrail", &object(name), e);
            // Deleted between the listing and this read.
            if e.class == ErrorClass::NotFound {
                return Ok(None);
            }
            return Err(e);
        }
    };
    let state = super::sdk::state(&draft, &object(name))?;
    let reasons = draft.status_reasons().join("; ");
    Ok(Some(ObservedResource {
        kind: KIND.into(),
        aws_name: draft.name().to_string(),
        arn: Some(draft.guardrail_arn().to_string()),
        attrs: attrs_of(&state),
        tags,
        status: Some(draft.status().as_str().to_string()),
        status_message: (!reasons.is_empty()).then_some(reasons),
        facts: Map::from_iter([
            ("id".to_string(), json!(draft.guardrail_id())),
            ("versions".to_string(), Value::Array(versions?)),
        ]),
    }))
}

async fn observe_guardrails(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    if !index.needs_listing(scope, KIND, &[ARN_TYPE]) {
        return Ok(Vec::new());
    }
    let Some(drafts) = list(aws).await? else {
        crate::errln!(
            "warning: the endpoint does not implement bedrock:ListGuardrails; planning as if the region had no guardrail"
        );
        return Ok(Vec::new());
    };
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(drafts)
        .map(|g| async move {
            let name = g.name().to_string();
            let declared = scope.declares(KIND, &name);
            let Some(tags) = index
                .tags(aws, g.arn(), &object(&name), declared, true)
                .await?
            else {
                return Ok(None);
            };
            if !owned_or_declared(scope, KIND, &name, &tags) {
                return Ok(None);
            }
            read(aws, g.id(), &name, tags).await
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The id and ARN of the guardrail named `name`.
pub async fn find(aws: &Aws, name: &str) -> Result<Option<(String, String)>, CloudError> {
    Ok(list(aws)
        .await?
        .unwrap_or_default()
        .into_iter()
        .find(|g| g.name() == name)
        .map(|g| (g.id().to_string(), g.arn().to_string())))
}

async fn get_guardrail(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    let Some((id, arn)) = find(aws, name).await? else {
        return Ok(None);
    };
    let tags = bedrock::tags_of(aws, &arn, &object(name)).await?;
    read(aws, &id, name, tags).await
}

/// Waits until guardrail `id` is `READY` (a create, update or version takes
/// seconds); `FAILED` is an error with AWS's reasons.
async fn wait_ready(aws: &Aws, id: &str, name: &str) -> Result<(), CloudError> {
    let (poll, tries) = if aws.emulator {
        (Duration::from_millis(100), 100)
    } else {
        (Duration::from_secs(2), 150)
    };
    for _ in 0..tries {
        let out = aws
            .bedrock
            .get_guardrail()
            .guardrail_identifier(id)
            .send()
            .await
            .map_err(|e| classify("bedrock:GetGuardrail", &object(name), e))?;
        match out.status().as_str() {
            READY => return Ok(()),
            "FAILED" => {
                return Err(CloudError::new(
                    ErrorClass::Fatal,
                    "bedrock:GetGuardrail",
                    format!(
                        "{} FAILED: {}",
                        object(name),
                        out.status_reasons().join("; ")
                    ),
                ));
            }
            _ => tokio::time::sleep(poll).await,
        }
    }
    Err(CloudError::new(
        ErrorClass::Transient,
        "bedrock:GetGuardrail",
        format!("{} is not READY yet", object(name)),
    ))
}

/// Publishes the version `publish` plans, with a token of what it freezes: a
/// second send of the same version makes none.
async fn publish_version(
    aws: &Aws,
    id: &str,
    name: &str,
    publish: &Publish,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateGuardrailVersion";
    let token = crate::hash::client_request_token(KIND, id, &publish.version, &publish.content);
    let out = aws
        .bedrock
        .create_guardrail_version()
        .guardrail_identifier(id)
        .description(version_description(&publish.content))
        .client_request_token(token)
        .send()
        .await
        .map_err(|e| classify(op, &object(name), e))?;
    if out.version() != publish.version {
        return Err(CloudError::new(
            ErrorClass::Fatal,
            op,
            format!(
                "{}: AWS numbered the new version {}, not {} as the plan said; plan again, so that what names its version is planned with {}",
                object(name),
                out.version(),
                publish.version,
                out.version()
            ),
        ));
    }
    wait_ready(aws, id, name).await
}

async fn create_guardrail(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateGuardrail";
    let state: GuardrailState = state_of(attrs, op)?;
    let p = super::sdk::request(&state, op)?;
    let out = aws
        .bedrock
        .create_guardrail()
        .name(name)
        .set_description(state.description.clone())
        .set_content_policy_config(p.content)
        .set_topic_policy_config(p.topic)
        .set_word_policy_config(p.word)
        .set_sensitive_information_policy_config(p.sensitive)
        .set_contextual_grounding_policy_config(p.grounding)
        .set_automated_reasoning_policy_config(p.reasoning)
        .set_cross_region_config(p.cross_region)
        .blocked_input_messaging(&state.blocked_input_messaging)
        .blocked_outputs_messaging(&state.blocked_outputs_messaging)
        .set_kms_key_id(state.kms_key_id.clone())
        .set_tags(Some(bedrock::bedrock_tags(tags)?))
        .set_client_request_token(token.map(str::to_string))
        .send()
        .await
        .map_err(|e| classify(op, &object(name), e))?;
    let id = out.guardrail_id();
    tagged::await_indexed(aws, out.guardrail_arn(), tags, &object(name)).await;
    wait_ready(aws, id, name).await?;
    match &state.publish {
        Some(publish) => publish_version(aws, id, name, publish).await,
        None => Ok(()),
    }
}

/// Updates the DRAFT (under its new name, for a rename) when its content
/// changes, then the tags, then publishes the version planned.
async fn update_guardrail(
    aws: &Aws,
    name: &str,
    current: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    fields: &[String],
) -> Result<(), CloudError> {
    let op = "bedrock:UpdateGuardrail";
    let state: GuardrailState = state_of(attrs, op)?;
    let Some((id, arn)) = find(aws, current).await? else {
        return Err(CloudError::new(
            ErrorClass::NotFound,
            op,
            format!("{} does not exist", object(current)),
        ));
    };
    if fields
        .iter()
        .any(|f| !matches!(f.as_str(), "tags" | "version"))
    {
        let p = super::sdk::request(&state, op)?;
        aws.bedrock
            .update_guardrail()
            .guardrail_identifier(&id)
            .name(name)
            .set_description(state.description.clone())
            .set_content_policy_config(p.content)
            .set_topic_policy_config(p.topic)
            .set_word_policy_config(p.word)
            .set_sensitive_information_policy_config(p.sensitive)
            .set_contextual_grounding_policy_config(p.grounding)
            .set_automated_reasoning_policy_config(p.reasoning)
            .set_cross_region_config(p.cross_region)
            .blocked_input_messaging(&state.blocked_input_messaging)
            .blocked_outputs_messaging(&state.blocked_outputs_messaging)
            .set_kms_key_id(state.kms_key_id.clone())
            .send()
            .await
            .map_err(|e| classify(op, &object(name), e))?;
        wait_ready(aws, &id, name).await?;
    }
    if !tags.is_empty() {
        bedrock::set_tags(aws, &arn, &object(name), tags).await?;
    }
    match &state.publish {
        Some(publish) => publish_version(aws, &id, name, publish).await,
        None => Ok(()),
    }
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
        observe_guardrails(aws, reads.scope, reads.bedrock_index(aws).await?).await
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        get_guardrail(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_guardrail(aws, name, attrs, tags, client_request_token.as_deref()).await,
            Op::Update {
                name,
                attrs,
                tags,
                fields,
                current_name,
                ..
            } => {
                let current = current_name.as_deref().unwrap_or(name);
                update_guardrail(aws, name, current, attrs, tags, fields).await
            }
            Op::Delete { name, .. } => {
                let Some((id, _)) = find(aws, name).await? else {
                    return Ok(());
                };
                bedrock::gone_is_done(
                    aws.bedrock
                        .delete_guardrail()
                        .guardrail_identifier(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| classify("bedrock:DeleteGuardrail", &object(name), e)),
                )
            }
            Op::Untag { name, keys, .. } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &object(name), keys).await
            }
            Op::StopJob { .. } => Err(bedrock::unsupported(op, "a guardrail is not a job")),
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

/// The guardrail's id, for the runtime's `ApplyGuardrail`, from what was read.
pub fn id_of(observed: &ObservedResource) -> Option<&str> {
    observed.fact_str("id")
}
