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

mod change;
mod follow;
pub mod progress;
mod work;

use crate::cloud::lock::Session;
use crate::cloud::{Cloud, CloudError};
use crate::model::{Address, ObservedAccount};
use crate::plan::Plan;
pub use change::APPLY_CONCURRENCY;
use change::*;
use follow::*;
pub use interrupt::Interrupt;
use progress::Progress;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;
use work::*;
pub use work::{ApplyOptions, ApplyReport, ChangeResult, Outcome, RetryPolicy};

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
                Follow::Dependency(_) | Follow::After(_) | Follow::Quota { .. } => options.wait,
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
        // What ended badly while followed holds back what depends on it.
        for r in &report.results {
            if matches!(r.outcome, Outcome::Failed { .. } | Outcome::Skipped { .. }) {
                finished.insert(r.address.clone(), false);
            }
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
