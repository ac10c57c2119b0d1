//! Executes a plan: job stops first (they free quota), then changes in dependency
//! order (independent ones together), deletes of what is no longer declared last,
//! every operation retried by the class of its error, waits reported as pending
//! unless asked to wait.

pub mod progress;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::future::join_all;
use serde::Serialize;

use crate::cloud::{Cloud, CloudError, ErrorClass};
use crate::model::Address;
use crate::plan::{Action, Change, Op, Plan, WaitOn};
use crate::resource::customization_job as job;
use crate::resource::provisioned_throughput as pt;
use progress::Progress;

#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Follow jobs and throughput until they converge.
    pub wait: bool,
    /// Longest wait for anything converging.
    pub timeout: Duration,
    /// Backoff settings (shortened in tests).
    pub retry: RetryPolicy,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            wait: false,
            timeout: Duration::from_secs(6 * 3600),
            retry: RetryPolicy::default(),
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
}

/// Deletes of undeclared objects run last, dependents before what they depend on.
fn delete_rank(kind: &str) -> u8 {
    match kind {
        pt::KIND => 0,
        job::KIND => 1,
        job::CUSTOM_MODEL => 2,
        "InvocationLogging" => 3,
        "ModelAccess" => 4,
        "IamRole" => 5,
        _ => 6,
    }
}

fn is_teardown(change: &Change) -> bool {
    matches!(change.action, Action::Delete | Action::Forget)
}

/// Applies `plan` to `cloud`.
pub async fn apply(
    cloud: &dyn Cloud,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &Progress,
) -> ApplyReport {
    let changes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !c.ops.is_empty() || c.waits_on.is_some())
        .collect();
    let (stops, changes): (Vec<&Change>, Vec<&Change>) =
        changes.into_iter().partition(|c| c.action == Action::Stop);
    let (teardown, build): (Vec<&Change>, Vec<&Change>) =
        changes.into_iter().partition(|c| is_teardown(c));
    let mut report = ApplyReport::default();
    let mut finished: BTreeMap<Address, bool> = BTreeMap::new();

    // Jobs that are replaced or no longer declared stop first: they hold the slots
    // of the job quota their successors need.
    for change in stops {
        report
            .results
            .push(run_change(cloud, change, options, progress).await);
    }

    // Creates and updates in dependency waves.
    let in_plan: BTreeSet<&Address> = build.iter().map(|c| &c.address).collect();
    let mut remaining: Vec<&Change> = build;
    while !remaining.is_empty() {
        let (ready, blocked): (Vec<&Change>, Vec<&Change>) = remaining.into_iter().partition(|c| {
            c.depends_on
                .iter()
                .all(|d| !in_plan.contains(d) || finished.contains_key(d))
        });
        if ready.is_empty() {
            for change in blocked {
                report.results.push(result(
                    change,
                    Vec::new(),
                    Outcome::Skipped {
                        reason: "its dependencies could not be ordered".into(),
                    },
                ));
            }
            break;
        }
        let runs = ready.iter().map(|change| {
            let failed_dep = change
                .depends_on
                .iter()
                .find(|d| finished.get(*d) == Some(&false))
                .cloned();
            async move {
                if let Some(dep) = failed_dep {
                    return result(
                        change,
                        Vec::new(),
                        Outcome::Skipped {
                            reason: format!("{dep} did not finish"),
                        },
                    );
                }
                run_change(cloud, change, options, progress).await
            }
        });
        for outcome in join_all(runs).await {
            let ok = !matches!(
                outcome.outcome,
                Outcome::Failed { .. } | Outcome::Skipped { .. }
            );
            finished.insert(outcome.address.clone(), ok);
            report.results.push(outcome);
        }
        remaining = blocked;
    }

    // Then what is no longer declared, dependents first.
    let mut teardown = teardown;
    teardown.sort_by_key(|c| {
        (
            c.ops.first().map(op_kind).map(delete_rank).unwrap_or(9),
            c.address.clone(),
        )
    });
    for change in teardown {
        report
            .results
            .push(run_change(cloud, change, options, progress).await);
    }
    report
}

