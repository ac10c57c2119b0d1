//! `kind: Stack`: the stack's name, region, account guard and default tags.

use schemars::JsonSchema;
use serde::Deserialize;

use super::ValidateCx;
use crate::manifest::spanned::{KeyedMap, Spanned};
use crate::model::StackInfo;

/// The stack: one per run.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StackSpec {
    /// AWS region of every resource in the stack.
    pub region: Spanned<String>,
    /// The account the stack belongs to; plan and apply refuse any other account.
    #[serde(default)]
    pub account_id: Option<Spanned<String>>,
    /// Tags added to every taggable resource.
    #[serde(default)]
    pub tags: KeyedMap<String>,
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
        }
    }
}
