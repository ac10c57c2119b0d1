//! A guardrail's numbered versions: what bedform records in the description of
//! each version it publishes, and which version a plan leaves newest.

use serde_json::{Map, Value};

use super::KIND;
use crate::kinds::face::PlanCx;
use crate::model::{DesiredResource, ObservedResource};

/// What a version's description starts with when bedform published it; the
/// content hash follows.
pub const VERSION_MARK: &str = "published by bedform, content ";

/// The version description bedform writes: its mark and the content's hash.
pub fn version_description(content: &str) -> String {
    format!("{VERSION_MARK}{content}")
}

/// The content hash a version's description records, when bedform published it.
pub fn recorded_content(description: Option<&str>) -> Option<String> {
    description
        .and_then(|d| d.strip_prefix(VERSION_MARK))
        .map(str::to_string)
}

/// The hash of what a guardrail does: its attributes but whether versions are
/// published (and any operation's version).
pub fn content_hash(attrs: &Map<String, Value>) -> String {
    let content: Map<String, Value> = attrs
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "publishVersion" | "publish"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    crate::hash::spec_hash(&Value::Object(content))
}

/// The numbered versions of an observed guardrail, oldest first: (number,
/// content hash bedform recorded).
pub fn versions(observed: &ObservedResource) -> Vec<(u64, Option<String>)> {
    let mut versions: Vec<(u64, Option<String>)> = observed
        .facts
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            let number = v.get("version")?.as_str()?.parse().ok()?;
            let content = v.get("content").and_then(Value::as_str).map(str::to_string);
            Some((number, content))
        })
        .collect();
    versions.sort();
    versions
}

/// Which version a plan leaves newest for a declared guardrail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionPlan {
    /// The newest version there is now.
    pub newest: Option<u64>,
    /// The version this plan publishes, if it publishes one.
    pub publishes: Option<u64>,
    pub content: String,
}

impl VersionPlan {
    /// The version `${NAME.version}` names.
    pub fn current(&self) -> Option<u64> {
        self.publishes.or(self.newest)
    }
}

/// Whether and what `desired` publishes: a version when versions are published
/// and the newest does not record the declared content.
pub fn version_plan(cx: &PlanCx<'_>, desired: &DesiredResource) -> VersionPlan {
    let content = content_hash(&desired.attrs);
    let observed = cx
        .find(KIND, &desired.aws_name)
        .or_else(|| cx.owned_for(KIND, &desired.address).into_iter().next());
    let versions = observed.map(versions).unwrap_or_default();
    let newest = versions.last().map(|(n, _)| *n);
    let current = versions
        .last()
        .is_some_and(|(_, c)| c.as_deref() == Some(content.as_str()));
    let publishes = (publishes_versions(desired) && !desired.absent && !current)
        .then(|| newest.map_or(1, |n| n + 1));
    VersionPlan {
        newest,
        publishes,
        content,
    }
}

/// Whether `desired` publishes versions (`publishVersion: true`).
pub fn publishes_versions(desired: &DesiredResource) -> bool {
    desired.attrs.get("publishVersion") == Some(&Value::Bool(true))
}
