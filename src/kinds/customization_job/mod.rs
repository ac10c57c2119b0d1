//! `kind: CustomizationJob`: a model customization job (distillation, fine-tuning,
//! continued pre-training, reinforcement fine-tuning) and the custom model it
//! produces.
//!
//! Jobs are create-once: the job and model names carry a short hash of the
//! training-relevant spec, so a changed spec is a new job under a new name.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::diag::Diagnostic;
use crate::kinds::face::validate_tags;
use crate::kinds::face::{Common, LowerCx, Lowered, ResourceSpec, ValidateCx};
use crate::model::{DeletionPolicy, DesiredResource};
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::{KeyedMap, Spanned};

/// The observed kind of the models jobs produce.
pub const CUSTOM_MODEL: &str = "CustomModel";
pub const KIND: &str = "CustomizationJob";

/// Statuses AWS reports for a job.
pub const IN_PROGRESS: &str = "InProgress";
pub const COMPLETED: &str = "Completed";
pub const FAILED: &str = "Failed";
pub const STOPPING: &str = "Stopping";
pub const STOPPED: &str = "Stopped";

/// Fields that decide what is trained: a change to any of them is a new job.
pub const TRAINING_FIELDS: &[&str] = &[
    "customizationType",
    "baseModel",
    "teacher",
    "trainingData",
    "validationData",
    "hyperParameters",
    "graderLambdaArn",
];

