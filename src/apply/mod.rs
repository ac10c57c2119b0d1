//! Executes a plan in rounds. A round sends what can be sent now, under the stack
//! lock: job stops first (they free quota), then changes in dependency order
//! (independent ones together), deletes of what is no longer declared last, every
//! operation retried by the class of its error; a change whose wait is not over is
//! pending. Then the lock is given back, and what converges (jobs training,
//! throughput being created) is followed without it: the lock is never held while
//! waiting. With `--wait`, once something awaited is ready, the lock is taken again
//! and the next round runs, planned again from what the account holds.
//!
//! An [`Interrupt`] (Ctrl-C) stops this cleanly: nothing more is sent (the
//! operation in flight is finished, a retry in its backoff is given up), the lock
//! is given back, following stops, and the report says what was not sent.

pub mod gate;
pub mod interrupt;
pub mod progress;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use futures::future::join_all;
use serde::Serialize;

use crate::cloud::lock::Session;
use crate::cloud::{Cloud, CloudError, ErrorClass};
use crate::kinds::{Kind, StatusClass};
use crate::model::{Address, ObservedAccount};
use crate::plan::{Action, Change, Op, Plan, WaitOn};
pub use interrupt::Interrupt;
use progress::Progress;

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
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            wait: false,
            timeout: Duration::from_secs(6 * 3600),
            retry: RetryPolicy::default(),
            interrupt: Interrupt::never(),
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

fn is_teardown(change: &Change) -> bool {
    matches!(change.action, Action::Delete | Action::Forget)
}

/// Whether apply has anything to do for a change.
fn acts(change: &Change) -> bool {
    !change.ops.is_empty() || change.waits_on.is_some()
}

/// Plans again from freshly observed state, for a later round.
pub type Replan<'a> = &'a (dyn Fn(&ObservedAccount) -> Plan + Send + Sync);

/// Applies `plan` to `cloud`, unlocked, following what converges when asked to wait.
/// Later rounds continue the changes of `plan` itself.
pub async fn apply(
    cloud: &dyn Cloud,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &Progress,
) -> ApplyReport {
    apply_in_rounds(
        cloud,
        plan,
        None,
        &mut Session::unlocked(),
        options,
        progress,
    )
    .await
}

/// What keeps a change from being finished after a round.
enum Follow {
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
    /// Refused for the account's quota; tried again in a later round.
    Quota { since: Instant },
    /// Ready, but the operations can only be planned from fresh state.
    Replan,
}

/// A change a round left unfinished: its result in the report, the operations
/// still to send, and what it waits for.
struct Unfinished {
    entry: usize,
    change: Change,
    follow: Follow,
    /// Ready for the next round.
    due: bool,
}

/// One change to run in a round, and its entry in the report if an earlier round
/// started it.
struct Work {
    change: Change,
    entry: Option<usize>,
}

/// How a round left one change.
struct Step {
    entry: Option<usize>,
    result: ChangeResult,
    rest: Option<(Change, Follow)>,
}

