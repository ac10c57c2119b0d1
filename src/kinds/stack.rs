//! `kind: Stack`: the stack's name, region, account guard and default tags.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::cloud::lock::LockLocation;
use crate::kinds::face::ValidateCx;
use crate::model::StackInfo;
use crate::syntax::spanned::{KeyedMap, Spanned};

/// The stack: one per run.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackSpec {
    /// AWS region of every resource in the stack.
    pub region: Spanned<String>,
    /// The account the stack belongs to; plan and apply refuse any other account.
    /// Twelve digits, quoted or not (bedform reads the digits as written, so a
    /// leading zero stays).
    #[serde(default)]
    #[schemars(schema_with = "account_id_schema")]
    pub account_id: Option<Spanned<String>>,
    /// Tags added to every taggable resource.
    #[serde(default)]
    pub tags: KeyedMap<String>,
    /// Where apply takes the stack's lock on AWS, so that only one apply runs at a
    /// time. Without it apply runs unlocked (and says so); the sandbox always locks.
    #[serde(default)]
    pub lock: Option<Spanned<LockSpec>>,
    /// The IAM path under which every role of the stack lives, e.g.
    /// `/bedform/support-bot/`: a role without `path` takes it, and a role's own
    /// `path` must lie under it. A plan then finds the roles the stack owns but no
    /// longer declares by listing that path alone (ListRoles with `PathPrefix`),
    /// whatever other teams keep in the account; without it, by listing every
    /// role of the account. IAM cannot move a role: adding it to a stack whose
    /// roles exist replaces them.
    #[serde(default)]
    pub role_path: Option<Spanned<String>>,
}

/// An S3 object that apply creates with a conditional put while it changes the
/// account, and deletes when it is done.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockSpec {
    /// An existing bucket in the stack's region, writable by whoever applies.
    pub bucket: Spanned<String>,
    /// The object key, e.g. `bedform/support-bot.lock`.
    pub key: Spanned<String>,
}

impl StackSpec {
    pub fn validate(&self, cx: &mut ValidateCx<'_>) {
        if let Err(problem) = crate::names::check_region(&self.region) {
            cx.error(self.region.pos, format!("`region`: {problem}"));
        }
        if let Some(account) = &self.account_id
            && let Err(problem) = crate::names::check_account_id(account)
        {
            cx.error_hint(
                account.pos,
                format!("`accountId`: {problem}"),
                "an account id is exactly 12 digits, leading zeros included: accountId: \"012345678901\"",
            );
        }
        if let Some(lock) = &self.lock {
            if let Err(problem) = crate::names::check_bucket_name(&lock.bucket) {
                cx.error(
                    lock.bucket.pos,
                    format!("`lock.bucket` `{}` {problem}", lock.bucket.value),
                );
            }
            let key = &lock.key;
            if key.is_empty() || key.len() > 1024 || key.ends_with('/') {
                cx.error_hint(
                    key.pos,
                    format!("`lock.key` `{}` is not an object key", key.value),
                    "an S3 key of 1 to 1024 bytes that names an object, not a folder: key: bedform/support-bot.lock",
                );
            }
        }
        if let Some(path) = &self.role_path
            && let Err(problem) = crate::names::check_iam_path(path)
        {
            cx.error_hint(
                path.pos,
                format!("`rolePath` {problem}"),
                "an IAM path such as rolePath: /bedform/support-bot/",
            );
        }
        for (key, pos, value) in self.tags.iter_with_pos() {
            if let Err(problem) = crate::names::check_tag(key, value) {
                cx.error(pos, format!("`tags`: {problem}"));
            }
        }
    }

    pub fn info(&self, name: &str) -> StackInfo {
        StackInfo {
            name: name.to_string(),
            region: self.region.value.clone(),
            account_id: self.account_id.as_ref().map(|a| a.value.clone()),
            tags: (*self.tags).clone(),
            lock: self.lock.as_ref().map(|l| LockLocation {
                bucket: l.bucket.value.clone(),
                key: l.key.value.clone(),
            }),
            role_path: self.role_path.as_ref().map(|p| p.value.clone()),
        }
    }
}

/// `accountId` as an editor sees it: a YAML number when unquoted.
fn account_id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "The account the stack belongs to; plan and apply refuse any other account. Twelve digits, quoted or not.",
        "anyOf": [
            {"type": "string", "pattern": "^[0-9]{12}$"},
            {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_u64},
            {"type": "null"}
        ]
    })
}
