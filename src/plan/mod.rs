//! The planner: a pure function of desired and observed state. No I/O, no clock
//! (the observation time comes in with the observed state), sorted output.

pub mod generic;
pub mod saved;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{
    Address, DesiredResource, DesiredStack, ObservedAccount, ObservedResource, TAG_ADDRESS,
};

/// Version of the JSON plan format (`plan --format json`, `plan --out`). A reader
/// accepts only the version it was built for; any change of shape bumps it.
///
/// - 1.0: one whole-account `observed_fingerprint`.
/// - 1.1: `observed_fingerprints`, one per observed object, so a stale plan names
///   what changed; files written by `plan --out` carry a `checksum` (see [`saved`]).
/// - 1.2: a `cost` on changes that create provisioned throughput.
pub const FORMAT_VERSION: &str = "1.2";

/// Facts that move while nothing the plan depends on does (a job's stage and
/// percentage). Fingerprints leave them out so progress alone never makes a saved
/// plan stale; a job's `status` is kept, since a job finishing changes the plan.
const VOLATILE_FACTS: &[&str] = &["stage", "progress"];

/// Amounts of data that grow all the time (a bucket or log group receiving
/// invocation logs). The plan only asks whether there is any, so fingerprints keep
/// just that.
const DATA_FACTS: &[&str] = &["objectCount", "storedBytes"];

/// What will happen to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    /// Stop a running customization job.
    Stop,
    /// Stop managing: remove ownership tags, keep the object (deletionPolicy: retain).
    Forget,
    /// Waiting on another resource to converge (a model still training).
    Wait,
    NoOp,
    /// The plan refuses this change (preventDestroy, commitment not expired...).
    Refused,
    /// An object with the declared name exists but this stack does not own it.
    Unmanaged,
}

impl Action {
    pub fn symbol(self, create_before_destroy: bool) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace if create_before_destroy => "+/-",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::Stop => "!",
            Action::Forget => ".",
            Action::Wait => "…",
            Action::NoOp => " ",
            Action::Refused => "x",
            Action::Unmanaged => "?",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update in-place",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::Stop => "stop",
            Action::Forget => "stop managing (kept in AWS)",
            Action::Wait => "wait",
            Action::NoOp => "no change",
            Action::Refused => "refused",
            Action::Unmanaged => "exists, not managed",
        }
    }
    /// Whether the plan cannot be applied while this action is in it.
    pub fn blocks_apply(self) -> bool {
        matches!(self, Action::Refused | Action::Unmanaged)
    }
}

/// One field that differs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub forces_replacement: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub sensitive: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A purchase of provisioned throughput under commitment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    pub commitment: String,
    pub model_units: u64,
    pub model: String,
}

/// What must converge before a change can run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitOn {
    pub address: Address,
    /// The AWS object awaited (`CustomModel` name, job name...).
    pub kind: String,
    pub name: String,
    /// The customization job that produces it, to follow while waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    pub reason: String,
}

/// A concrete operation apply performs. The saved plan carries these, so apply runs
/// exactly what was reviewed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Create {
        kind: String,
        name: String,
        attrs: Map<String, Value>,
        tags: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_request_token: Option<String>,
    },
    Update {
        kind: String,
        name: String,
        attrs: Map<String, Value>,
        tags: BTreeMap<String, String>,
        /// Top-level attributes that change.
        fields: Vec<String>,
        /// The name it has now, when the update renames it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current_name: Option<String>,
    },
    Delete {
        kind: String,
        name: String,
        #[serde(default, skip_serializing_if = "is_false")]
        empty_first: bool,
    },
    StopJob {
        name: String,
    },
    Untag {
        kind: String,
        name: String,
        keys: Vec<String>,
    },
}