/// Applies `plan` in rounds (see the module documentation). The first round runs
/// under whatever `lock` holds now: the caller takes it before planning, so that
/// the plan cannot go stale under a second apply. Every round ends by giving the
/// lock back, and later rounds take it again. `replan` makes the plan of later
/// rounds from fresh state; without it they continue the changes of `plan`.
pub async fn apply_in_rounds(
    cloud: &dyn Cloud,
    plan: &Plan,
    replan: Option<Replan<'_>>,
    lock: &mut Session,
    options: &ApplyOptions,
    progress: &Progress,
) -> ApplyReport {
    let deadline = Instant::now() + options.timeout;
    let mut report = ApplyReport::default();
    let mut finished: BTreeMap<Address, bool> = BTreeMap::new();
    let mut unfinished: Vec<Unfinished> = Vec::new();
    let mut work: Vec<Work> = plan
        .changes
        .iter()
        .filter(|c| acts(c))
        .map(|c| Work {
            change: c.clone(),
            entry: None,
        })
        .collect();
    loop {
        let steps = round(cloud, work, &finished, options, progress).await;
        let held = lock.held().map(|r| r.id.clone());
        if let Err(e) = lock.release().await {
            // Still held: the next release (or the caller's last) tries again.
            progress.line(&format!("warning: the stack lock was not released: {e}"));
        }
        for step in steps {
            let entry = record(&mut report, step.entry, step.result);
            finished.insert(
                report.results[entry].address.clone(),
                !matches!(
                    report.results[entry].outcome,
                    Outcome::Failed { .. } | Outcome::Skipped { .. }
                ),
            );
            let Some((change, follow)) = step.rest else {
                continue;
            };
            // Without --wait, only a replacement's delete is seen through: it was
            // part of the change, and the old throughput serves until then.
            let followed = match &follow {
                Follow::Converging { then_continue, .. } => options.wait || *then_continue,
                // Once only: a change planned again that still cannot act is left
                // for a later apply rather than planned in a loop.
                Follow::Replan => options.wait && replan.is_some() && step.entry.is_none(),
                Follow::Dependency(_) | Follow::Quota { .. } => options.wait,
            };
            if !followed {
                continue;
            }
            if let (Follow::Quota { .. }, Outcome::Queued { reason }) =
                (&follow, &report.results[entry].outcome)
                && step.entry.is_none()
            {
                progress.line(&format!(
                    "  queued {}: {reason}; waiting for a free slot",
                    change.address
                ));
            }
            unfinished.retain(|u| u.entry != entry);
            let due = matches!(follow, Follow::Replan);
            unfinished.push(Unfinished {
                entry,
                change,
                follow,
                due,
            });
        }
        if unfinished.is_empty() || options.interrupt.is_set() {
            break;
        }
        if let Some(id) = &held {
            progress.line(&format!(
                "Released lock {id}; following what converges without it."
            ));
        }
        if !follow(
            cloud,
            &mut unfinished,
            &mut report,
            deadline,
            options,
            progress,
        )
        .await
        {
            break;
        }
        // Something is ready: another round, under the lock again.
        if let Err(e) = relock(lock, deadline, options, progress).await {
            for u in unfinished.iter().filter(|u| u.due) {
                report.results[u.entry].outcome = Outcome::Pending {
                    reason: format!(
                        "the stack lock could not be taken again ({e}); a later apply does it"
                    ),
                };
            }
            break;
        }
        if let Some(record) = lock.held() {
            progress.line(&format!("Took lock {} for the next round.", record.id));
        }
        work = match next_round(cloud, plan, replan, &mut unfinished, &mut report).await {
            Ok(work) => work,
            Err(e) => {
                for u in unfinished.iter().filter(|u| u.due) {
                    report.results[u.entry].outcome = Outcome::Failed {
                        error: format!("reading the account for the next round: {e}"),
                    };
                }
                if let Err(e) = lock.release().await {
                    progress.line(&format!("warning: the stack lock was not released: {e}"));
                }
                break;
            }
        };
    }
    report
}

/// Puts `result` in the report, in place of the entry an earlier round started.
fn record(report: &mut ApplyReport, entry: Option<usize>, result: ChangeResult) -> usize {
    match entry.and_then(|i| report.results.get_mut(i).map(|r| (i, r))) {
        Some((i, earlier)) => {
            let mut done = std::mem::take(&mut earlier.done);
            done.extend(result.done);
            *earlier = ChangeResult { done, ..result };
            i
        }
        None => {
            report.results.push(result);
            report.results.len() - 1
        }
    }
}

