//! A bucket's desired state: its policy, default encryption, public access block
//! and versioning (`PutBucketPolicy`, `PutBucketEncryption`,
//! `PutPublicAccessBlock`, `PutBucketVersioning`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BucketState {
    /// The bucket policy, normalised; none removes it.
    pub policy: Option<Value>,
    pub encryption: Encryption,
    /// All four public access settings at once.
    pub block_public_access: bool,
    pub versioning: bool,
}

/// The default encryption (`ServerSideEncryptionByDefault`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Encryption {
    pub sse: Sse,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sse {
    /// SSE-S3 (`AES256`).
    S3,
    /// SSE-KMS (`aws:kms`).
    Kms,
}