impl Op {
    /// The kind of the object the operation is sent to.
    pub fn kind(&self) -> &str {
        match self {
            Op::Create { kind, .. }
            | Op::Update { kind, .. }
            | Op::Delete { kind, .. }
            | Op::Untag { kind, .. } => kind,
            Op::StopJob { .. } => crate::kinds::Kind::CustomizationJob.as_str(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Op::Create { kind, name, .. } => format!("create {kind} {name}"),
            Op::Update { kind, name, .. } => format!("update {kind} {name}"),
            Op::Delete { kind, name, .. } => format!("delete {kind} {name}"),
            Op::StopJob { name } => format!("stop customization job {name}"),
            Op::Untag { kind, name, .. } => format!("remove ownership tags from {kind} {name}"),
        }
    }
}

/// The plan for one resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// The AWS name of the object concerned.
    pub aws_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDiff>,
    /// The account differs from what was last applied, outside bedform.
    #[serde(default, skip_serializing_if = "is_false")]
    pub drift: bool,
    /// Replacement creates the new object before deleting the old one.
    #[serde(default, skip_serializing_if = "is_false")]
    pub create_before_destroy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<Purchase>,
    /// What the provisioned throughput it creates costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::pricing::Cost>,
    /// Starts a training job (costs money and hours).
    #[serde(default, skip_serializing_if = "is_false")]
    pub retrains: bool,
    /// Deletes data (objects, log events, a trained model).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deletes_data: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_on: Option<WaitOn>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<Op>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub depends_on: BTreeSet<Address>,
    /// `file:line` of the document that declares it (none for undeclared objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Change {
    pub fn new(address: Address, aws_name: impl Into<String>, action: Action) -> Self {
        Change {
            address,
            action,
            aws_name: aws_name.into(),
            reason: None,
            fields: Vec::new(),
            drift: false,
            create_before_destroy: false,
            purchase: None,
            cost: None,
            retrains: false,
            deletes_data: false,
            status: None,
            status_message: None,
            waits_on: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            ops: Vec::new(),
            depends_on: BTreeSet::new(),
            source: None,
        }
    }
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    pub fn with_op(mut self, op: Op) -> Self {
        self.ops.push(op);
        self
    }
    pub fn with_fields(mut self, fields: Vec<FieldDiff>) -> Self {
        self.fields = fields;
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    pub fn warn(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }
    pub fn with_status(mut self, observed: &ObservedResource) -> Self {
        self.status = observed.status.clone();
        self.status_message = observed.status_message.clone();
        self
    }
    /// Whether the change does anything at apply.
    pub fn is_change(&self) -> bool {
        !matches!(self.action, Action::NoOp)
    }
}

/// Counts for the closing line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub stop: usize,
    pub forget: usize,
    pub wait: usize,
    pub refused: usize,
    pub unmanaged: usize,
    pub drift: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Stop => s.stop += 1,
                Action::Forget => s.forget += 1,
                Action::Wait => s.wait += 1,
                Action::Refused => s.refused += 1,
                Action::Unmanaged => s.unmanaged += 1,
                Action::NoOp => {}
            }
            if c.drift {
                s.drift += 1;
            }
        }
        s
    }
}

/// The plan: the one model every renderer draws from, and what `apply --plan`
/// executes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub bedform_version: String,
    pub stack: String,
    pub account_id: String,
    pub region: String,
    /// What the plan was made from: per observed object (`Kind/aws-name`), a hash of
    /// what was read, so `apply --plan` can name the objects that changed since.
    pub observed_fingerprints: BTreeMap<String, String>,
    /// What was read from the account, so a saved plan is checked against the same.
    #[serde(default)]
    pub scope: crate::model::Scope,
    /// The stack's lock on AWS (`spec.lock`), which `apply --plan` takes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<crate::lock::LockLocation>,
    pub changes: Vec<Change>,
    pub summary: Summary,
}

impl Plan {
    /// Whether apply would do anything now: a change that only waits on another
    /// resource, with nothing to send, is not one.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.is_change() && (c.action != Action::Wait || !c.ops.is_empty()))
    }
    pub fn blocking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action.blocks_apply())
    }
    /// Changes that create provisioned throughput, with what it costs.
    pub fn costs(&self) -> impl Iterator<Item = (&Change, &crate::pricing::Cost)> {
        self.changes
            .iter()
            .filter_map(|c| c.cost.as_ref().map(|cost| (c, cost)))
    }
    pub fn purchases(&self) -> impl Iterator<Item = (&Change, &Purchase)> {
        self.changes
            .iter()
            .filter_map(|c| c.purchase.as_ref().map(|p| (c, p)))
    }
}

/// Choices that change what the plan does.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Re-plan jobs that failed or were stopped outside bedform, under a new name.
    pub retry_failed: bool,
    /// Prices of provisioned throughput, for the cost of a purchase.
    pub prices: crate::pricing::Prices,
}

/// What a kind's planner can see.
pub struct PlanCx<'a> {
    pub desired: &'a DesiredStack,
    pub observed: &'a ObservedAccount,
    pub options: &'a PlanOptions,
    claimed: RefCell<BTreeSet<(String, String)>>,
}

