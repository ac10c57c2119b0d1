//! How invocation logging is read and written through the SDK: one configuration
//! per region (`Get/Put/DeleteModelInvocationLoggingConfiguration`).

use std::collections::BTreeMap;

use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use serde_json::{Map, Value};

use async_trait::async_trait;

use crate::cloud::aws::bedrock::{self, invalid};
use crate::cloud::aws::{Aws, Reads, classify};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
use crate::kinds::invocation_logging::state::{CloudWatch, LoggingState, S3Destination};
use crate::kinds::state::{attrs_of, state_of};
use crate::model::ObservedResource;
use crate::model::plan::Op;

const LOGGING: &str = "InvocationLogging";

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
    let s3 = |s: &aws_sdk_bedrock::types::S3Config| S3Destination {
        bucket_name: s.bucket_name().to_string(),
        key_prefix: s.key_prefix().unwrap_or("").to_string(),
    };
    let state = LoggingState {
        cloud_watch_config: config.cloud_watch_config().map(|cw| CloudWatch {
            log_group_name: cw.log_group_name().to_string(),
            role_arn: Some(cw.role_arn().to_string()),
            large_data_delivery_s3_config: cw.large_data_delivery_s3_config().map(s3),
        }),
        s3_config: config.s3_config().map(s3),
        text_data_delivery_enabled: config.text_data_delivery_enabled().unwrap_or(false),
        image_data_delivery_enabled: config.image_data_delivery_enabled().unwrap_or(false),
        embedding_data_delivery_enabled: config.embedding_data_delivery_enabled().unwrap_or(false),
        video_data_delivery_enabled: config.video_data_delivery_enabled().unwrap_or(false),
        audio_data_delivery_enabled: config.audio_data_delivery_enabled().unwrap_or(false),
    };
    Ok(Some(ObservedResource {
        kind: LOGGING.into(),
        aws_name: super::AWS_NAME.into(),
        attrs: attrs_of(&state),
        ..ObservedResource::default()
    }))
}

async fn put_logging(aws: &Aws, attrs: &Map<String, Value>) -> Result<(), CloudError> {
    let op = "bedrock:PutModelInvocationLoggingConfiguration";
    let state: LoggingState = state_of(attrs, op)?;
    let s3_config = |s: &S3Destination| -> Result<S3Config, CloudError> {
        S3Config::builder()
            .bucket_name(&s.bucket_name)
            .key_prefix(&s.key_prefix)
            .build()
            .map_err(|e| invalid(op, e))
    };
    // Every delivery flag is sent explicitly: AWS's defaults for new flags drift.
    let mut config = LoggingConfig::builder()
        .text_data_delivery_enabled(state.text_data_delivery_enabled)
        .image_data_delivery_enabled(state.image_data_delivery_enabled)
        .embedding_data_delivery_enabled(state.embedding_data_delivery_enabled)
        .video_data_delivery_enabled(state.video_data_delivery_enabled)
        .audio_data_delivery_enabled(state.audio_data_delivery_enabled);
    if let Some(cw) = &state.cloud_watch_config {
        let mut builder = CloudWatchConfig::builder()
            .log_group_name(&cw.log_group_name)
            .role_arn(cw.role_arn.as_deref().unwrap_or_default());
        if let Some(large) = &cw.large_data_delivery_s3_config {
            builder = builder.large_data_delivery_s3_config(s3_config(large)?);
        }
        config = config.cloud_watch_config(builder.build().map_err(|e| invalid(op, e))?);
    }
    if let Some(s3) = &state.s3_config {
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

async fn delete_logging(aws: &Aws) -> Result<(), CloudError> {
    let result = aws
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
        });
    bedrock::gone_is_done(result)
}

/// The kind's AWS face.
pub struct Face;
pub static AWS: Face = Face;

#[async_trait]
impl AwsFace for Face {
    async fn observe(
        &self,
        aws: &Aws,
        _reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError> {
        Ok(observe_logging(aws).await?.into_iter().collect())
    }
    async fn get(&self, aws: &Aws, _name: &str) -> Result<Option<ObservedResource>, CloudError> {
        observe_logging(aws).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create { attrs, .. } | Op::Update { attrs, .. } => put_logging(aws, attrs).await,
            Op::Delete { .. } => delete_logging(aws).await,
            Op::StopJob { .. } | Op::Untag { .. } => Err(bedrock::unsupported(
                op,
                "invocation logging takes no tags and never runs",
            )),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        bedrock::add_tags_to(aws, None, &format!("{LOGGING} {name}"), tags).await
    }
}
