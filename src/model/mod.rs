//! The data model, at the bottom of the layers: addresses, desired and observed
//! state (what the manifests ask for and what the account has, both in the same
//! normalised shape so the planner can compare them field by field), the plan and
//! its operations. It imports nothing of bedform above it.

pub mod check;
pub mod invocation;
pub mod kind;
pub mod plan;

pub use check::SmokeCheck;
pub use invocation::Invocation;
pub use kind::Kind;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Ownership tags bedform writes on everything it creates.
pub const TAG_STACK: &str = "bedform:stack";
pub const TAG_ADDRESS: &str = "bedform:address";
pub const TAG_SPEC_HASH: &str = "bedform:spec-hash";
/// Carried so that a resource removed from the manifests keeps its guard.
pub const TAG_PREVENT_DESTROY: &str = "bedform:prevent-destroy";
pub const TAG_DELETION_POLICY: &str = "bedform:deletion-policy";

pub fn is_bedform_tag(key: &str) -> bool {
    key.starts_with("bedform:")
}

/// `Kind/name`: a resource's address within its stack.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Address {
    pub kind: String,
    pub name: String,
}

impl Address {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Address {
            kind: kind.into(),
            name: name.into(),
        }
    }
    pub fn parse(text: &str) -> Option<Address> {
        let (kind, name) = text.split_once('/')?;
        (!kind.is_empty() && !name.is_empty()).then(|| Address::new(kind, name))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

impl From<Address> for String {
    fn from(a: Address) -> String {
        a.to_string()
    }
}

/// Text that is not an address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address of the form Kind/name")]
pub struct NotAnAddress(pub String);

impl TryFrom<String> for Address {
    type Error = NotAnAddress;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Address::parse(&s).ok_or(NotAnAddress(s))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeletionPolicy {
    #[default]
    Retain,
    Delete,
}

impl DeletionPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::Retain => "retain",
            DeletionPolicy::Delete => "delete",
        }
    }
}

/// A resource as the manifests declare it, with references resolved and values
/// normalised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    pub address: Address,
    /// The name AWS knows it by (bucket name, role name, job name, ...).
    pub aws_name: String,
    /// Fields compared with the account, in the adapter's normalised shape.
    pub attrs: Map<String, Value>,
    /// User tags (stack tags merged with the resource's), without ownership tags.
    pub tags: BTreeMap<String, String>,
    pub spec_hash: String,
    pub prevent_destroy: bool,
    pub deletion_policy: DeletionPolicy,
    /// `state: absent`: the resource must not exist.
    pub absent: bool,
    pub depends_on: BTreeSet<Address>,
    /// `file:line` of the document, for messages.
    pub source: String,
    /// A smoke check of the resource once it serves (never compared with AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<SmokeCheck>,
    /// A guardrail's tests, run like a smoke check (never compared with AWS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrail_tests: Vec<check::GuardrailTest>,
    /// What an earlier spec made is kept once superseded (a CustomizationJob's
    /// `supersededModel: keep`), instead of deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keeps_superseded: bool,
}

impl DesiredResource {
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).and_then(Value::as_str)
    }

    /// User tags plus the ownership tags, as written to AWS.
    pub fn tags_with_ownership(&self, stack: &str) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert(TAG_STACK.into(), stack.into());
        tags.insert(TAG_ADDRESS.into(), self.address.to_string());
        tags.insert(TAG_SPEC_HASH.into(), self.spec_hash.clone());
        if self.prevent_destroy {
            tags.insert(TAG_PREVENT_DESTROY.into(), "true".into());
        }
        if self.deletion_policy == DeletionPolicy::Delete {
            tags.insert(TAG_DELETION_POLICY.into(), "delete".into());
        }
        tags
    }
}

/// An object found in the account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservedResource {
    pub kind: String,
    pub aws_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Fields in the same shape as [`DesiredResource::attrs`].
    #[serde(default)]
    pub attrs: Map<String, Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Lifecycle status where AWS has one (jobs, throughput).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Facts that are not declared but matter to the plan: `objectCount`,
    /// `storedBytes`, `commitmentExpirationTime`, `outputModelName`, `baseModel`...
    #[serde(default)]
    pub facts: Map<String, Value>,
}

