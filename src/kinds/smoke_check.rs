//! `check:`, the smoke check of a kind that serves inference: its manifest form,
//! offline validation and lowering.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::kinds::face::ValidateCx;
use crate::syntax::spanned::Spanned;

/// A prompt sent to the model an object serves (a provisioned throughput, an
/// on-demand deployment) through the Converse API, and what the
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
    pub fn validate(&self, cx: &mut ValidateCx<'_>, pos: crate::syntax::spanned::Pos) {
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

    pub fn lower(&self) -> crate::model::check::SmokeCheck {
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
