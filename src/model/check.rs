//! A smoke check as declared, and a model's answer: the data that passes between
//! the manifests, the account and `bedform check`.

use serde::{Deserialize, Serialize};

/// The answer's length is capped by this many tokens unless the check says otherwise.
pub const DEFAULT_MAX_TOKENS: u32 = 64;

/// A declared smoke check of one throughput.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmokeCheck {
    pub prompt: String,
    /// Text the answer must contain.
    pub expect: Option<String>,
    /// Longest acceptable time for the answer, measured by bedform.
    pub max_latency_ms: Option<u64>,
    pub max_tokens: u32,
}

/// What the model answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub stop_reason: Option<String>,
}

/// What a guardrail test expects the guardrail to do with its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GuardrailExpectation {
    /// A policy blocks the text.
    Blocked,
    /// No policy blocks the text (sensitive information may still be masked).
    Allowed,
    /// No policy blocks the text, and sensitive information in it is masked.
    Anonymized,
}

impl GuardrailExpectation {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailExpectation::Blocked => "blocked",
            GuardrailExpectation::Allowed => "allowed",
            GuardrailExpectation::Anonymized => "anonymized",
        }
    }
}

/// Where the tested text would come from: `ApplyGuardrail`'s `source`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum GuardrailSource {
    /// A user's prompt (the guardrail's input policies apply).
    #[default]
    #[serde(rename = "INPUT")]
    Input,
    /// A model's answer (the output policies apply).
    #[serde(rename = "OUTPUT")]
    Output,
}

impl GuardrailSource {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailSource::Input => "INPUT",
            GuardrailSource::Output => "OUTPUT",
        }
    }
}

/// One declared guardrail test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailTest {
    pub input: String,
    pub expect: GuardrailExpectation,
    #[serde(default)]
    pub source: GuardrailSource,
}

/// What one policy of a guardrail did with a text (`ApplyGuardrail`'s
/// assessments): `topicPolicy` topic `investment-advice`: `BLOCKED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyAction {
    pub policy: String,
    /// The topic, filter type, word, entity type or regex name.
    pub what: String,
    pub action: String,
}

/// What the guardrail did with a text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuardrailOutcome {
    /// `NONE` or `GUARDRAIL_INTERVENED`.
    pub action: String,
    /// What the policies that detected something did.
    pub acted: Vec<PolicyAction>,
    /// The text the guardrail returns in place of the input, if any.
    pub output: Option<String>,
}

impl GuardrailOutcome {
    pub fn blocked(&self) -> bool {
        self.acted.iter().any(|a| a.action == "BLOCKED")
    }
    pub fn anonymized(&self) -> bool {
        self.acted.iter().any(|a| a.action == "ANONYMIZED")
    }
}
