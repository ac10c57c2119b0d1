//! One round's changes sent to the account: each change's operations in order,
//! retried as their errors allow, after what it waits on is ready.

use super::interrupt::Interrupt;
use super::progress::Progress;
use crate::cloud::{Cloud, CloudError, ErrorClass};
use crate::kinds::Kind;
use crate::model::Address;
use crate::plan::{Action, Change, Op};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

use super::follow::{Readiness, dependency, is_ready, is_transitional};
use super::work::*;

/// How many changes apply sends at once. Each change makes its calls one after
/// another, and the control-plane APIs it calls are rate-limited per account to a
/// few requests a second (IAM's role writes, Bedrock's Create* calls): eight
/// changes in flight keep within those rates with room for plan reads, where more
/// would buy throttling retries instead of speed.
pub const APPLY_CONCURRENCY: usize = 8;

/// Runs one round: job stops, then creates and updates in dependency order, then
/// teardown. `earlier` holds how changes of earlier rounds ended.
pub(super) async fn round(
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

    // A replacement that makes the new object before the old one goes keeps the old
    // one until what uses it in this round has been pointed at the new one.
    let mut build = build;
    let used: BTreeSet<Address> = build
        .iter()
        .flat_map(|w| w.change.depends_on.iter().cloned())
        .collect();
    let mut deferred: Vec<Change> = Vec::new();
    for w in build
        .iter_mut()
        .filter(|w| used.contains(&w.change.address))
    {
        if let Some(tail) = deletes_after_create(&w.change) {
            let mut rest = w.change.clone();
            rest.ops = w.change.ops.split_off(tail);
            deferred.push(rest);
        }
    }
    let users: BTreeMap<Address, Vec<Address>> = deferred
        .iter()
        .map(|rest| {
            let users = build
                .iter()
                .filter(|w| w.change.depends_on.contains(&rest.address))
                .map(|w| w.change.address.clone())
                .collect();
            (rest.address.clone(), users)
        })
        .collect();

    // Creates and updates: each starts once what it depends on in this round is
    // done, at most APPLY_CONCURRENCY at once.
    steps.extend(build_in_order(cloud, build, &mut finished, options, progress).await);

    // The old objects of those replacements, once nothing here uses them.
    for rest in deferred {
        let users = &users[&rest.address];
        finish_replacement(cloud, rest, users, &mut steps, options, progress).await;
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
        // A delete that waits for changes of this round (a superseded model, for
        // the throughputs swapped off it) goes only once they are done.
        let held = w.change.depends_on.iter().find_map(|d| {
            let Some(step) = steps.iter().find(|s| &s.result.address == d) else {
                // Not in this round: it must not have failed in an earlier one.
                return (finished.get(d) == Some(&false)).then(|| (d.clone(), false));
            };
            match &step.result.outcome {
                Outcome::Done => None,
                Outcome::Failed { .. } | Outcome::Skipped { .. } | Outcome::Interrupted { .. } => {
                    Some((d.clone(), false))
                }
                _ => Some((d.clone(), true)),
            }
        });
        let step = match held {
            None => run_change(cloud, w, options, progress).await,
            Some((dep, false)) => skipped(&w, &dep),
            Some((dep, true)) => Step {
                entry: w.entry,
                result: result(
                    &w.change,
                    Vec::new(),
                    Outcome::Pending {
                        reason: format!("waits until {dep} is done"),
                    },
                ),
                rest: Some((w.change.clone(), Follow::After(vec![dep]))),
            },
        };
        steps.push(step);
    }
    steps
}