fn op_kind(op: &Op) -> &str {
    match op {
        Op::Create { kind, .. }
        | Op::Update { kind, .. }
        | Op::Delete { kind, .. }
        | Op::Untag { kind, .. } => kind,
        Op::StopJob { .. } => job::KIND,
    }
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

async fn run_change(
    cloud: &dyn Cloud,
    change: &Change,
    options: &ApplyOptions,
    progress: &Progress,
) -> ChangeResult {
    let mut done = Vec::new();
    if let Some(wait) = &change.waits_on {
        match await_dependency(cloud, wait, options, progress).await {
            Ok(true) => {}
            Ok(false) => {
                progress.line(&format!("{}: pending, {}", change.address, wait.reason));
                return result(
                    change,
                    done,
                    Outcome::Pending {
                        reason: format!("waits on {}: {}", wait.address, wait.reason),
                    },
                );
            }
            Err(e) => {
                return result(
                    change,
                    done,
                    Outcome::Failed {
                        error: e.to_string(),
                    },
                );
            }
        }
        if change.ops.is_empty() {
            return result(
                change,
                done,
                Outcome::Pending {
                    reason: "the awaited model is ready; run apply again to swap it in".into(),
                },
            );
        }
    }
    for (index, op) in change.ops.iter().enumerate() {
        // A throughput being replaced keeps serving until its successor is in service.
        if let (Op::Delete { kind, .. }, true) = (op, change.create_before_destroy)
            && kind == pt::KIND
            && let Some(Op::Create { name, .. }) = change
                .ops
                .get(..index)
                .and_then(|before| before.iter().find(|o| matches!(o, Op::Create { .. })))
        {
            match converge(cloud, pt::KIND, name, options, progress).await {
                Ok(status) if status == pt::IN_SERVICE => {}
                Ok(status) => {
                    return result(
                        change,
                        done,
                        Outcome::Failed {
                            error: format!(
                                "new throughput `{name}` is {status}; the old one was kept"
                            ),
                        },
                    );
                }
                Err(e) => {
                    return result(
                        change,
                        done,
                        Outcome::Failed {
                            error: e.to_string(),
                        },
                    );
                }
            }
        }
        progress.line(&format!("{}: {}", change.address, op.describe()));
        match execute_within_quota(cloud, op, options, progress).await {
            Ok(()) => done.push(op.describe()),
            Err(e) if e.class == ErrorClass::QuotaExceeded => {
                return result(change, done, Outcome::Queued { reason: e.message });
            }
            Err(e) => {
                return result(
                    change,
                    done,
                    Outcome::Failed {
                        error: e.to_string(),
                    },
                );
            }
        }
    }
    // What keeps converging after AWS accepted it.
    let created = change.ops.iter().rev().find_map(|op| match op {
        Op::Create { kind, name, .. } | Op::Update { kind, name, .. }
            if kind == job::KIND || kind == pt::KIND =>
        {
            Some((kind.clone(), name.clone()))
        }
        _ => None,
    });
    if let Some((kind, name)) = created {
        if options.wait {
            match converge(cloud, &kind, &name, options, progress).await {
                Ok(status) if status == job::COMPLETED || status == pt::IN_SERVICE => {}
                Ok(status) => {
                    return result(
                        change,
                        done,
                        Outcome::Failed {
                            error: format!("{kind} `{name}` ended {status}"),
                        },
                    );
                }
                Err(e) => {
                    return result(
                        change,
                        done,
                        Outcome::Failed {
                            error: e.to_string(),
                        },
                    );
                }
            }
        } else if let Ok(Some(observed)) = cloud.get(&kind, &name).await
            && let Some(status) = observed.status
            && status != job::COMPLETED
            && status != pt::IN_SERVICE
        {
            return result(change, done, Outcome::Converging { status });
        }
    }
    result(change, done, Outcome::Done)
}

/// Runs one operation; with `wait`, an operation refused for the account's quota is
/// tried again as slots free up, until the timeout.
async fn execute_within_quota(
    cloud: &dyn Cloud,
    op: &Op,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<(), CloudError> {
    let deadline = tokio::time::Instant::now() + options.timeout;
    let mut announced = false;
    loop {
        match execute_with_retry(cloud, op, &options.retry, progress).await {
            Err(e)
                if e.class == ErrorClass::QuotaExceeded
                    && options.wait
                    && tokio::time::Instant::now() < deadline =>
            {
                if !announced {
                    progress.line(&format!(
                        "  queued {}: {}; waiting for a free slot",
                        op.describe(),
                        e.message
                    ));
                    announced = true;
                }
                // Slots free when jobs end, which takes long: poll gently.
                tokio::time::sleep(options.retry.max_backoff).await;
            }
            other => return other,
        }
    }
}

/// Runs one operation, retrying what the error class says is worth retrying.
pub async fn execute_with_retry(
    cloud: &dyn Cloud,
    op: &Op,
    retry: &RetryPolicy,
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
                if !retry_more {
                    return Err(e);
                }
                progress.line(&format!(
                    "  retrying {} in {:.1}s: {}",
                    op.describe(),
                    backoff.as_secs_f64(),
                    e.message
                ));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(retry.max_backoff);
                attempt += 1;
            }
        }
    }
}

