//! `kind: CustomModel` declared on its own: a model brought into Bedrock from
//! outside (`CreateCustomModel`), from model files in S3 or a SageMaker AI model
//! package. (A custom model a `CustomizationJob` trains is that job's, and is
//! planned with it.)
//!
//! Like an import, it is create-once: its name ends in a hash of the source and
//! the key, so a changed source makes a new model under a new name; the previous
//! one is deleted once the new one is Active and nothing of the stack serves it.
//! The role is used only while the model is created.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::diag::Diagnostic;
use crate::kinds::face::{Common, LowerCx, Lowered, ResourceSpec, ValidateCx, validate_tags};
use crate::model::DeletionPolicy;
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::{KeyedMap, Spanned};

/// The fields that decide what the model is: a change to any of them is a new model.
pub const MODEL_SOURCE_FIELDS: &[&str] = &["sourceS3Uri", "modelPackageArn", "kmsKeyArn"];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomModelSpec {
    /// Prefix of `modelName`; defaults to metadata.name. bedform appends a hash
    /// of the source.
    #[serde(default)]
    pub model_name: Option<Spanned<String>>,
    /// `{s3Uri}` (`modelSourceConfig.s3DataSource`) or `{modelPackageArn}`
    /// (`customModelDataSource.modelPackageArnDataSource`).
    pub source: Spanned<CustomModelSource>,
    /// The service role Bedrock assumes to read the model files (needed for an
    /// S3 source).
    #[serde(default)]
    pub role: Option<Spanned<RefOr>>,
    /// The ARN of the KMS key that encrypts the model (`modelKmsKeyArn`: a key
    /// ARN, not an alias).
    #[serde(default)]
    pub kms_key_id: Option<Spanned<String>>,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomModelSource {
    /// The S3 prefix of the model's files.
    #[serde(default)]
    pub s3_uri: Option<Spanned<String>>,
    /// A SageMaker AI model package, whose artifacts Bedrock reads.
    #[serde(default)]
    pub model_package_arn: Option<Spanned<String>>,
}

/// A declared custom model's state, as `CreateCustomModel` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomModelState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_s3_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
}

/// The short hash of a declared model's source, the suffix of its name.
pub fn source_hash(attrs: &serde_json::Map<String, serde_json::Value>) -> String {
    crate::hash::short_hash(&serde_json::Value::Object(
        MODEL_SOURCE_FIELDS
            .iter()
            .filter_map(|f| attrs.get(*f).map(|v| (f.to_string(), v.clone())))
            .collect(),
    ))
}

impl CustomModelSpec {
    fn prefix<'a>(&'a self, metadata_name: &'a str) -> &'a str {
        self.model_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(metadata_name)
    }
}

impl ResourceSpec for CustomModelSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let source = &self.source.value;
        match (&source.s3_uri, &source.model_package_arn) {
            (Some(_), Some(_)) | (None, None) => cx.error(
                self.source.pos,
                "`source` takes exactly one of `s3Uri` and `modelPackageArn`",
            ),
            (Some(uri), None) => {
                if !uri.contains("${")
                    && let Err(problem) = crate::names::check_s3_uri(uri)
                {
                    cx.error(uri.pos, format!("`source.s3Uri`: {problem}"));
                }
                if self.role.is_none() {
                    cx.error_hint(
                        self.source.pos,
                        "a model from S3 needs a `role` that Bedrock assumes to read it",
                        "add `role: {ref: ROLE}`",
                    );
                }
            }
            (None, Some(arn)) => {
                if !arn.contains("${")
                    && let Err(problem) = crate::names::check_model_package_arn(arn)
                {
                    cx.error(arn.pos, format!("`source.modelPackageArn` {problem}"));
                }
            }
        }
        if let Some(role) = &self.role {
            cx.check_literal("role", role, |v| crate::names::check_arn(v, Some("iam")));
        }
        if let Some(key) = &self.kms_key_id
            && !key.contains("${")
            && let Err(problem) = crate::names::check_kms_key_arn(key)
        {
            cx.error(key.pos, format!("`kmsKeyId` {problem}"));
        }
        let pos = self.model_name.as_ref().map_or(cx.doc_pos, |n| n.pos);
        crate::kinds::face::validate_hashed_prefix(
            cx,
            "modelName",
            self.prefix(cx.name),
            pos,
            "source",
            crate::names::check_model_name,
        );
        validate_tags(cx, self.tags.as_ref());
    }

    fn references(&self) -> Vec<Reference> {
        self.role
            .as_ref()
            .and_then(|r| Reference::from_field("role", r, &["IamRole"]))
            .into_iter()
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let source = &self.source.value;
        let state = CustomModelState {
            source_s3_uri: source.s3_uri.as_ref().map(|u| cx.interpolate(u)),
            model_package_arn: source.model_package_arn.as_ref().map(|a| cx.interpolate(a)),
            role_arn: self.role.as_ref().map(|r| cx.arn(r)).transpose()?,
            kms_key_arn: self.kms_key_id.as_ref().map(|k| cx.interpolate(k)),
        };
        let attrs = crate::kinds::state::attrs_of(&state);
        let name = format!("{}-{}", self.prefix(cx.name), source_hash(&attrs));
        Ok(Lowered {
            model: Some(crate::models::custom_model_identity(&name)),
            aws_name: name,
            arn: None,
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}
