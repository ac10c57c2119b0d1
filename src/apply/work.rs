//! The work of an apply: its options, what each change came to ([`Outcome`]),
//! the report, and what is still in flight between rounds.

use super::interrupt::Interrupt;
use crate::model::Address;
use crate::plan::{Action, Change, WaitOn};
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Follow jobs and throughput until they converge.
    pub wait: bool,
    /// Longest wait for anything converging.
    pub timeout: Duration,
    /// Backoff settings (shortened in tests).
    pub retry: RetryPolicy,
    /// Stops sending and following when pressed.
    pub interrupt: Interrupt,
    /// How bedform was run, for the commands a result suggests.
    pub invocation: crate::model::Invocation,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            wait: false,
            timeout: Duration::from_secs(6 * 3600),
            retry: RetryPolicy::default(),
            interrupt: Interrupt::never(),
            invocation: crate::model::Invocation::default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts for throttling and transient errors.
    pub max_attempts: u32,
    /// How long IAM propagation errors are retried.
    pub iam_propagation: Duration,
    /// How often waits poll.
    pub poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_attempts: 6,
            iam_propagation: Duration::from_secs(120),
            poll: Duration::from_secs(1),
        }
    }
}

/// How one change ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Done,
    /// Accepted by AWS and still converging (a job training, throughput creating).
    Converging {
        status: String,
    },
    /// Waiting on another resource; a later apply (or `--wait`) does it.
    Pending {
        reason: String,
    },
    /// The account's quota is full; a later apply starts it.
    Queued {
        reason: String,
    },
    Failed {
        error: String,
    },
    /// Not attempted because something it depends on did not finish.
    Skipped {
        reason: String,
    },
    /// Not sent (or not all of it) because apply was interrupted.
    Interrupted {
        reason: String,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct ChangeResult {
    pub address: Address,
    pub aws_name: String,
    pub action: Action,
    /// Operations that completed, in order.
    pub done: Vec<String>,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ApplyReport {
    pub results: Vec<ChangeResult>,
}

impl ApplyReport {
    pub fn failed(&self) -> bool {
        self.results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }))
    }
    /// Whether an interrupt kept any change from being sent in full.
    pub fn interrupted(&self) -> bool {
        self.results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Interrupted { .. }))
    }
}

pub(super) fn is_teardown(change: &Change) -> bool {
    matches!(change.action, Action::Delete | Action::Forget)
}

/// Whether apply has anything to do for a change.
pub(super) fn acts(change: &Change) -> bool {
    !change.ops.is_empty() || change.waits_on.is_some()
}

/// What keeps a change from being finished after a round.
pub(super) enum Follow {
    /// Waits for an object another change produces (a model in training).
    Dependency(WaitOn),
    /// A job or throughput converging; with `then_continue`, the change's remaining
    /// operations run in a later round once it is ready (the old throughput of a
    /// replacement is deleted only once the new one serves).
    Converging {
        kind: String,
        name: String,
        then_continue: bool,
    },
    /// Waits until the changes at these addresses are finished (none of them
    /// unfinished any more).
    After(Vec<Address>),
    /// Refused for the account's quota; tried again in a later round.
    Quota { since: Instant },
    /// Ready, but the operations can only be planned from fresh state.
    Replan,
}

/// A change a round left unfinished: its result in the report, the operations
/// still to send, and what it waits for.
pub(super) struct Unfinished {
    pub(super) entry: usize,
    pub(super) change: Change,
    pub(super) follow: Follow,
    /// Ready for the next round.
    pub(super) due: bool,
}

/// One change to run in a round, and its entry in the report if an earlier round
/// started it.
pub(super) struct Work {
    pub(super) change: Change,
    pub(super) entry: Option<usize>,
}

/// How a round left one change.
pub(super) struct Step {
    pub(super) entry: Option<usize>,
    pub(super) result: ChangeResult,
    pub(super) rest: Option<(Change, Follow)>,
}