impl ObservedResource {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
    pub fn owned_by(&self, stack: &str) -> bool {
        self.tag(TAG_STACK) == Some(stack)
    }
    pub fn fact_str(&self, key: &str) -> Option<&str> {
        self.facts.get(key).and_then(Value::as_str)
    }
    pub fn fact_u64(&self, key: &str) -> Option<u64> {
        self.facts.get(key).and_then(Value::as_u64)
    }
    pub fn user_tags(&self) -> BTreeMap<String, String> {
        self.tags
            .iter()
            .filter(|(k, _)| !is_bedform_tag(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Everything read from the account for one plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObservedAccount {
    pub account_id: String,
    pub region: String,
    /// When it was read (RFC 3339), so the pure planner can judge commitment expiry.
    pub observed_at: String,
    pub resources: Vec<ObservedResource>,
}

impl ObservedAccount {
    pub fn find(&self, kind: &str, aws_name: &str) -> Option<&ObservedResource> {
        self.resources
            .iter()
            .find(|r| r.kind == kind && r.aws_name == aws_name)
    }
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a ObservedResource> + 'a {
        self.resources.iter().filter(move |r| r.kind == kind)
    }
}

/// The stack the manifests describe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackInfo {
    pub name: String,
    pub region: String,
    pub account_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Where apply takes the stack's lock on AWS (`spec.lock`).
    pub lock: Option<LockLocation>,
    /// The IAM path of the stack's roles (`spec.rolePath`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_path: Option<String>,
}

/// Where a stack keeps its lock on AWS (`spec.lock` of the Stack).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockLocation {
    pub bucket: String,
    pub key: String,
}

/// The validated manifests: the stack and its resources in dependency order.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredStack {
    pub stack: StackInfo,
    /// Account the values were resolved against (`accountId`, or the caller's).
    pub account_id: String,
    pub resources: Vec<DesiredResource>,
}

impl DesiredStack {
    pub fn get(&self, address: &Address) -> Option<&DesiredResource> {
        self.resources.iter().find(|r| &r.address == address)
    }
}

/// What to read: the stack, and the names its manifests declare. Objects outside
/// it are read only far enough to learn they are not the stack's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub stack: String,
    /// kind → declared AWS names (custom models under `CustomModel`).
    pub declared: BTreeMap<String, BTreeSet<String>>,
    /// Models whose availability and agreements matter.
    pub models: BTreeSet<String>,
    /// Whether a use-case form is declared.
    pub use_case_form: bool,
    /// Read every object of the region, owned or not (`bedform export`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub everything: bool,
    /// The IAM path every role of the stack lives under (`spec.rolePath`): the
    /// roles it owns are listed under that path only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_path: Option<String>,
}

impl Scope {
    /// The scope a saved plan was made with.
    pub fn of_plan(plan: &plan::Plan) -> Scope {
        let mut scope = Scope {
            stack: plan.stack.clone(),
            ..Scope::default()
        };
        for change in &plan.changes {
            scope.declare(&change.address.kind, &change.aws_name);
        }
        scope
    }

    pub fn declare(&mut self, kind: &str, name: &str) {
        self.declared
            .entry(kind.to_string())
            .or_default()
            .insert(name.to_string());
    }
    pub fn declares(&self, kind: &str, name: &str) -> bool {
        self.everything
            || self
                .declared
                .get(kind)
                .is_some_and(|names| names.contains(name))
    }

    /// Everything of the region, for `bedform export`.
    pub fn everything(stack: &str) -> Scope {
        Scope {
            stack: stack.to_string(),
            everything: true,
            ..Scope::default()
        }
    }
    pub fn declares_kind(&self, kind: &str) -> bool {
        self.declared
            .get(kind)
            .is_some_and(|names| !names.is_empty())
    }
}
