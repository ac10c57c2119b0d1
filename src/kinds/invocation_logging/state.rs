//! The region's invocation logging as `PutModelInvocationLoggingConfiguration`
//! takes it (`LoggingConfig`): destinations, and every delivery flag sent
//! explicitly.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoggingState {
    pub cloud_watch_config: Option<CloudWatch>,
    pub s3_config: Option<S3Destination>,
    pub text_data_delivery_enabled: bool,
    pub image_data_delivery_enabled: bool,
    pub embedding_data_delivery_enabled: bool,
    pub video_data_delivery_enabled: bool,
    pub audio_data_delivery_enabled: bool,
}

/// `CloudWatchConfig`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudWatch {
    pub log_group_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_data_delivery_s3_config: Option<S3Destination>,
}

/// `S3Config`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Destination {
    pub bucket_name: String,
    pub key_prefix: String,
}
