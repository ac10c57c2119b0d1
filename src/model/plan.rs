//! The plan's data: what will happen to each resource ([`Change`]), the operations
//! apply performs ([`Op`]), and the plan every renderer draws from ([`Plan`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Address, LockLocation, ObservedResource, Scope};
use crate::pricing::{Cost, Prices};

/// Version of the JSON plan format (`plan --format json`, `plan --out`). A reader
/// accepts only the version it was built for; any change of shape bumps it.
///
/// - 1.0: one whole-account `observed_fingerprint`.
/// - 1.1: `observed_fingerprints`, one per observed object, so a stale plan names
///   what changed; files written by `plan --out` carry a `checksum` (see [`saved`]).
/// - 1.2: a `cost` on changes that create provisioned throughput.
pub const FORMAT_VERSION: &str = "1.2";

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
            Op::StopJob { .. } => super::Kind::CustomizationJob.as_str(),
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
    pub cost: Option<Cost>,
    /// Starts a training job (costs money and hours).
    #[serde(default, skip_serializing_if = "is_false")]
    pub retrains: bool,
    /// Deletes data (objects, log events, a trained model).
    #[serde(default, skip_serializing_if = "is_false")]
    pub deletes_data: bool,
    /// Changes what every model invocation in the region may do or how its data
    /// is kept (a guardrail loosened, the enforced guardrail, data retention):
    /// its warnings head the pull-request comment.
    #[serde(default, skip_serializing_if = "is_false")]
    pub governs: bool,
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
            governs: false,
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
    pub scope: Scope,
    /// The stack's lock on AWS (`spec.lock`), which `apply --plan` takes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockLocation>,
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
    pub fn costs(&self) -> impl Iterator<Item = (&Change, &Cost)> {
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
    pub prices: Prices,
    /// How bedform was run, for the commands the plan suggests.
    pub invocation: crate::model::Invocation,
}
