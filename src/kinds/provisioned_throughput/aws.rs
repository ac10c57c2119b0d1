//! How provisioned throughput is read and written through the SDK.

use std::collections::BTreeMap;

use aws_sdk_bedrock::types::CommitmentDuration;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use async_trait::async_trait;

use crate::cloud::aws::bedrock::{self, TagIndex, invalid, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify, smithy_time, tagged};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
use crate::kinds::customization_job::custom_model_aws::model_arn;
use crate::kinds::provisioned_throughput::{self as pt, Commitment, ThroughputState};
use crate::kinds::state::{attrs_of, state_of};
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};
use crate::models::normalise_model;

/// The commitment of a term AWS reports; a term the API does not document yet
/// is none that bedform could plan for.
fn commitment(d: Option<&CommitmentDuration>) -> Commitment {
    match d {
        Some(CommitmentDuration::OneMonth) => Commitment::OneMonth,
        Some(CommitmentDuration::SixMonths) => Commitment::SixMonths,
        Some(_) | None => Commitment::None,
    }
}

/// The term to buy.
fn duration(commitment: Commitment) -> Option<CommitmentDuration> {
    match commitment {
        Commitment::None => None,
        Commitment::OneMonth => Some(CommitmentDuration::OneMonth),
        Commitment::SixMonths => Some(CommitmentDuration::SixMonths),
    }
}

async fn list_throughputs(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    if !index.needs_listing(scope, pt::KIND, &["provisioned-model"]) {
        return Ok(Vec::new());
    }
    let summaries = match aws
        .bedrock
        .list_provisioned_model_throughputs()
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
                attrs: attrs_of(&ThroughputState {
                    model: normalise_model(t.desired_model_arn()),
                    model_units: i64::from(t.desired_model_units()),
                    commitment: commitment(t.commitment_duration()),
                }),
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
            // Throughput names are the manifests' own: any may be the stack's.
            let Some(tags) = index.tags(aws, &arn, &object, declared, true).await? else {
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

async fn create_throughput(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateProvisionedModelThroughput";
    let state: ThroughputState = state_of(attrs, op)?;
    let units = i32::try_from(state.model_units).map_err(|_| {
        invalid(
            op,
            format!(
                "{} model units is not a number AWS takes",
                state.model_units
            ),
        )
    })?;
    let model = model_arn(aws, &state.model).await?;
    let object = format!("provisioned throughput {name}");
    let out = aws
        .bedrock
        .create_provisioned_model_throughput()
        .provisioned_model_name(name)
        .model_id(model)
        .model_units(units)
        .set_commitment_duration(duration(state.commitment))
        .set_client_request_token(token.map(str::to_string))
        .set_tags(Some(bedrock::bedrock_tags(tags)?))
        .send()
        .await
        .map_err(|e| classify(op, &object, e))?;
    // A throughput left behind costs money every hour: a plan that no longer
    // declares it must find it through the index.
    tagged::await_indexed(aws, out.provisioned_model_arn(), tags, &object).await;
    Ok(())
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
        update = update.desired_model_id(
            model_arn(aws, &state_of::<ThroughputState>(attrs, op)?.model).await?,
        );
    }
    if current.is_some_and(|c| c != name) || fields.iter().any(|f| f == "model") {
        update
            .send()
            .await
            .map_err(|e| classify(op, &format!("provisioned throughput {id}"), e))?;
    }
    if fields.iter().any(|f| f == "tags") {
        let object = format!("provisioned throughput {name}");
        let arn = get_throughput(aws, name)
            .await?
            .and_then(|t| t.arn)
            .unwrap_or_default();
        bedrock::set_tags(aws, &arn, &object, tags).await?;
    }
    Ok(())
}

async fn get_throughput(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    match aws
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
            e.absent_if_not_found()
        }
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
        list_throughputs(aws, reads.scope, reads.bedrock_index(aws).await?).await
    }
    /// A custom model's ARN becomes its identity `custom-model/NAME`, as the
    /// manifests write it.
    fn after_read(&self, all: &mut [ObservedResource]) {
        crate::kinds::customization_job::custom_model_aws::name_served_models(all, pt::KIND);
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        get_throughput(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_throughput(aws, name, attrs, tags, client_request_token.as_deref()).await,
            Op::Update {
                name,
                attrs,
                tags,
                fields,
                current_name,
                ..
            } => update_throughput(aws, name, current_name.as_deref(), attrs, tags, fields).await,
            Op::Delete { name, .. } => bedrock::gone_is_done(
                aws.bedrock
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
            ),
            Op::Untag { kind, name, keys } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &format!("{kind} {name}"), keys).await
            }
            Op::StopJob { .. } => Err(bedrock::unsupported(op, "a throughput is not a job")),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let found = self.get(aws, name).await?;
        bedrock::add_tags_then_index(aws, found, &format!("{} {name}", pt::KIND), tags).await
    }
}
