//! A throughput's desired state: what lowering writes, the plan carries and the
//! faces send (`CreateProvisionedModelThroughput`'s `modelId`, `modelUnits`,
//! `commitmentDuration`).

use serde::{Deserialize, Serialize};

use super::Commitment;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThroughputState {
    /// A foundation model id, or a custom model's identity `custom-model/NAME`.
    pub model: String,
    pub model_units: i64,
    pub commitment: Commitment,
}