impl<'a> PlanCx<'a> {
    pub fn stack(&self) -> &str {
        &self.desired.stack.name
    }
    /// Marks an observed object as accounted for by a declared resource.
    pub fn claim(&self, observed: &ObservedResource) {
        self.claimed
            .borrow_mut()
            .insert((observed.kind.clone(), observed.aws_name.clone()));
    }
    pub fn is_claimed(&self, observed: &ObservedResource) -> bool {
        self.claimed
            .borrow()
            .contains(&(observed.kind.clone(), observed.aws_name.clone()))
    }
    pub fn find(&self, kind: &str, aws_name: &str) -> Option<&'a ObservedResource> {
        self.observed.find(kind, aws_name)
    }
    /// Objects of `kind` this stack owns for `address`.
    pub fn owned_for(&self, kind: &'a str, address: &Address) -> Vec<&'a ObservedResource> {
        let address = address.to_string();
        let stack = self.stack().to_string();
        self.observed
            .of_kind(kind)
            .filter(|o| o.owned_by(&stack) && o.tag(TAG_ADDRESS) == Some(address.as_str()))
            .collect()
    }
    /// Declared resources of a kind.
    pub fn declared(&self, kind: &'a str) -> impl Iterator<Item = &'a DesiredResource> + 'a {
        self.desired
            .resources
            .iter()
            .filter(move |r| r.address.kind == kind)
    }
    /// The observation time (RFC 3339).
    pub fn now(&self) -> &str {
        &self.observed.observed_at
    }
}

/// Plans the account towards the manifests.
pub fn plan(desired: &DesiredStack, observed: &ObservedAccount, options: &PlanOptions) -> Plan {
    let cx = PlanCx {
        desired,
        observed,
        options,
        claimed: RefCell::new(BTreeSet::new()),
    };
    let mut changes = Vec::new();
    for resource in &desired.resources {
        if let Some(behaviour) = crate::kinds::behaviour(&resource.address.kind) {
            for mut change in behaviour.plan(&cx, resource) {
                change
                    .depends_on
                    .extend(resource.depends_on.iter().cloned());
                change.source = Some(resource.source.clone());
                changes.push(change);
            }
        }
    }
    let stack = desired.stack.name.as_str();
    let mut orphans: Vec<&ObservedResource> = observed
        .resources
        .iter()
        .filter(|o| o.owned_by(stack) && !cx.is_claimed(o))
        .collect();
    orphans.sort_by(|a, b| (&a.kind, &a.aws_name).cmp(&(&b.kind, &b.aws_name)));
    for orphan in orphans {
        if cx.is_claimed(orphan) {
            continue;
        }
        if let Some(behaviour) = crate::kinds::behaviour(&orphan.kind) {
            changes.extend(behaviour.plan_orphan(&cx, orphan));
        }
    }
    changes.sort_by(|a, b| {
        (&a.address, &a.aws_name, a.action).cmp(&(&b.address, &b.aws_name, b.action))
    });
    let summary = Summary::of(&changes);
    Plan {
        format_version: FORMAT_VERSION.to_string(),
        bedform_version: env!("CARGO_PKG_VERSION").to_string(),
        stack: desired.stack.name.clone(),
        account_id: observed.account_id.clone(),
        region: observed.region.clone(),
        observed_fingerprints: fingerprints(observed),
        scope: crate::model::Scope::of(desired),
        lock: desired.stack.lock.clone(),
        changes,
        summary,
    }
}

/// Per observed object, keyed `Kind/aws-name`, the hash of what was read (see
/// [`fingerprint`]). The observation time is not part of it.
pub fn fingerprints(observed: &ObservedAccount) -> BTreeMap<String, String> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in &observed.resources {
        by_key
            .entry(fingerprint_key(&resource.kind, &resource.aws_name))
            .or_default()
            .push(fingerprint(resource));
    }
    by_key
        .into_iter()
        .map(|(key, mut hashes)| {
            // Names are unique per kind in AWS; should two objects share one, the
            // pair counts, in an order that does not depend on how they were listed.
            let hash = if hashes.len() == 1 {
                hashes.remove(0)
            } else {
                hashes.sort();
                crate::hash::digest_str(&hashes.join("\n"))
            };
            (key, hash)
        })
        .collect()
}

/// The key of an observed object in [`Plan::observed_fingerprints`].
pub fn fingerprint_key(kind: &str, aws_name: &str) -> String {
    format!("{kind}/{aws_name}")
}

/// Hash of one observed object, without its [`VOLATILE_FACTS`].
pub fn fingerprint(resource: &ObservedResource) -> String {
    // Destructured so that a new observed field must be classified to compile.
    let ObservedResource {
        kind,
        aws_name,
        arn,
        attrs,
        tags,
        status,
        status_message,
        facts,
    } = resource;
    let facts: Map<String, Value> = facts
        .iter()
        .filter(|(key, _)| !VOLATILE_FACTS.contains(&key.as_str()))
        .map(|(key, value)| {
            let value = if DATA_FACTS.contains(&key.as_str()) {
                Value::Bool(value.as_u64().unwrap_or(0) > 0)
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect();
    crate::hash::digest(&serde_json::json!({
        "kind": kind,
        "awsName": aws_name,
        "arn": arn,
        "attrs": attrs,
        "tags": tags,
        "status": status,
        "statusMessage": status_message,
        "facts": facts,
    }))
}