/// Takes the lock for a later round. Another apply holds it only while it sends
/// operations, so a held lock is tried again until the deadline.
async fn relock(
    lock: &mut Session,
    deadline: Instant,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<(), crate::cloud::lock::LockError> {
    let mut announced = false;
    loop {
        match lock.acquire().await {
            Err(e @ crate::cloud::lock::LockError::Held { .. })
                if Instant::now() < deadline && !options.interrupt.is_set() =>
            {
                if !announced {
                    progress.line(&format!("Waiting for the stack lock: {e}"));
                    announced = true;
                }
                options.interrupt.sleep(options.retry.poll).await;
            }
            other => return other,
        }
    }
}

/// The work of the next round: the changes that are due, planned again from fresh
/// state when `replan` is given, else what is left of them. A fresh plan is held to
/// what was reviewed: it acts only on the addresses still unfinished, and never buys
/// what the reviewed plan did not.
async fn next_round(
    cloud: &dyn Cloud,
    plan: &Plan,
    replan: Option<Replan<'_>>,
    unfinished: &mut Vec<Unfinished>,
    report: &mut ApplyReport,
) -> Result<Vec<Work>, CloudError> {
    // Read first: if that fails, what was due stays unfinished, for the caller.
    let fresh = match replan {
        Some(replan) => Some(replan(&cloud.observe(&plan.scope).await?)),
        None => None,
    };
    let due: Vec<Unfinished>;
    (due, *unfinished) = std::mem::take(unfinished).into_iter().partition(|u| u.due);
    let Some(fresh) = fresh else {
        return Ok(due
            .into_iter()
            .map(|u| Work {
                change: u.change,
                entry: Some(u.entry),
            })
            .collect());
    };
    let addresses: BTreeSet<&Address> = due.iter().map(|u| &u.change.address).collect();
    let mut work = Vec::new();
    let mut claimed: BTreeSet<usize> = BTreeSet::new();
    for change in fresh.changes {
        if !addresses.contains(&change.address) || !(acts(&change) || change.action.blocks_apply())
        {
            continue;
        }
        // The entry this change continues: same object first, else same address.
        let entry = due
            .iter()
            .filter(|u| u.change.address == change.address && !claimed.contains(&u.entry))
            .min_by_key(|u| u.change.aws_name != change.aws_name)
            .map(|u| u.entry);
        if let Some(entry) = entry {
            claimed.insert(entry);
        }
        let reviewed_purchase = plan
            .changes
            .iter()
            .any(|c| c.address == change.address && c.purchase.is_some());
        let refusal = if change.action.blocks_apply() {
            Some(Outcome::Failed {
                error: format!(
                    "the plan made for this round refuses it: {}",
                    change.reason.as_deref().unwrap_or("see plan")
                ),
            })
        } else if change.purchase.is_some() && !reviewed_purchase {
            Some(Outcome::Skipped {
                reason: "planned again, it now buys committed throughput, which the reviewed plan did not; run apply again to review it".into(),
            })
        } else {
            None
        };
        match refusal {
            Some(outcome) => {
                record(report, entry, result(&change, Vec::new(), outcome));
            }
            None => work.push(Work { change, entry }),
        }
    }
    // Nothing left to do for it: the account already has it.
    for u in due.iter().filter(|u| !claimed.contains(&u.entry)) {
        report.results[u.entry].outcome = Outcome::Done;
    }
    Ok(work)
}

/// Follows what is unfinished, without the lock, until something is due for a
/// round (true) or nothing more will happen in this apply (false). Results are
/// updated as things end.
async fn follow(
    cloud: &dyn Cloud,
    unfinished: &mut Vec<Unfinished>,
    report: &mut ApplyReport,
    deadline: Instant,
    options: &ApplyOptions,
    progress: &Progress,
) -> bool {
    let mut bars: BTreeMap<usize, progress::Bar<'_>> = BTreeMap::new();
    // Jobs followed on their own bar: a change waiting on one does not repeat
    // its progress.
    let followed: BTreeSet<String> = unfinished
        .iter()
        .filter_map(|u| match &u.follow {
            Follow::Converging { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    for u in unfinished.iter() {
        let label = match &u.follow {
            Follow::Dependency(wait) => {
                format!("{} (waits on {})", u.change.address, wait.address)
            }
            Follow::Converging { kind, name, .. } => format!("{kind} {name}"),
            Follow::Quota { .. } | Follow::Replan => continue,
        };
        bars.insert(u.entry, progress.bar(&label));
    }
    loop {
        let mut ended_entries: Vec<usize> = Vec::new();
        for u in unfinished.iter_mut().filter(|u| !u.due) {
            let bar = bars.get(&u.entry);
            // How it ended, if it did, and the word its progress bar ends with.
            let ended: Option<(Outcome, String)> = match &u.follow {
                Follow::Dependency(wait) => match dependency(cloud, wait).await {
                    Ok(Readiness::Ready) => {
                        u.due = true;
                        None
                    }
                    Ok(Readiness::Training {
                        status,
                        stage,
                        progress,
                    }) => {
                        let own_bar = wait.job.as_ref().is_some_and(|j| followed.contains(j));
                        if let Some(bar) = bar
                            && !own_bar
                        {
                            bar.update(&status, stage.as_deref(), progress);
                        }
                        None
                    }
                    Ok(Readiness::Absent) => None,
                    // A read that failed for a moment says nothing of the job.
                    Err(e) if e.class.is_retryable() => None,
                    Err(e) => Some((
                        Outcome::Failed {
                            error: e.to_string(),
                        },
                        "failed".into(),
                    )),
                },
                Follow::Converging {
                    kind,
                    name,
                    then_continue,
                } => match cloud.get(kind, name).await {
                    Ok(Some(observed)) => {
                        let status = observed.status.clone().unwrap_or_default();
                        let outcome = if is_transitional(kind, &status) {
                            if let Some(bar) = bar {
                                bar.update(
                                    &status,
                                    observed.fact_str("stage"),
                                    observed.facts.get("progress").and_then(|p| p.as_f64()),
                                );
                            }
                            None
                        } else if *then_continue && is_ready(kind, &status) {
                            u.due = true;
                            None
                        } else if *then_continue {
                            Some(Outcome::Failed {
                                error: format!(
                                    "new {kind} `{name}` is {status}; the old one was kept"
                                ),
                            })
                        } else if is_ready(kind, &status) {
                            Some(Outcome::Done)
                        } else {
                            Some(Outcome::Failed {
                                error: format!("{kind} `{name}` ended {status}"),
                            })
                        };
                        if u.due
                            && let Some(bar) = bar
                        {
                            bar.finish(&status);
                        }
                        outcome.map(|o| (o, status))
                    }
                    Ok(None) => Some((
                        Outcome::Failed {
                            error: format!("waiting for {kind} {name}: it no longer exists"),
                        },
                        "gone".into(),
                    )),
                    Err(e) if e.class.is_retryable() => None,
                    Err(e) => Some((
                        Outcome::Failed {
                            error: e.to_string(),
                        },
                        "failed".into(),
                    )),
                },
                Follow::Quota { since } => {
                    // Slots free when jobs end, which takes long: try gently.
                    u.due = since.elapsed() >= options.retry.max_backoff;
                    None
                }
                Follow::Replan => None,
            };
            if let Some((outcome, last_word)) = ended {
                if let Some(bar) = bar {
                    bar.finish(&last_word);
                }
                report.results[u.entry].outcome = outcome;
                ended_entries.push(u.entry);
            } else if u.due
                && matches!(u.follow, Follow::Dependency(_))
                && let Some(bar) = bar
            {
                bar.finish("ready");
            }
        }
        unfinished.retain(|u| !ended_entries.contains(&u.entry));
        if unfinished.iter().any(|u| u.due) {
            for u in unfinished.iter().filter(|u| !u.due) {
                if let Some(bar) = bars.get(&u.entry) {
                    bar.finish("following after the next round");
                }
            }
            return true;
        }
        if unfinished.is_empty() {
            return false;
        }
        if Instant::now() >= deadline {
            // What --wait was asked to see through did not happen: a failure to
            // report, whatever it was waiting for.
            for u in unfinished.iter() {
                if let Some(bar) = bars.get(&u.entry) {
                    bar.finish("timed out");
                }
                let result = &mut report.results[u.entry];
                let still = match &result.outcome {
                    Outcome::Converging { status } => format!("still {status}"),
                    Outcome::Pending { reason } | Outcome::Queued { reason } => {
                        format!("still waiting ({reason})")
                    }
                    _ => "not finished".to_string(),
                };
                let (object, next) = match &u.follow {
                    Follow::Converging { kind, name, .. } => (
                        format!("{kind} {name}"),
                        "`bedform status --wait` follows it",
                    ),
                    _ => (
                        result.address.to_string(),
                        "`bedform apply --wait` makes it once it can",
                    ),
                };
                result.outcome = Outcome::Failed {
                    error: format!("waiting for {object}: {still} after the timeout; {next}"),
                };
            }
            return false;
        }
        if options.interrupt.sleep(options.retry.poll).await {
            for u in unfinished.iter() {
                if let Some(bar) = bars.get(&u.entry) {
                    bar.finish("no longer followed (interrupted)");
                }
            }
            return false;
        }
    }
}

/// Whether `status` of an object of `kind` is where it was going.
fn is_ready(kind: &str, status: &str) -> bool {
    Kind::status_class_of(kind, status) == StatusClass::Ready
}

/// Whether `status` of an object of `kind` is on its way somewhere.
fn is_transitional(kind: &str, status: &str) -> bool {
    Kind::status_class_of(kind, status) == StatusClass::Transitional
}

/// Runs one round: job stops, then creates and updates in dependency waves, then
/// teardown. `earlier` holds how changes of earlier rounds ended.
async fn round(
    cloud: &dyn Cloud,
    work: Vec<Work>,
    earlier: &BTreeMap<Address, bool>,
    options: &ApplyOptions,
    progress: &Progress,
) -> Vec<Step> {
    let (stops, work): (Vec<Work>, Vec<Work>) = work
        .into_iter()
        .partition(|w| w.change.action == Action::Stop);
    let (teardown, build): (Vec<Work>, Vec<Work>) =
        work.into_iter().partition(|w| is_teardown(&w.change));
    let mut steps = Vec::new();
    let mut finished: BTreeMap<Address, bool> = earlier.clone();

    // Jobs that are replaced or no longer declared stop first: they hold the slots
    // of the job quota their successors need.
    for w in stops {
        steps.push(run_change(cloud, w, options, progress).await);
    }

    // Creates and updates in dependency waves.
    let in_round: BTreeSet<Address> = build.iter().map(|w| w.change.address.clone()).collect();
    let mut this_round: BTreeSet<Address> = BTreeSet::new();
    let mut remaining = build;
    while !remaining.is_empty() {
        let (ready, blocked): (Vec<Work>, Vec<Work>) = remaining.into_iter().partition(|w| {
            w.change
                .depends_on
                .iter()
                .all(|d| !in_round.contains(d) || this_round.contains(d))
        });
        if ready.is_empty() {
            for w in blocked {
                steps.push(Step {
                    entry: w.entry,
                    result: result(
                        &w.change,
                        Vec::new(),
                        Outcome::Skipped {
                            reason: "its dependencies could not be ordered".into(),
                        },
                    ),
                    rest: None,
                });
            }
            break;
        }
        let runs = ready.into_iter().map(|w| {
            let failed_dep = w
                .change
                .depends_on
                .iter()
                .find(|d| finished.get(*d) == Some(&false))
                .cloned();
            async move {
                if let Some(dep) = failed_dep {
                    return Step {
                        entry: w.entry,
                        result: result(
                            &w.change,
                            Vec::new(),
                            Outcome::Skipped {
                                reason: format!("{dep} did not finish"),
                            },
                        ),
                        rest: None,
                    };
                }
                run_change(cloud, w, options, progress).await
            }
        });
        for step in join_all(runs).await {
            let ok = !matches!(
                step.result.outcome,
                Outcome::Failed { .. } | Outcome::Skipped { .. }
            );
            finished.insert(step.result.address.clone(), ok);
            this_round.insert(step.result.address.clone());
            steps.push(step);
        }
        remaining = blocked;
    }

    // Then what is no longer declared, dependents first.
    let mut teardown = teardown;
    teardown.sort_by_key(|w| {
        (
            w.change
                .ops
                .first()
                .map(Op::kind)
                .map(Kind::teardown_rank_of)
                .unwrap_or(9),
            w.change.address.clone(),
        )
    });
    for w in teardown {
        steps.push(run_change(cloud, w, options, progress).await);
    }
    steps
}

fn result(change: &Change, done: Vec<String>, outcome: Outcome) -> ChangeResult {
    ChangeResult {
        address: change.address.clone(),
        aws_name: change.aws_name.clone(),
        action: change.action,
        done,
        outcome,
    }
}

/// Sends what can be sent of one change now, waiting for nothing.
async fn run_change(
    cloud: &dyn Cloud,
    w: Work,
    options: &ApplyOptions,
    progress: &Progress,
) -> Step {
    let Work { mut change, entry } = w;
    let mut done = Vec::new();
    let step = |change: &Change, done: Vec<String>, outcome, rest| Step {
        entry,
        result: result(change, done, outcome),
        rest,
    };
    if options.interrupt.is_set() {
        let reason = "apply was interrupted before it was sent".to_string();
        return step(&change, done, Outcome::Interrupted { reason }, None);
    }
    if let Some(wait) = change.waits_on.clone() {
        match dependency(cloud, &wait).await {
            Ok(Readiness::Ready) => {}
            Ok(Readiness::Training { .. } | Readiness::Absent) => {
                progress.line(&format!("{}: pending, {}", change.address, wait.reason));
                let outcome = Outcome::Pending {
                    reason: format!("waits on {}: {}", wait.address, wait.reason),
                };
                return step(
                    &change.clone(),
                    done,
                    outcome,
                    Some((change, Follow::Dependency(wait))),
                );
            }
            Err(e) => {
                return step(
                    &change,
                    done,
                    Outcome::Failed {
                        error: e.to_string(),
                    },
                    None,
                );
            }
        }
        if change.ops.is_empty() {
            let outcome = Outcome::Pending {
                reason: "the awaited model is ready; run apply again to swap it in".into(),
            };
            return step(
                &change.clone(),
                done,
                outcome,
                Some((change, Follow::Replan)),
            );
        }
        // What it waited for is there: a later round need not check again.
        change.waits_on = None;
    }
    let ops = std::mem::take(&mut change.ops);
    for (index, op) in ops.iter().enumerate() {
        if options.interrupt.is_set() {
            let reason = if done.is_empty() {
                "apply was interrupted before it was sent".to_string()
            } else {
                format!("apply was interrupted before `{}` was sent", op.describe())
            };
            change.ops = ops[index..].to_vec();
            return step(&change, done, Outcome::Interrupted { reason }, None);
        }
        // A throughput being replaced keeps serving until its successor is in service.
        if let (Op::Delete { kind, .. }, true) = (op, change.create_before_destroy)
            && Kind::parse(kind).is_some_and(|k| k.facts().replacement_waits_until_ready)
            && let Some(Op::Create { name, .. }) = ops
                .get(..index)
                .and_then(|before| before.iter().find(|o| matches!(o, Op::Create { .. })))
        {
            let status = match cloud.get(kind, name).await {
                Ok(found) => found
                    .and_then(|o| o.status)
                    .unwrap_or_else(|| "gone".into()),
                Err(e) => {
                    return step(
                        &change,
                        done,
                        Outcome::Failed {
                            error: e.to_string(),
                        },
                        None,
                    );
                }
            };
            if is_transitional(kind, &status) {
                let follow = Follow::Converging {
                    kind: kind.clone(),
                    name: name.clone(),
                    then_continue: true,
                };
                change.ops = ops[index..].to_vec();
                return step(
                    &change.clone(),
                    done,
                    Outcome::Converging { status },
                    Some((change, follow)),
                );
            }
            if !is_ready(kind, &status) {
                let error = format!("new {kind} `{name}` is {status}; the old one was kept");
                return step(&change, done, Outcome::Failed { error }, None);
            }
        }
        progress.line(&format!("{}: {}", change.address, op.describe()));
        match execute_with_retry(cloud, op, &options.retry, &options.interrupt, progress).await {
            Ok(()) => done.push(op.describe()),
            // A retry given up for the interrupt: the last attempt did not succeed.
            Err(e) if e.class.is_retryable() && options.interrupt.is_set() => {
                let reason = format!(
                    "apply was interrupted while retrying `{}` (last answer: {})",
                    op.describe(),
                    e.message
                );
                return step(&change, done, Outcome::Interrupted { reason }, None);
            }
            Err(e) if e.class == ErrorClass::QuotaExceeded => {
                change.ops = ops[index..].to_vec();
                let follow = Follow::Quota {
                    since: Instant::now(),
                };
                let outcome = Outcome::Queued { reason: e.message };
                return step(&change.clone(), done, outcome, Some((change, follow)));
            }
            Err(e) => {
                return step(
                    &change,
                    done,
                    Outcome::Failed {
                        error: e.to_string(),
                    },
                    None,
                );
            }
        }
    }
    // What keeps converging after AWS accepted it.
    let created = ops.iter().rev().find_map(|op| match op {
        Op::Create { kind, name, .. } | Op::Update { kind, name, .. } if Kind::converges(kind) => {
            Some((kind.clone(), name.clone()))
        }
        _ => None,
    });
    let Some((kind, name)) = created else {
        return step(&change, done, Outcome::Done, None);
    };
    let status = match cloud.get(&kind, &name).await {
        Ok(Some(observed)) => observed.status,
        _ => None,
    };
    let follow = Follow::Converging {
        kind: kind.clone(),
        name: name.clone(),
        then_continue: false,
    };
    match status {
        Some(s) if is_ready(&kind, &s) => step(&change, done, Outcome::Done, None),
        Some(status) if is_transitional(&kind, &status) || !options.wait => step(
            &change.clone(),
            done,
            Outcome::Converging { status },
            Some((change, follow)),
        ),
        Some(status) => {
            let error = format!("{kind} `{name}` ended {status}");
            step(&change, done, Outcome::Failed { error }, None)
        }
        // Not readable right now: following it tells.
        None if options.wait => step(
            &change.clone(),
            done,
            Outcome::Converging {
                status: String::new(),
            },
            Some((change, follow)),
        ),
        None => step(&change, done, Outcome::Done, None),
    }
}

/// Runs one operation, retrying what the error class says is worth retrying; once
/// `interrupt` is pressed, the next retry is given up and the last error returned.
pub async fn execute_with_retry(
    cloud: &dyn Cloud,
    op: &Op,
    retry: &RetryPolicy,
    interrupt: &Interrupt,
    progress: &Progress,
) -> Result<(), CloudError> {
    let started = tokio::time::Instant::now();
    let mut backoff = retry.first_backoff;
    let mut attempt = 1;
    loop {
        match cloud.execute(op).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                let retry_more = match e.class {
                    ErrorClass::Throttling | ErrorClass::Transient => attempt < retry.max_attempts,
                    ErrorClass::IamPropagation => {
                        started.elapsed() + backoff <= retry.iam_propagation
                    }
                    _ => false,
                };
                if !retry_more || interrupt.is_set() {
                    return Err(e);
                }
                progress.line(&format!(
                    "  retrying {} in {:.1}s: {}",
                    op.describe(),
                    backoff.as_secs_f64(),
                    e.message
                ));
                if interrupt.sleep(backoff).await {
                    return Err(e);
                }
                backoff = (backoff * 2).min(retry.max_backoff);
                attempt += 1;
            }
        }
    }
}

/// Where an awaited object stands.
enum Readiness {
    Ready,
    /// Its job is still running.
    Training {
        status: String,
        stage: Option<String>,
        progress: Option<f64>,
    },
    /// Not there yet, and no job of this account is seen producing it.
    Absent,
}

/// The kind of the job a [`WaitOn`] names (the data model says only `job`).
const JOB: &str = "CustomizationJob";

/// Whether the awaited object exists; an error if the job producing it ended
/// without it.
async fn dependency(cloud: &dyn Cloud, wait: &WaitOn) -> Result<Readiness, CloudError> {
    let job = match &wait.job {
        Some(name) => cloud.get(JOB, name).await?,
        None => None,
    };
    // The model counts once its job has completed, not merely when it is listed.
    let job_class = |j: &crate::model::ObservedResource| {
        Kind::status_class_of(JOB, j.status.as_deref().unwrap_or_default())
    };
    let trained = wait.job.is_none() || job.as_ref().map(job_class) == Some(StatusClass::Ready);
    if trained && cloud.get(&wait.kind, &wait.name).await?.is_some() {
        return Ok(Readiness::Ready);
    }
    let Some(j) = job else {
        return Ok(Readiness::Absent);
    };
    if job_class(&j) == StatusClass::Failed {
        return Err(CloudError::new(
            ErrorClass::Conflict,
            format!("waiting for {}", wait.address),
            format!(
                "job `{}` ended {}",
                j.aws_name,
                j.status.as_deref().unwrap_or("?")
            ),
        ));
    }
    Ok(Readiness::Training {
        status: j.status.clone().unwrap_or_default(),
        stage: j.fact_str("stage").map(str::to_string),
        progress: j.facts.get("progress").and_then(|p| p.as_f64()),
    })
}
