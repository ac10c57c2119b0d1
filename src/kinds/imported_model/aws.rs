//! How imports are read and written through the SDK: the import job
//! (`CreateModelImportJob`, followed until it completes) and the imported model
//! it makes, one object to the plan under the model's name.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_bedrock::types::{ModelDataSource, S3DataSource};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use super::{COMPLETED, ImportState, KIND};
use crate::cloud::aws::bedrock::{self, TagIndex, invalid, owned_or_declared};
use crate::cloud::aws::{Aws, READ_CONCURRENCY, Reads, classify, errors::is_unimplemented, tagged};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
use crate::kinds::customization_job::aws::{sdk_vpc, vpc_value};
use crate::kinds::customization_job::named_by_bedform;
use crate::kinds::state::state_of;
use crate::model::plan::Op;
use crate::model::{ObservedResource, Scope};

fn object(name: &str) -> String {
    format!("imported model {name}")
}

fn source_uri(source: Option<&ModelDataSource>) -> Option<String> {
    source
        .and_then(|s| s.as_s3_data_source().ok())
        .map(|s| s.s3_uri().to_string())
}

/// An import by its model's name: the imported model once the import completed,
/// else the import job (of the same name) and its status.
async fn read_import(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    let job = match aws
        .bedrock
        .get_model_import_job()
        .job_identifier(name)
        .send()
        .await
    {
        Ok(job) => Some(job),
        Err(e) => classify("bedrock:GetModelImportJob", &object(name), e).absent_if_not_found()?,
    };
    let model = match aws
        .bedrock
        .get_imported_model()
        .model_identifier(name)
        .send()
        .await
    {
        Ok(model) => Some(model),
        Err(e) => classify("bedrock:GetImportedModel", &object(name), e).absent_if_not_found()?,
    };
    // A completed import whose model is gone: the model was deleted (import jobs
    // stay listed after their model).
    let job_done = job
        .as_ref()
        .is_some_and(|j| j.status().is_some_and(|s| s.as_str() == COMPLETED));
    if model.is_none() && (job.is_none() || job_done) {
        return Ok(None);
    }
    let mut attrs = Map::new();
    let source = model
        .as_ref()
        .and_then(|m| source_uri(m.model_data_source()))
        .or_else(|| job.as_ref().and_then(|j| source_uri(j.model_data_source())));
    attrs.insert("sourceS3Uri".into(), json!(source));
    let key = model
        .as_ref()
        .and_then(|m| m.model_kms_key_arn())
        .or_else(|| job.as_ref().and_then(|j| j.imported_model_kms_key_arn()));
    if let Some(key) = key {
        attrs.insert("kmsKeyId".into(), json!(key));
    }
    let mut status_message = None;
    let status = match (&model, &job) {
        (Some(_), _) => COMPLETED.to_string(),
        (None, Some(job)) => {
            status_message = job.failure_message().map(str::to_string);
            job.status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        }
        (None, None) => unreachable!("one of them was found"),
    };
    if let Some(job) = &job {
        attrs.insert("roleArn".into(), json!(job.role_arn()));
        let vpc = vpc_value(job.vpc_config());
        if !vpc.is_null() {
            attrs.insert("vpcConfig".into(), vpc);
        }
    }
    let arn = model
        .as_ref()
        .and_then(|m| m.model_arn().map(str::to_string));
    let mut facts = Map::new();
    if let Some(job) = &job
        && let Some(arn) = job.job_arn()
    {
        facts.insert("jobArn".into(), json!(arn));
    }
    Ok(Some(ObservedResource {
        kind: KIND.into(),
        aws_name: name.to_string(),
        arn,
        attrs,
        status: Some(status),
        status_message,
        facts,
        ..ObservedResource::default()
    }))
}

