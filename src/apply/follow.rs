//! Following what converges after AWS accepted it: a job that trains, a
//! throughput being created, until it is ready, failed or out of time.

use super::progress::Progress;
use crate::cloud::{Cloud, CloudError, ErrorClass};
use crate::kinds::{Kind, StatusClass};
use crate::model::Address;
use crate::plan::{Action, WaitOn};
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;

use super::work::*;

/// Follows what is unfinished, without the lock, until something is due for a
/// round (true) or nothing more will happen in this apply (false). Results are
/// updated as things end.
pub(super) async fn follow(
    cloud: &dyn Cloud,
    unfinished: &mut Vec<Unfinished>,
    report: &mut ApplyReport,
    deadline: Instant,
    options: &ApplyOptions,
    progress: &Progress,
) -> bool {
    let mut bars: BTreeMap<usize, super::progress::Bar<'_>> = BTreeMap::new();
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
        let (label, stages) = match &u.follow {
            // What it waits on is made by another object (a job): its stages.
            Follow::Dependency(wait) => (
                format!("{} (waits on {})", u.change.address, wait.address),
                Kind::parse(&wait.kind)
                    .and_then(|k| k.facts().made_by)
                    .map_or(&[][..], |maker| maker.facts().stages),
            ),
            Follow::Converging { kind, name, .. } => {
                (format!("{kind} {name}"), Kind::stages_of(kind))
            }
            Follow::After(_) | Follow::Quota { .. } | Follow::Replan => continue,
        };
        bars.insert(u.entry, progress.bar(&label, stages));
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
                // Planned again in the next round, once what it depends on is.
                Follow::Replan => {
                    u.due = true;
                    None
                }
                // Decided below, once the others are.
                Follow::After(_) => None,
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
        order_by_dependencies(unfinished);
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
                        format!("`{}` follows it", options.invocation.line("status --wait")),
                    ),
                    _ => (
                        result.address.to_string(),
                        format!(
                            "`{}` makes it once it can",
                            options.invocation.line("apply --wait")
                        ),
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

/// A change is due only once nothing it depends on is still being followed, so
/// that the two go in one round in their order (a superseded model is deleted in
/// the round that swaps its throughput off it, not before). One that waits only
/// for others is due once they have ended.
fn order_by_dependencies(unfinished: &mut [Unfinished]) {
    // Dependencies are acyclic, so this settles; the bound is only a guard.
    for _ in 0..=unfinished.len() {
        // What others depend on is the declared object's change: a delete or a
        // stop at the same address (an old generation) is no dependency.
        let waiting: BTreeSet<Address> = unfinished
            .iter()
            .filter(|u| !u.due && !is_teardown(&u.change) && u.change.action != Action::Stop)
            .map(|u| u.change.address.clone())
            .collect();
        let mut changed = false;
        for u in unfinished.iter_mut() {
            let blocked = |a: &Address| *a != u.change.address && waiting.contains(a);
            let after: &[Address] = match &u.follow {
                Follow::After(addresses) => addresses,
                _ => &[],
            };
            let held = u.change.depends_on.iter().chain(after).any(blocked);
            if u.due == held {
                // Due and held back, or waiting only on others that have ended.
                if held || !after.is_empty() {
                    u.due = !held;
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// Whether `status` of an object of `kind` is where it was going.
pub(super) fn is_ready(kind: &str, status: &str) -> bool {
    Kind::status_class_of(kind, status) == StatusClass::Ready
}

/// Whether `status` of an object of `kind` is on its way somewhere.
pub(super) fn is_transitional(kind: &str, status: &str) -> bool {
    Kind::status_class_of(kind, status) == StatusClass::Transitional
}

/// Where an awaited object stands.
pub(super) enum Readiness {
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

/// Whether the awaited object exists; an error if the job producing it ended
/// without it.
pub(super) async fn dependency(cloud: &dyn Cloud, wait: &WaitOn) -> Result<Readiness, CloudError> {
    // The object that makes the awaited one (a custom model's job).
    let maker = Kind::parse(&wait.kind).and_then(|k| k.facts().made_by);
    let job = match (&wait.job, maker) {
        (Some(name), Some(maker)) => cloud.get(maker.as_str(), name).await?,
        (Some(_), None) | (None, _) => None,
    };
    // The model counts once its job has completed, not merely when it is listed.
    let job_class = |j: &crate::model::ObservedResource| {
        Kind::status_class_of(&j.kind, j.status.as_deref().unwrap_or_default())
    };
    let trained = wait.job.is_none() || job.as_ref().map(job_class) == Some(StatusClass::Ready);
    if trained && let Some(awaited) = cloud.get(&wait.kind, &wait.name).await? {
        // Made by its own create (a model brought in from outside): ready once
        // its own status says so.
        return match job_class(&awaited) {
            StatusClass::Transitional => Ok(Readiness::Training {
                status: awaited.status.clone().unwrap_or_default(),
                stage: None,
                progress: None,
            }),
            StatusClass::Failed => Err(CloudError::new(
                ErrorClass::Conflict,
                format!("waiting for {}", wait.address),
                format!(
                    "{} `{}` is {}",
                    awaited.kind,
                    awaited.aws_name,
                    awaited.status.as_deref().unwrap_or("?")
                ),
            )),
            StatusClass::Ready | StatusClass::Undocumented => Ok(Readiness::Ready),
        };
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
