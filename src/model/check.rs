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