/// Whether the awaited object exists; with `--wait`, waits for it.
async fn await_dependency(
    cloud: &dyn Cloud,
    wait: &WaitOn,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<bool, CloudError> {
    let deadline = tokio::time::Instant::now() + options.timeout;
    let bar = progress.bar(&format!("{} ({})", wait.address, wait.reason));
    loop {
        let job = match &wait.job {
            Some(name) => cloud.get(job::KIND, name).await?,
            None => None,
        };
        // The model counts once its job has completed, not merely when it is listed.
        let trained = wait.job.is_none()
            || job.as_ref().and_then(|j| j.status.as_deref()) == Some(job::COMPLETED);
        if trained && cloud.get(&wait.kind, &wait.name).await?.is_some() {
            bar.finish("ready");
            return Ok(true);
        }
        if !options.wait || tokio::time::Instant::now() >= deadline {
            bar.finish("not ready");
            return Ok(false);
        }
        // Follow the job that trains it, so its progress shows.
        if let Some(j) = &job {
            if matches!(j.status.as_deref(), Some(job::FAILED) | Some(job::STOPPED)) {
                bar.finish("failed");
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
            bar.update(
                j.status.as_deref().unwrap_or(""),
                j.fact_str("stage"),
                j.facts.get("progress").and_then(|p| p.as_f64()),
            );
        }
        tokio::time::sleep(options.retry.poll).await;
    }
}

/// Follows a job or throughput until it leaves its transitional states.
pub async fn converge(
    cloud: &dyn Cloud,
    kind: &str,
    name: &str,
    options: &ApplyOptions,
    progress: &Progress,
) -> Result<String, CloudError> {
    let deadline = tokio::time::Instant::now() + options.timeout;
    let bar = progress.bar(&format!("{kind} {name}"));
    loop {
        let observed = cloud.get(kind, name).await?;
        let Some(observed) = observed else {
            bar.finish("gone");
            return Err(CloudError::new(
                ErrorClass::NotFound,
                format!("waiting for {kind} {name}"),
                "it no longer exists",
            ));
        };
        let status = observed.status.clone().unwrap_or_default();
        let transitional = matches!(
            status.as_str(),
            job::IN_PROGRESS | job::STOPPING | pt::CREATING | pt::UPDATING
        );
        if !transitional {
            bar.finish(&status);
            return Ok(status);
        }
        bar.update(
            &status,
            observed.fact_str("stage"),
            observed.facts.get("progress").and_then(|p| p.as_f64()),
        );
        if tokio::time::Instant::now() >= deadline {
            bar.finish("timed out");
            return Err(CloudError::new(
                ErrorClass::Transient,
                format!("waiting for {kind} {name}"),
                format!("still {status} after the timeout; `bedform status` follows it"),
            ));
        }
        tokio::time::sleep(options.retry.poll).await;
    }
}