/// Training fields added after jobs were named: hashed only when set, so the
/// names of jobs that do not use them stay as they were.
const LATER_TRAINING_FIELDS: &[&str] = &["graderLambdaArn"];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomizationJobSpec {
    /// What the job does; `fineTuning` when left out, as in the API.
    #[serde(rename = "type", default)]
    pub customization_type: Spanned<CustomizationType>,
    /// The model to customize (the student, for distillation): a model id or
    /// ARN, or `{ref: MODEL}` for a `CustomModel` of the stack.
    pub base_model: Spanned<RefOr>,
    /// The teacher, for distillation.
    #[serde(default)]
    pub teacher: Option<Spanned<Teacher>>,
    pub training_data: Spanned<TrainingData>,
    #[serde(default)]
    pub validation_data: Vec<S3Location>,
    pub output: S3Location,
    /// The service role Bedrock assumes for the job.
    pub role: Spanned<RefOr>,
    /// For fineTuning and continuedPreTraining (epochCount, batchSize,
    /// learningRate...), sent as AWS's `hyperParameters`; for
    /// reinforcementFineTuning, RFT's own (`rftConfig.hyperParameters`):
    /// epochCount 1-50, batchSize 16-512, learningRate 1e-7 to 1e-3,
    /// maxPromptLength, trainingSamplePerPrompt 2-16, inferenceMaxTokens,
    /// reasoningEffort low | medium | high, evalInterval 1-100.
    #[serde(default)]
    pub hyper_parameters: BTreeMap<String, Spanned<HyperParameter>>,
    /// The grader of a reinforcementFineTuning job: `{lambda: ARN}`, a Lambda
    /// function that scores each response (an ARN or a `${...}` placeholder).
    #[serde(default)]
    pub grader: Option<Spanned<Grader>>,
    /// KMS key for the custom model.
    #[serde(default)]
    pub kms_key_id: Option<Spanned<String>>,
    #[serde(default)]
    pub vpc_config: Option<Spanned<VpcConfig>>,
    /// Prefix of the job name (default metadata.name); the spec hash is appended.
    #[serde(default)]
    pub job_name: Option<Spanned<String>>,
    /// Prefix of the custom model name (default metadata.name); the spec hash is appended.
    #[serde(default)]
    pub custom_model_name: Option<Spanned<String>>,
    /// The exact names of a job that bedform did not name (one `bedform export`
    /// found in the account). They hold while the training fields hash to
    /// `trainingHash`; once those change, the new job takes the usual
    /// `PREFIX-HASH` names.
    #[serde(default)]
    pub adopted: Option<Spanned<AdoptedNames>>,
    /// What becomes of the custom model an earlier spec trained, once a retrain's
    /// model is ready and nothing serves the old one: `delete` (the default; the
    /// plan shows the delete) or `keep` (left in the account, and in the stack).
    #[serde(default)]
    pub superseded_model: SupersededModel,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

/// `supersededModel: delete | keep`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SupersededModel {
    #[default]
    Delete,
    Keep,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdoptedNames {
    /// The existing job's name.
    pub job_name: String,
    /// The name of the custom model it trains.
    pub custom_model_name: String,
    /// The hash of the training fields the job was trained with (8 hex digits).
    pub training_hash: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CustomizationType {
    Distillation,
    #[default]
    FineTuning,
    ContinuedPreTraining,
    ReinforcementFineTuning,
}

/// `grader: {lambda: ARN}` (`GraderConfig`'s `lambdaGrader`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Grader {
    /// The ARN of the Lambda function that grades responses (`lambdaArn`).
    pub lambda: Spanned<String>,
}

impl CustomizationType {
    fn api_type(self) -> state::ApiCustomizationType {
        match self {
            CustomizationType::Distillation => state::ApiCustomizationType::Distillation,
            CustomizationType::FineTuning => state::ApiCustomizationType::FineTuning,
            CustomizationType::ContinuedPreTraining => {
                state::ApiCustomizationType::ContinuedPreTraining
            }
            CustomizationType::ReinforcementFineTuning => {
                state::ApiCustomizationType::ReinforcementFineTuning
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Teacher {
    pub model: Spanned<String>,
    /// Maximum tokens the teacher generates per response (1 to 32000); AWS's
    /// default when left out (`maxResponseLengthForInference` is optional).
    #[serde(default)]
    pub max_response_length: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrainingData {
    /// A JSONL file of prompts (or prompt-response pairs).
    #[serde(default)]
    pub s3_uri: Option<Spanned<String>>,
    /// Train from model invocation logs instead.
    #[serde(default)]
    pub invocation_logs: Option<InvocationLogsSource>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvocationLogsSource {
    pub s3_uri: Spanned<String>,
    /// Use the logged responses as training targets instead of asking the teacher.
    #[serde(default)]
    pub use_prompt_response: bool,
    #[serde(default)]
    pub request_metadata_filters: Option<Spanned<MetadataFilter>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Location {
    pub s3_uri: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

impl VpcConfig {
    /// The API's `SubnetIds` and `SecurityGroupIds` bounds.
    pub fn validate(vpc: &Spanned<VpcConfig>, cx: &mut ValidateCx<'_>) {
        if !((1..=16).contains(&vpc.subnet_ids.len())
            && (1..=5).contains(&vpc.security_group_ids.len()))
        {
            cx.error(
                vpc.pos,
                "`vpcConfig` takes 1 to 16 subnet ids and 1 to 5 security group ids",
            );
        }
    }

    /// The desired state of the VPC: ids sorted, as AWS's order means nothing.
    pub fn lower(&self) -> state::Vpc {
        let mut subnet_ids = self.subnet_ids.clone();
        subnet_ids.sort();
        let mut security_group_ids = self.security_group_ids.clone();
        security_group_ids.sort();
        state::Vpc {
            subnet_ids,
            security_group_ids,
        }
    }
}

/// Whether `name` is one bedform could have given a job or custom model: it ends
/// in `-` and the 8 hex digits of a spec hash, then perhaps a retry's `-rN`. (An
/// adopted job keeps the names it had; it is found while it is declared.)
pub fn named_by_bedform(name: &str) -> bool {
    let base = match name.rsplit_once("-r") {
        Some((base, attempt))
            if !attempt.is_empty() && attempt.chars().all(|c| c.is_ascii_digit()) =>
        {
            base
        }
        _ => name,
    };
    base.rsplit_once('-').is_some_and(|(prefix, hash)| {
        !prefix.is_empty()
            && hash.len() == 8
            && hash.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    })
}

impl ResourceSpec for CustomizationJobSpec {
    fn keeps_superseded(&self) -> bool {
        self.superseded_model == SupersededModel::Keep
    }

    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let kind = self.customization_type.value;
        // A `{ref}` names a custom model of the stack, which has no family to check.
        let base = match &self.base_model.value {
            RefOr::Literal(text) => crate::models::normalise_model(text),
            RefOr::Ref(_) => String::new(),
        };
        if self.base_model.value.as_ref_name().is_none()
            && !base.contains("${")
            && !crate::models::looks_like_model_id(&base)
            && !base.starts_with("arn:")
        {
            cx.error(
                self.base_model.pos,
                format!("`baseModel` `{base}` is not a foundation model id or ARN"),
            );
        }
        match (&self.teacher, kind) {
            (None, CustomizationType::Distillation) => cx.error_hint(
                self.customization_type.pos,
                "`type: distillation` needs a `teacher`",
                "add `teacher: {model: amazon.nova-pro-v1:0, maxResponseLength: 1000}`",
            ),
            (Some(teacher), CustomizationType::Distillation) => {
                let teacher_model = crate::models::normalise_model(&teacher.model);
                if !crate::models::looks_like_model_id(&teacher_model) {
                    cx.error(
                        teacher.model.pos,
                        format!("`teacher.model` `{teacher_model}` is not a foundation model id"),
                    );
                } else {
                    let (tf, sf) = (
                        crate::models::family(&teacher_model),
                        crate::models::family(&base),
                    );
                    if crate::models::is_student_only(&teacher_model) {
                        cx.error_hint(
                            teacher.model.pos,
                            format!(
                                "`teacher.model` `{teacher_model}` is offered only as a distillation student, not as a teacher"
                            ),
                            format!(
                                "teachers of its family: {}",
                                crate::models::teachers_of(tf.unwrap_or(""))
                            ),
                        );
                    } else if tf.is_some() && sf.is_some() && tf != sf {
                        cx.error_hint(
                            teacher.model.pos,
                            format!(
                                "teacher `{teacher_model}` ({}) and student `{base}` ({}) are of different model families",
                                tf.unwrap_or("?"),
                                sf.unwrap_or("?")
                            ),
                            "distillation needs a teacher and student of the same family",
                        );
                    }
                }
                if let Some(max) = &teacher.max_response_length
                    && !(1..=32000).contains(&max.value)
                {
                    cx.error(max.pos, "`teacher.maxResponseLength` must be 1 to 32000");
                }
            }
            (Some(teacher), _) => cx.error(
                teacher.pos,
                "`teacher` is only used with `type: distillation`",
            ),
            (None, _) => {}
        }
        let data = &self.training_data;
        match (&data.s3_uri, &data.invocation_logs) {
            (Some(_), Some(_)) => cx.error(
                data.pos,
                "`trainingData` takes `s3Uri` or `invocationLogs`, not both",
            ),
            (None, None) => cx.error(data.pos, "`trainingData` needs `s3Uri` or `invocationLogs`"),
            (Some(uri), None) => check_uri(cx, "trainingData.s3Uri", uri),
            (None, Some(logs)) => {
                check_uri(cx, "trainingData.invocationLogs.s3Uri", &logs.s3_uri);
                if kind != CustomizationType::Distillation {
                    cx.error(
                        data.pos,
                        "training from `invocationLogs` is only available for distillation",
                    );
                }
                if let Some(filter) = &logs.request_metadata_filters {
                    validate_filter(cx, filter);
                }
            }
        }
        for location in &self.validation_data {
            check_uri(cx, "validationData.s3Uri", &location.s3_uri);
        }
        // The API's `validators` takes at most 10: the first one over is named.
        if let Some(extra) = self.validation_data.get(10) {
            cx.error(extra.s3_uri.pos, "at most 10 `validationData` locations");
        }
        check_uri(cx, "output.s3Uri", &self.output.s3_uri);
        cx.check_literal("role", &self.role, |v| {
            crate::names::check_arn(v, Some("iam"))
        });
        if kind == CustomizationType::Distillation
            && let Some((name, value)) = self.hyper_parameters.iter().next()
        {
            cx.error(
                value.pos,
                format!("hyper-parameter `{name}`: distillation takes no `hyperParameters`"),
            );
        }
        let rft = kind == CustomizationType::ReinforcementFineTuning;
        for (name, value) in &self.hyper_parameters {
            let problem = if rft {
                value.value.rft_problem(name)
            } else if RFT_ONLY_HYPER_PARAMETERS.contains(&name.as_str()) {
                Some("is a reinforcementFineTuning hyper-parameter; this job's `type` does not take it".into())
            } else {
                value.value.out_of_range(name).map(str::to_string)
            };
            if let Some(problem) = problem {
                cx.error(value.pos, format!("hyper-parameter `{name}` {problem}"));
            }
        }
        match (&self.grader, rft) {
            (None, true) => cx.error_hint(
                self.customization_type.pos,
                "`type: reinforcementFineTuning` needs a `grader`",
                "add `grader: {lambda: arn:aws:lambda:REGION:ACCOUNT:function:NAME}`",
            ),
            (Some(grader), false) => cx.error(
                grader.pos,
                "`grader` is only used with `type: reinforcementFineTuning`",
            ),
            (Some(grader), true) => {
                let arn = &grader.value.lambda;
                if !arn.contains("${")
                    && let Err(problem) = crate::names::check_lambda_arn(arn)
                {
                    cx.error(arn.pos, format!("`grader.lambda`: {problem}"));
                }
            }
            (None, false) => {}
        }
        type NameCheck = fn(&str) -> Result<(), crate::names::NameError>;
        let checks: [(&str, &Option<Spanned<String>>, NameCheck); 2] = [
            ("jobName", &self.job_name, crate::names::check_job_name),
            (
                "customModelName",
                &self.custom_model_name,
                crate::names::check_model_name,
            ),
        ];
        for (field, prefix, check) in checks {
            let text = prefix.as_ref().map(|p| p.value.as_str()).unwrap_or(cx.name);
            let pos = prefix.as_ref().map(|p| p.pos).unwrap_or(cx.doc_pos);
            crate::kinds::face::validate_hashed_prefix(cx, field, text, pos, "spec", check);
        }
        if let Some(adopted) = &self.adopted {
            let checks: [(&str, &String, NameCheck); 2] = [
                (
                    "adopted.jobName",
                    &adopted.job_name,
                    crate::names::check_job_name,
                ),
                (
                    "adopted.customModelName",
                    &adopted.custom_model_name,
                    crate::names::check_model_name,
                ),
            ];
            for (field, name, check) in checks {
                if let Err(problem) = check(name) {
                    cx.error(adopted.pos, format!("`{field}` `{name}` {problem}"));
                }
            }
            let hash = &adopted.training_hash;
            if hash.len() != 8 || !hash.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
                cx.error(
                    adopted.pos,
                    format!("`adopted.trainingHash` `{hash}` is not 8 lowercase hex digits"),
                );
            }
        }
        if let Some(key) = &self.kms_key_id
            && !key.contains("${")
            && key.starts_with("arn:")
            && let Err(problem) = crate::names::check_arn(key, Some("kms"))
        {
            cx.error(key.pos, format!("`kmsKeyId`: {problem}"));
        }
        if let Some(vpc) = &self.vpc_config {
            VpcConfig::validate(vpc, cx);
        }
        validate_tags(cx, self.tags.as_ref());
    }

    fn references(&self) -> Vec<Reference> {
        Reference::from_field("role", &self.role, &["IamRole"])
            .into_iter()
            .chain(Reference::from_field(
                "baseModel",
                &self.base_model,
                &["CustomModel"],
            ))
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let kind = self.customization_type.value;
        let training_data = match (
            &self.training_data.s3_uri,
            &self.training_data.invocation_logs,
        ) {
            (Some(uri), _) => Some(state::TrainingData {
                s3_uri: Some(cx.interpolate(uri)),
                invocation_logs: None,
            }),
            (None, Some(logs)) => Some(state::TrainingData {
                s3_uri: None,
                invocation_logs: Some(state::InvocationLogs {
                    s3_uri: cx.interpolate(&logs.s3_uri),
                    use_prompt_response: Some(logs.use_prompt_response),
                    request_metadata_filters: logs
                        .request_metadata_filters
                        .as_ref()
                        .map(|f| filter_value(f)),
                }),
            }),
            (None, None) => None,
        };
        let mut job = JobState {
            customization_type: kind.api_type(),
            base_model: cx.model(&self.base_model)?,
            teacher: self.teacher.as_ref().map(|t| state::Teacher {
                model: crate::models::normalise_model(&cx.interpolate(&t.model)),
                max_response_length: t.max_response_length.as_ref().map(|m| i64::from(m.value)),
            }),
            training_data,
            validation_data: self
                .validation_data
                .iter()
                .map(|v| state::S3Location {
                    s3_uri: cx.interpolate(&v.s3_uri),
                })
                .collect(),
            hyper_parameters: self
                .hyper_parameters
                .iter()
                .map(|(k, v)| {
                    let value = if kind == CustomizationType::ReinforcementFineTuning {
                        v.as_rft_string(k)
                    } else {
                        v.as_api_string()
                    };
                    (k.clone(), value)
                })
                .collect(),
            grader_lambda_arn: self
                .grader
                .as_ref()
                .map(|g| cx.interpolate(&g.value.lambda)),
            output_s3_uri: cx.interpolate(&self.output.s3_uri),
            role_arn: cx.arn(&self.role)?,
            // Named after the training hash below.
            custom_model_name: String::new(),
            custom_model_kms_key_id: self.kms_key_id.as_ref().map(|k| cx.interpolate(k)),
            vpc_config: self.vpc_config.as_ref().map(|v| v.lower()),
        };
        let training_hash = training_hash(&crate::kinds::state::attrs_of(&job));
        let job_prefix = self
            .job_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(cx.name);
        let model_prefix = self
            .custom_model_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(cx.name);
        let (job_name, model_name) = match &self.adopted {
            Some(adopted) if adopted.training_hash == training_hash => {
                (adopted.job_name.clone(), adopted.custom_model_name.clone())
            }
            _ => (
                format!("{job_prefix}-{training_hash}"),
                format!("{model_prefix}-{training_hash}"),
            ),
        };
        job.custom_model_name = model_name.clone();
        let attrs = crate::kinds::state::attrs_of(&job);
        Ok(Lowered {
            aws_name: job_name,
            arn: None,
            model: Some(crate::models::custom_model_identity(&model_name)),
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}

/// The short hash of a job's training fields, in the attributes' normalised shape:
/// the suffix of the names bedform gives a job and its model.
pub fn training_hash(attrs: &Map<String, Value>) -> String {
    crate::hash::short_hash(&Value::Object(
        TRAINING_FIELDS
            .iter()
            .map(|f| (f.to_string(), attrs.get(*f).cloned().unwrap_or(Value::Null)))
            .filter(|(f, v)| !(v.is_null() && LATER_TRAINING_FIELDS.contains(&f.as_str())))
            .collect(),
    ))
}

/// An observed job's training data in the shape `lower` gives it.
fn lowered_training_data(attrs: &Map<String, Value>) -> Option<Value> {
    let mut data = attrs.get("trainingData").filter(|v| !v.is_null())?.clone();
    if let Some(Value::Object(logs)) = data.get_mut("invocationLogs") {
        logs.entry("usePromptResponse").or_insert(json!(false));
    }
    Some(data)
}

/// The training hash the exported document of an observed job lowers to.
fn exported_training_hash(attrs: &Map<String, Value>) -> String {
    let mut normalised = attrs.clone();
    if let Some(data) = lowered_training_data(attrs) {
        normalised.insert("trainingData".into(), data);
    }
    training_hash(&normalised)
}

fn check_uri(cx: &mut ValidateCx<'_>, field: &str, uri: &Spanned<String>) {
    if !uri.contains("${")
        && let Err(problem) = crate::names::check_s3_uri(uri)
    {
        cx.error(uri.pos, format!("`{field}`: {problem}"));
    }
}

/// The custom model name a job produces.
pub fn model_name_of(desired: &DesiredResource) -> Option<&str> {
    desired.attr_str("customModelName")
}

pub mod aws;
mod custom_model;
mod filters;
mod hyper_parameters;
pub use filters::{BaseFilter, MetadataFilter};
use filters::{filter_value, validate_filter};
use hyper_parameters::RFT_ONLY_HYPER_PARAMETERS;
pub use hyper_parameters::{HyperParameter, RFT_HYPER_PARAMETERS};
pub mod custom_model_aws;
mod model_spec;
pub use model_spec::{CustomModelSpec, CustomModelState};
mod plan;
pub mod state;
pub use state::JobState;
pub mod sandbox;
pub use custom_model::*;
pub use plan::*;

#[cfg(test)]
mod tests {
    use super::named_by_bedform;

    #[test]
    fn names_bedform_makes_end_in_a_spec_hash() {
        assert!(named_by_bedform("support-distilled-94137ced"));
        assert!(named_by_bedform("support-distilled-94137ced-r2"));
        assert!(!named_by_bedform("other-job-17"));
        assert!(!named_by_bedform("other-model-94137CED"));
        assert!(!named_by_bedform("-94137ced"));
        assert!(!named_by_bedform("job-94137ced-r"));
    }
}