/// The region's imports that are the stack's or declared: its imported models,
/// and the import jobs whose model is not there (yet).
async fn observe_imports(
    aws: &Aws,
    scope: &Scope,
    index: &TagIndex,
) -> Result<Vec<ObservedResource>, CloudError> {
    // An import's job carries the stack's tags from its start, its model from its end.
    if !index.needs_listing(scope, KIND, &["imported-model", "model-import-job"]) {
        return Ok(Vec::new());
    }
    let models: Result<Vec<_>, _> = aws
        .bedrock
        .list_imported_models()
        .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    let jobs: Result<Vec<_>, _> = aws
        .bedrock
        .list_model_import_jobs()
        .max_results(crate::cloud::aws::bedrock::MAX_RESULTS)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await;
    let (models, jobs) = match (models, jobs) {
        (Ok(models), Ok(jobs)) => (models, jobs),
        (Err(e), _) if aws.emulator && is_unimplemented(&e) => {
            crate::errln!(
                "warning: the endpoint does not implement bedrock:ListImportedModels; planning as if the region had no imported model"
            );
            return Ok(Vec::new());
        }
        (Err(e), _) => return Err(classify("bedrock:ListImportedModels", "the region", e)),
        (_, Err(e)) => return Err(classify("bedrock:ListModelImportJobs", "the region", e)),
    };
    // (name, the ARN whose tags tell the owner): the model's, else its job's.
    let imported: BTreeSet<String> = models.iter().map(|m| m.model_name().to_string()).collect();
    let mut found: Vec<(String, String)> = models
        .iter()
        .map(|m| (m.model_name().to_string(), m.model_arn().to_string()))
        .collect();
    // Imports still running or failed: a completed one without its model is one
    // whose model was deleted.
    found.extend(jobs.iter().filter_map(|j| {
        let name = j.imported_model_name()?;
        (!imported.contains(name) && j.status().as_str() != COMPLETED)
            .then(|| (name.to_string(), j.job_arn().to_string()))
    }));
    let read: Vec<Option<ObservedResource>> = futures::stream::iter(found)
        .map(|(name, arn)| async move {
            let declared = scope.declares(KIND, &name);
            // bedform's imports end in the source hash: other names cost no reads.
            let ours = named_by_bedform(&name);
            let Some(tags) = index
                .tags(aws, &arn, &object(&name), declared, ours)
                .await?
            else {
                return Ok(None);
            };
            if !owned_or_declared(scope, KIND, &name, &tags) {
                return Ok(None);
            }
            Ok::<_, CloudError>(read_import(aws, &name).await?.map(|mut o| {
                o.tags = tags;
                o
            }))
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(read.into_iter().flatten().collect())
}

async fn create_import(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
) -> Result<(), CloudError> {
    let op = "bedrock:CreateModelImportJob";
    let state: ImportState = state_of(attrs, op)?;
    let source = S3DataSource::builder()
        .s3_uri(&state.source_s3_uri)
        .build()
        .map_err(|e| invalid(op, e))?;
    let vpc = state
        .vpc_config
        .as_ref()
        .map(|v| sdk_vpc(op, v))
        .transpose()?;
    let out = aws
        .bedrock
        .create_model_import_job()
        // The job carries the model's name: one import, one name.
        .job_name(name)
        .imported_model_name(name)
        .role_arn(&state.role_arn)
        .model_data_source(ModelDataSource::S3DataSource(source))
        .set_imported_model_kms_key_id(state.kms_key_id.clone())
        .set_vpc_config(vpc)
        .set_job_tags(Some(bedrock::bedrock_tags(tags)?))
        .set_imported_model_tags(Some(bedrock::bedrock_tags(tags)?))
        .set_client_request_token(token.map(str::to_string))
        .send()
        .await
        .map_err(|e| classify(op, &object(name), e))?;
    tagged::await_indexed(aws, out.job_arn(), tags, &object(name)).await;
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
        observe_imports(aws, reads.scope, reads.bedrock_index(aws).await?).await
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        read_import(aws, name).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name,
                attrs,
                tags,
                client_request_token,
                ..
            } => create_import(aws, name, attrs, tags, client_request_token.as_deref()).await,
            Op::Update { name, tags, .. } => {
                let arn = read_import(aws, name)
                    .await?
                    .and_then(|o| o.arn)
                    .ok_or_else(|| {
                        invalid(
                            "bedrock:TagResource",
                            format!("imported model {name} is not imported yet"),
                        )
                    })?;
                bedrock::set_tags(aws, &arn, &object(name), tags).await
            }
            Op::Delete { name, .. } => bedrock::gone_is_done(
                aws.bedrock
                    .delete_imported_model()
                    .model_identifier(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify("bedrock:DeleteImportedModel", &object(name), e)),
            ),
            Op::Untag { name, keys, .. } => {
                let found = self.get(aws, name).await?;
                bedrock::untag(aws, found, &object(name), keys).await
            }
            Op::StopJob { .. } => Err(bedrock::unsupported(op, "an import cannot be stopped")),
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
