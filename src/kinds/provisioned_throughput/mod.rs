//! `kind: ProvisionedThroughput`: model units bought for a foundation or custom
//! model, with or without a commitment term.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::diag::Diagnostic;
use crate::kinds::face::validate_tags;
use crate::kinds::face::{Common, LowerCx, Lowered, ResourceSpec, ValidateCx};
use crate::model::DeletionPolicy;
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::{KeyedMap, Spanned};

pub const KIND: &str = "ProvisionedThroughput";
pub const CREATING: &str = "Creating";
pub const IN_SERVICE: &str = "InService";
pub const UPDATING: &str = "Updating";
pub const FAILED: &str = "Failed";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProvisionedThroughputSpec {
    /// A foundation model id or ARN, a custom model ARN, `{ref: JOB}` for the
    /// custom model a CustomizationJob trains, or `{ref: MODEL}` for a CustomModel.
    pub model: Spanned<RefOr>,
    /// Model units to buy (at least 1).
    pub model_units: Spanned<i64>,
    /// `none` (hourly, no term), `oneMonth` or `sixMonths`. A commitment is a purchase.
    #[serde(default)]
    pub commitment: Commitment,
    /// Defaults to metadata.name.
    #[serde(default)]
    pub provisioned_model_name: Option<Spanned<String>>,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
    /// A smoke test that `bedform check` and `apply --wait` run against the
    /// throughput once it is InService. Not part of the AWS object: changing it
    /// never updates or replaces the throughput.
    #[serde(default)]
    pub check: Option<Spanned<crate::kinds::smoke_check::CheckSpec>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Commitment {
    #[default]
    None,
    OneMonth,
    SixMonths,
}

impl Commitment {
    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::None => "none",
            Commitment::OneMonth => "oneMonth",
            Commitment::SixMonths => "sixMonths",
        }
    }
}

impl ResourceSpec for ProvisionedThroughputSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        if self.model_units.value < 1 {
            cx.error_hint(
                self.model_units.pos,
                format!(
                    "`modelUnits` is {}; it must be at least 1",
                    self.model_units.value
                ),
                "buy at least one model unit",
            );
        }
        cx.check_literal("model", &self.model, |m| {
            let m = crate::models::normalise_model(m);
            if m.starts_with("arn:") {
                crate::names::check_arn(&m, Some("bedrock"))
            } else if crate::models::looks_like_model_id(&m) {
                Ok(())
            } else {
                Err(crate::names::NameError::Model { model: m })
            }
        });
        let name_pos = self
            .provisioned_model_name
            .as_ref()
            .map(|n| n.pos)
            .unwrap_or(cx.doc_pos);
        let name = self
            .provisioned_model_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(cx.name);
        // Leave room for the `-<hash>` suffix a replacement uses while the name is taken.
        if name.len() > 54 {
            cx.error(
                name_pos,
                format!("`provisionedModelName` `{name}` is longer than 54 characters"),
            );
        } else if let Err(problem) = crate::names::check_model_name(name) {
            cx.error(
                name_pos,
                format!("`provisionedModelName` `{name}` {problem}"),
            );
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
        Reference::from_field("model", &self.model, &["CustomizationJob", "CustomModel"])
            .into_iter()
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let name = self
            .provisioned_model_name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| cx.name.to_string());
        let attrs = crate::kinds::state::attrs_of(&ThroughputState {
            model: cx.model(&self.model)?,
            model_units: self.model_units.value,
            commitment: self.commitment,
        });
        Ok(Lowered {
            aws_name: name,
            arn: None,
            model: None,
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}

pub mod aws;
pub mod state;
pub use state::ThroughputState;
pub(crate) mod plan;
pub mod sandbox;
pub use plan::*;
