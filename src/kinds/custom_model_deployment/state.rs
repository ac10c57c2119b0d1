//! A deployment's desired state: what lowering writes, the plan carries and the
//! faces send (`CreateCustomModelDeployment`'s `modelArn` and `description`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeploymentState {
    /// The custom model served: its identity `custom-model/NAME` (a model a job of
    /// the stack trains) or its ARN.
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
