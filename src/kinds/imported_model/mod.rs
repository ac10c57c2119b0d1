//! `kind: ImportedModel`: open-weight model weights brought into Bedrock from S3
//! (`CreateModelImportJob`, which makes the imported model), invoked on demand by
//! its ARN.
//!
//! Choices the API leaves open, as bedform makes them:
//! - An import is create-once: the model's name (and its import job's) ends in a
//!   hash of the source and the key, so a changed source is a new import under a
//!   new name. The previous model is deleted once the new import has completed and
//!   nothing of the stack serves it; the plan says which. Callers invoke a model by
//!   its ARN, so the plan warns that the new import has another.
//! - The role and the VPC are used by the import only: changing them once the
//!   import is done changes nothing (the plan says so), as a job's role does not
//!   retrain it.
//! - A failed import is shown with AWS's message and not sent again under the same
//!   name: change the source (or delete the failed job's name from the account)
//!   to import again.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::diag::Diagnostic;
use crate::kinds::customization_job::VpcConfig;
use crate::kinds::face::{Common, LowerCx, Lowered, ResourceSpec, ValidateCx, validate_tags};
use crate::kinds::smoke_check::CheckSpec;
use crate::model::DeletionPolicy;
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::{KeyedMap, Spanned};

pub mod aws;
mod plan;
pub mod sandbox;
pub mod state;
pub use plan::*;
pub use state::ImportState;

pub const KIND: &str = "ImportedModel";
/// `ModelImportJobStatus`: the import's; an imported model exists once it completed.
pub const IN_PROGRESS: &str = "InProgress";
pub const COMPLETED: &str = "Completed";
pub const FAILED: &str = "Failed";

/// The fields that decide what is imported: a change to any of them is a new import.
pub const IMPORT_FIELDS: &[&str] = &["sourceS3Uri", "kmsKeyId"];

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImportedModelSpec {
    /// Prefix of `importedModelName` (and of the import job's name); defaults to
    /// metadata.name. bedform appends a hash of the source.
    #[serde(default)]
    pub imported_model_name: Option<Spanned<String>>,
    /// Where the weights are: `{s3Uri}` (`modelDataSource.s3DataSource`).
    pub source: Spanned<ImportSource>,
    /// The service role Bedrock assumes to read the weights.
    pub role: Spanned<RefOr>,
    /// KMS key that encrypts the imported model (`importedModelKmsKeyId`).
    #[serde(default)]
    pub kms_key_id: Option<Spanned<String>>,
    /// The VPC the import job runs in.
    #[serde(default)]
    pub vpc_config: Option<Spanned<VpcConfig>>,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
    /// A smoke test that `bedform check` and `apply --wait` send to the imported
    /// model through Converse once it is imported. Not part of the AWS object.
    #[serde(default)]
    pub check: Option<Spanned<CheckSpec>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImportSource {
    /// The S3 prefix of the model's files (Hugging Face layout: weights in
    /// safetensors, config and tokenizer).
    pub s3_uri: Spanned<String>,
}

/// An import's name: its model's (`ImportedModelName`) and its job's (`JobName`).
fn check_import_name(name: &str) -> Result<(), crate::names::NameError> {
    crate::names::check_model_name(name)?;
    crate::names::check_job_name(name)
}

impl ImportedModelSpec {
    fn prefix<'a>(&'a self, metadata_name: &'a str) -> &'a str {
        self.imported_model_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(metadata_name)
    }
}

/// The short hash of an import's fields, the suffix of the names bedform gives
/// the import job and its model.
pub fn import_hash(attrs: &serde_json::Map<String, serde_json::Value>) -> String {
    crate::hash::short_hash(&serde_json::Value::Object(
        IMPORT_FIELDS
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    attrs.get(*f).cloned().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect(),
    ))
}

impl ResourceSpec for ImportedModelSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let uri = &self.source.value.s3_uri;
        if !uri.contains("${")
            && let Err(problem) = crate::names::check_s3_uri(uri)
        {
            cx.error(uri.pos, format!("`source.s3Uri`: {problem}"));
        }
        cx.check_literal("role", &self.role, |v| {
            crate::names::check_arn(v, Some("iam"))
        });
        let pos = self
            .imported_model_name
            .as_ref()
            .map_or(cx.doc_pos, |n| n.pos);
        crate::kinds::face::validate_hashed_prefix(
            cx,
            "importedModelName",
            self.prefix(cx.name),
            pos,
            "source",
            check_import_name,
        );
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
        if let Some(check) = &self.check {
            check.value.validate(cx, check.pos);
        }
    }

    fn smoke_check(&self) -> Option<crate::model::check::SmokeCheck> {
        self.check.as_ref().map(|c| c.value.lower())
    }

    fn references(&self) -> Vec<Reference> {
        Reference::from_field("role", &self.role, &["IamRole"])
            .into_iter()
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let state = ImportState {
            source_s3_uri: cx.interpolate(&self.source.value.s3_uri),
            role_arn: cx.arn(&self.role)?,
            kms_key_id: self.kms_key_id.as_ref().map(|k| cx.interpolate(k)),
            vpc_config: self.vpc_config.as_ref().map(|v| v.lower()),
        };
        let attrs = crate::kinds::state::attrs_of(&state);
        let name = format!("{}-{}", self.prefix(cx.name), import_hash(&attrs));
        Ok(Lowered {
            aws_name: name,
            arn: None,
            model: None,
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}
