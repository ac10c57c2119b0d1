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
    /// A foundation model id or ARN, a custom model ARN, or `{ref: JOB}` for the
    /// custom model a CustomizationJob trains.
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
    pub check: Option<Spanned<CheckSpec>>,
}

/// A prompt sent to the provisioned model through the Converse API, and what the
/// answer must satisfy: `expect`, `maxLatencyMs`, or both.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CheckSpec {
    /// Sent as one user message.
    pub prompt: Spanned<String>,
    /// Text the answer must contain (case-sensitive).
    #[serde(default)]
    pub expect: Option<Spanned<String>>,
    /// Longest acceptable time for the answer, in milliseconds, as bedform measures it.
    #[serde(default)]
    pub max_latency_ms: Option<Spanned<i64>>,
    /// Caps the answer's length (default 64).
    #[serde(default)]
    pub max_tokens: Option<Spanned<i64>>,
}

/// The most tokens a check may ask for: a smoke test, not a workload.
const CHECK_MAX_TOKENS: i64 = 4096;

impl CheckSpec {
    fn validate(&self, cx: &mut ValidateCx<'_>, pos: crate::syntax::spanned::Pos) {
        if self.prompt.value.trim().is_empty() {
            cx.error(self.prompt.pos, "`check.prompt` is empty");
        }
        if self.expect.is_none() && self.max_latency_ms.is_none() {
            cx.error_hint(
                pos,
                "`check` says nothing about the answer: it needs `expect`, `maxLatencyMs`, or both",
                "add `expect: TEXT` (the answer must contain it) or `maxLatencyMs: N`",
            );
        }
        if let Some(expect) = &self.expect
            && expect.value.is_empty()
        {
            cx.error(
                expect.pos,
                "`check.expect` is empty, so every answer would contain it",
            );
        }
        if let Some(limit) = &self.max_latency_ms
            && limit.value < 1
        {
            cx.error(
                limit.pos,
                format!(
                    "`check.maxLatencyMs` is {}; it must be at least 1",
                    limit.value
                ),
            );
        }
        if let Some(tokens) = &self.max_tokens
            && !(1..=CHECK_MAX_TOKENS).contains(&tokens.value)
        {
            cx.error(
                tokens.pos,
                format!(
                    "`check.maxTokens` is {}; it must be between 1 and {CHECK_MAX_TOKENS}",
                    tokens.value
                ),
            );
        }
    }

    fn lower(&self) -> crate::model::check::SmokeCheck {
        crate::model::check::SmokeCheck {
            prompt: self.prompt.value.clone(),
            expect: self.expect.as_ref().map(|e| e.value.clone()),
            max_latency_ms: self
                .max_latency_ms
                .as_ref()
                .and_then(|l| u64::try_from(l.value).ok()),
            max_tokens: self
                .max_tokens
                .as_ref()
                .and_then(|t| u32::try_from(t.value).ok())
                .unwrap_or(crate::model::check::DEFAULT_MAX_TOKENS),
        }
    }
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
        Reference::from_field("model", &self.model, &["CustomizationJob"])
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
mod plan;
pub mod sandbox;
pub use plan::*;
