//! A role's desired state (`CreateRole`, `UpdateRole`, `UpdateAssumeRolePolicy`,
//! `PutRolePolicy`, `AttachRolePolicy`, `PutRolePermissionsBoundary`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RoleState {
    pub path: String,
    /// The trust policy, normalised.
    pub trust_policy: Value,
    /// Inline policies by name, normalised; authoritative.
    #[serde(default)]
    pub inline_policies: BTreeMap<String, Value>,
    /// Sorted, without duplicates; authoritative.
    #[serde(default)]
    pub managed_policy_arns: Vec<String>,
    pub description: Option<String>,
    /// Seconds (3600 to 43200).
    pub max_session_duration: i32,
    pub permissions_boundary: Option<String>,
}
