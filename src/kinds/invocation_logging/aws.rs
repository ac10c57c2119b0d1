//! How invocation logging is read and written through the SDK: one configuration
//! per region (`Get/Put/DeleteModelInvocationLoggingConfiguration`).

use std::collections::BTreeMap;

use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use serde_json::{Map, Value, json};

use async_trait::async_trait;

use crate::cloud::aws::bedrock::{self, invalid};
use crate::cloud::aws::{Aws, Reads, classify};
use crate::cloud::error::CloudError;
use crate::kinds::aws_face::AwsFace;
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
        aws_name: super::AWS_NAME.into(),
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