/// Sends `build` (the round's creates and updates), each change once those it
/// depends on in this round are done, `APPLY_CONCURRENCY` at a time; one whose
/// dependency failed is skipped. The steps come back in dependency levels, each in
/// the order of `build`, whatever order they finished in.
async fn build_in_order(
    cloud: &dyn Cloud,
    build: Vec<Work>,
    finished: &mut BTreeMap<Address, bool>,
    options: &ApplyOptions,
    progress: &Progress,
) -> Vec<Step> {
    let in_round: BTreeSet<Address> = build.iter().map(|w| w.change.address.clone()).collect();
    // The dependency level of each change done (one more than its deepest
    // dependency in this round): what may start next, and the order of the steps.
    let mut level: BTreeMap<Address, usize> = BTreeMap::new();
    let mut pending: Vec<(usize, Work)> = build.into_iter().enumerate().collect();
    let mut running = FuturesUnordered::new();
    let mut done: Vec<(usize, usize, Step)> = Vec::new();
    loop {
        while running.len() < APPLY_CONCURRENCY {
            let ready = pending.iter().position(|(_, w)| {
                w.change
                    .depends_on
                    .iter()
                    .all(|d| !in_round.contains(d) || level.contains_key(d))
            });
            let Some(at) = ready else {
                break;
            };
            let (order, w) = pending.remove(at);
            let deps = w.change.depends_on.iter();
            let depth = deps.filter_map(|d| level.get(d)).max().map_or(0, |l| l + 1);
            let failed_dep = w
                .change
                .depends_on
                .iter()
                .find(|d| finished.get(*d) == Some(&false))
                .cloned();
            running.push(async move {
                let step = match failed_dep {
                    Some(dep) => skipped(&w, &dep),
                    None => run_change(cloud, w, options, progress).await,
                };
                (order, depth, step)
            });
        }
        let Some((order, depth, step)) = running.next().await else {
            break;
        };
        let ok = !matches!(
            step.result.outcome,
            Outcome::Failed { .. } | Outcome::Skipped { .. }
        );
        finished.insert(step.result.address.clone(), ok);
        level.insert(step.result.address.clone(), depth);
        done.push((order, depth, step));
    }
    // What is left waits on something that never ran: a cycle.
    for (order, w) in pending {
        let step = not_sent(&w, "its dependencies could not be ordered".into());
        done.push((order, usize::MAX, step));
    }
    done.sort_by_key(|(order, depth, _)| (*depth, *order));
    done.into_iter().map(|(_, _, step)| step).collect()
}

/// Where the deletes of a create-before-destroy replacement begin, if they can wait
/// for its users: a kind whose old object serves until the new one is ready
/// (throughput) waits in [`run_change`] instead.
fn deletes_after_create(change: &Change) -> Option<usize> {
    if !change.create_before_destroy {
        return None;
    }
    let create = change
        .ops
        .iter()
        .position(|op| matches!(op, Op::Create { .. }))?;
    let delete = change.ops[create..]
        .iter()
        .position(|op| matches!(op, Op::Delete { .. }))?
        + create;
    let waits = Kind::parse(change.ops[delete].kind())
        .is_some_and(|k| k.facts().replacement_waits_until_ready);
    (!waits).then_some(delete)
}

/// Sends the deletes `rest` of a replacement whose new object was made this round,
/// if every change in `users` was sent (so none of them names the old object any
/// more), and puts what came of them in the replacement's step. Otherwise the old
/// object is kept, and the next plan deletes it as left over.
async fn finish_replacement(
    cloud: &dyn Cloud,
    mut rest: Change,
    users: &[Address],
    steps: &mut [Step],
    options: &ApplyOptions,
    progress: &Progress,
) {
    let Some(at) = steps
        .iter()
        .position(|s| s.result.address == rest.address && s.result.aws_name == rest.aws_name)
    else {
        return;
    };
    if steps[at].result.outcome != Outcome::Done || steps[at].rest.is_some() {
        // The create did not finish: its deletes go with whatever is left of it.
        if let Some((change, _)) = &mut steps[at].rest {
            change.ops.append(&mut rest.ops);
        }
        return;
    }
    let unsent = users.iter().find(|user| {
        !steps.iter().any(|s| {
            &s.result.address == *user
                && matches!(s.result.outcome, Outcome::Done | Outcome::Converging { .. })
        })
    });
    if let Some(user) = unsent {
        let old: Vec<String> = rest.ops.iter().map(Op::describe).collect();
        steps[at].result.outcome = Outcome::Pending {
            reason: format!(
                "not yet `{}`: {user}, which used the old object, was not pointed at the new one; a later apply finishes it",
                old.join("`, `")
            ),
        };
        return;
    }
    let step = run_change(
        cloud,
        Work {
            change: rest,
            entry: None,
        },
        options,
        progress,
    )
    .await;
    let made = &mut steps[at];
    made.result.done.extend(step.result.done);
    made.result.outcome = step.result.outcome;
    made.rest = step.rest;
}
/// Not sent, because `dep`, which it needs, did not finish.
fn skipped(w: &Work, dep: &Address) -> Step {
    not_sent(w, format!("{dep} did not finish"))
}

/// Not sent, for `reason`.
fn not_sent(w: &Work, reason: String) -> Step {
    Step {
        entry: w.entry,
        result: result(&w.change, Vec::new(), Outcome::Skipped { reason }),
        rest: None,
    }
}

pub(super) fn result(change: &Change, done: Vec<String>, outcome: Outcome) -> ChangeResult {
    ChangeResult {
        address: change.address.clone(),
        aws_name: change.aws_name.clone(),
        action: change.action,
        done,
        outcome,
    }
}

/// Sends what can be sent of one change now, waiting for nothing.
pub(super) async fn run_change(
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
