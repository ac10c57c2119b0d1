//! A log group's desired state (`CreateLogGroup`'s `kmsKeyId`,
//! `PutRetentionPolicy`'s `retentionInDays`); a missing value is `null`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogGroupState {
    /// None: events are kept forever.
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
}
