//! A customization job's desired state, as `CreateModelCustomizationJob` takes
//! it. Lowering writes these attributes (their normalised shape names the job, so
//! it never changes lightly); the faces read them back through [`JobState`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JobState {
    pub customization_type: ApiCustomizationType,
    pub base_model: String,
    pub teacher: Option<Teacher>,
    pub training_data: Option<TrainingData>,
    #[serde(default)]
    pub validation_data: Vec<S3Location>,
    #[serde(default)]
    pub hyper_parameters: BTreeMap<String, String>,
    pub output_s3_uri: String,
    pub role_arn: String,
    pub custom_model_name: String,
    pub custom_model_kms_key_id: Option<String>,
    pub vpc_config: Option<Vpc>,
    /// Reinforcement fine-tuning's grader (`rftConfig.graderConfig.lambdaGrader`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grader_lambda_arn: Option<String>,
}

/// A distillation's teacher (`TeacherModelConfig`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Teacher {
    pub model: String,
    pub max_response_length: Option<i64>,
}

/// Where the training data is: an S3 prefix, or the invocation logs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrainingData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_logs: Option<InvocationLogs>,
}

/// Training data drawn from the invocation logs (`InvocationLogsConfig`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvocationLogs {
    pub s3_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_prompt_response: Option<bool>,
    /// `RequestMetadataFilters`, in the manifest's shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_metadata_filters: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Location {
    pub s3_uri: String,
}

/// The job's VPC (`VpcConfig`), ids sorted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vpc {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

/// The API's `customizationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApiCustomizationType {
    FineTuning,
    ContinuedPreTraining,
    Distillation,
    ReinforcementFineTuning,
}
