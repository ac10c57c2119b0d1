//! `bedform status`: what of a stack is still converging (jobs training,
//! throughput being created), what failed, and what only a later apply can start;
//! and following what converges until it is done. Reads only: it changes nothing
//! and takes no lock.

use std::time::Duration;

use tokio::time::Instant;

use crate::apply::Interrupt;
use crate::apply::progress::{Bar, Progress, describe};
use crate::cloud::{Cloud, CloudError};
use crate::kinds::{Kind, StatusClass};
use crate::model::{ObservedAccount, ObservedResource, TAG_ADDRESS};
use crate::plan::{Action, Change, Plan};

/// An object on its way to a settled state.
#[derive(Clone, Debug, PartialEq)]
pub struct Converging {
    /// `Kind/name` in the stack, when known.
    pub address: String,
    pub kind: String,
    pub aws_name: String,
    pub status: String,
    /// A job's stage (`Validation`, `DataProcessing`, `Training`).
    pub stage: Option<String>,
    /// A job's progress, 0 to 1, where the account reports one.
    pub progress: Option<f64>,
}

impl Converging {
    fn of(address: String, observed: &ObservedResource) -> Converging {
        Converging {
            address,
            kind: observed.kind.clone(),
            aws_name: observed.aws_name.clone(),
            status: observed.status.clone().unwrap_or_default(),
            stage: observed.fact_str("stage").map(str::to_string),
            progress: observed.facts.get("progress").and_then(|p| p.as_f64()),
        }
    }

    /// `CustomizationJob/support-distilled (support-distilled-1a2b3c4d)`.
    pub fn label(&self) -> String {
        if self.address.ends_with(&format!("/{}", self.aws_name)) {
            self.address.clone()
        } else {
            format!("{} ({})", self.address, self.aws_name)
        }
    }

    /// `InProgress, training (stage 3 of 3), 45%`.
    pub fn describe(&self) -> String {
        describe(
            &self.status,
            self.stage.as_deref(),
            self.progress,
            crate::kinds::Kind::stages_of(&self.kind),
        )
    }
}

/// A job or throughput of the stack that ended badly.
#[derive(Clone, Debug, PartialEq)]
pub struct Failed {
    pub address: String,
    pub aws_name: String,
    pub status: String,
    pub message: Option<String>,
}

/// Where a stack stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub converging: Vec<Converging>,
    pub failed: Vec<Failed>,
    /// Changes only an apply can make: queued jobs, swaps waiting on a job, and
    /// anything else the manifests ask for that the account does not have yet.
    pub for_apply: Vec<Change>,
}

/// Whether a status is on its way somewhere (as opposed to settled or failed).
pub fn is_transitional(kind: &str, status: &str) -> bool {
    Kind::status_class_of(kind, status) == StatusClass::Transitional
}

fn is_failed(kind: &str, status: &str) -> bool {
    Kind::status_class_of(kind, status) == StatusClass::Failed
}

impl Status {
    /// Where the stack of `plan` stands in `observed`, the account `plan` was made
    /// from. Converging objects are those the stack owns or the plan names; a job
    /// stopped or failed counts only while the plan still shows it as the stack's
    /// job (not once a later attempt replaced it).
    pub fn of(plan: &Plan, observed: &ObservedAccount) -> Status {
        let named = |r: &ObservedResource| {
            plan.changes
                .iter()
                .find(|c| c.address.kind == r.kind && c.aws_name == r.aws_name)
        };
        let mut converging: Vec<Converging> = observed
            .resources
            .iter()
            .filter(|r| is_transitional(&r.kind, r.status.as_deref().unwrap_or_default()))
            .filter_map(|r| {
                let address = match (r.owned_by(&plan.stack), named(r)) {
                    (_, Some(change)) => change.address.to_string(),
                    (true, None) => r
                        .tag(TAG_ADDRESS)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("{}/{}", r.kind, r.aws_name)),
                    (false, None) => return None,
                };
                Some(Converging::of(address, r))
            })
            .collect();
        converging.sort_by(|a, b| (&a.address, &a.aws_name).cmp(&(&b.address, &b.aws_name)));
        let failed = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::NoOp)
            .filter_map(|c| {
                let status = c.status.as_deref()?;
                is_failed(&c.address.kind, status).then(|| Failed {
                    address: c.address.to_string(),
                    aws_name: c.aws_name.clone(),
                    status: status.to_string(),
                    message: c.status_message.clone(),
                })
            })
            .collect();
        let for_apply = plan
            .changes
            .iter()
            .filter(|c| c.is_change())
            .cloned()
            .collect();
        Status {
            converging,
            failed,
            for_apply,
        }
    }

    /// Nothing converging, nothing failed, nothing left for an apply.
    pub fn converged(&self) -> bool {
        self.converging.is_empty() && self.failed.is_empty() && self.for_apply.is_empty()
    }
}

/// How following ended.
#[derive(Debug)]
pub enum Followed {
    /// Everything followed reached a settled state (which may be a failure).
    Settled,
    /// The timeout passed; these were still converging.
    TimedOut(Vec<Converging>),
    /// Interrupted; these were still converging.
    Interrupted(Vec<Converging>),
}

/// Follows `converging` with progress bars until each settles, `timeout` passes
/// or `interrupt` is pressed. Read errors that are worth retrying are retried at
/// the next poll; others end the wait.
pub async fn follow(
    cloud: &dyn Cloud,
    converging: Vec<Converging>,
    timeout: Duration,
    poll: Duration,
    progress: &Progress,
    interrupt: &Interrupt,
) -> Result<Followed, CloudError> {
    let deadline = Instant::now() + timeout;
    let mut following: Vec<(Converging, Bar<'_>)> = converging
        .into_iter()
        .map(|c| {
            let bar = progress.bar(&c.label(), crate::kinds::Kind::stages_of(&c.kind));
            bar.update(&c.status, c.stage.as_deref(), c.progress);
            (c, bar)
        })
        .collect();
    loop {
        if following.is_empty() {
            return Ok(Followed::Settled);
        }
        if interrupt.is_set() || Instant::now() >= deadline {
            let interrupted = interrupt.is_set();
            for (_, bar) in &following {
                bar.finish(if interrupted {
                    "no longer followed (interrupted)"
                } else {
                    "timed out"
                });
            }
            let still = following.into_iter().map(|(c, _)| c).collect();
            return Ok(if interrupted {
                Followed::Interrupted(still)
            } else {
                Followed::TimedOut(still)
            });
        }
        let mut settled = Vec::new();
        for (i, (c, bar)) in following.iter_mut().enumerate() {
            match cloud.get(&c.kind, &c.aws_name).await {
                Ok(Some(observed)) => {
                    *c = Converging::of(c.address.clone(), &observed);
                    if is_transitional(&c.kind, &c.status) {
                        bar.update(&c.status, c.stage.as_deref(), c.progress);
                    } else {
                        bar.finish(&c.status);
                        settled.push(i);
                    }
                }
                Ok(None) => {
                    bar.finish("gone");
                    settled.push(i);
                }
                Err(e) if e.class.is_retryable() => {}
                Err(e) => return Err(e),
            }
        }
        for i in settled.into_iter().rev() {
            following.remove(i);
        }
        if !following.is_empty() {
            interrupt.sleep(poll).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::customization_job as job;
    use crate::kinds::provisioned_throughput as pt;
    use crate::model::{Address, TAG_STACK};
    use serde_json::json;

    fn object(kind: &str, name: &str, status: &str, stack: Option<&str>) -> ObservedResource {
        let mut r = ObservedResource {
            kind: kind.into(),
            aws_name: name.into(),
            status: Some(status.into()),
            ..ObservedResource::default()
        };
        if let Some(stack) = stack {
            r.tags.insert(TAG_STACK.into(), stack.into());
            r.tags.insert(TAG_ADDRESS.into(), format!("{kind}/{name}"));
        }
        r
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            format_version: crate::plan::FORMAT_VERSION.into(),
            bedform_version: "test".into(),
            stack: "demo".into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            observed_fingerprints: Default::default(),
            scope: Default::default(),
            lock: None,
            summary: crate::plan::Summary::of(&changes),
            changes,
        }
    }

    #[test]
    fn lists_what_the_stack_owns_that_converges_and_nothing_else() {
        let mut training = object(job::KIND, "distilled-1a2b", job::IN_PROGRESS, Some("demo"));
        training
            .tags
            .insert(TAG_ADDRESS.into(), "CustomizationJob/distilled".to_string());
        training
            .facts
            .insert("stage".into(), json!("DataProcessing"));
        let account = ObservedAccount {
            resources: vec![
                training,
                object(pt::KIND, "serving", pt::CREATING, Some("demo")),
                object(pt::KIND, "someone-elses", pt::CREATING, Some("other")),
                object(pt::KIND, "settled", pt::IN_SERVICE, Some("demo")),
            ],
            ..ObservedAccount::default()
        };
        let status = Status::of(&plan(Vec::new()), &account);
        let found: Vec<(String, String)> = status
            .converging
            .iter()
            .map(|c| (c.label(), c.describe()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "CustomizationJob/distilled (distilled-1a2b)".to_string(),
                    "InProgress, data processing (stage 2 of 3)".to_string()
                ),
                (
                    "ProvisionedThroughput/serving".to_string(),
                    "Creating".to_string()
                ),
            ]
        );
        assert!(!status.converged());
    }

    #[test]
    fn a_failed_job_the_plan_shows_and_changes_for_apply_are_reported() {
        let failed = Change {
            status: Some(job::FAILED.into()),
            status_message: Some("bad data".into()),
            ..Change::new(
                Address::new(job::KIND, "distilled"),
                "distilled-1a2b",
                Action::NoOp,
            )
        };
        let waiting = Change::new(Address::new(pt::KIND, "serving"), "serving", Action::Wait);
        let settled = Change {
            status: Some(pt::IN_SERVICE.into()),
            ..Change::new(Address::new(pt::KIND, "other"), "other", Action::NoOp)
        };
        let status = Status::of(
            &plan(vec![failed, waiting, settled]),
            &ObservedAccount::default(),
        );
        assert_eq!(
            status.failed,
            [Failed {
                address: "CustomizationJob/distilled".into(),
                aws_name: "distilled-1a2b".into(),
                status: "Failed".into(),
                message: Some("bad data".into()),
            }]
        );
        let for_apply: Vec<String> = status
            .for_apply
            .iter()
            .map(|c| c.address.to_string())
            .collect();
        assert_eq!(for_apply, ["ProvisionedThroughput/serving"]);
    }

    #[test]
    fn a_settled_account_has_converged() {
        let account = ObservedAccount {
            resources: vec![object(job::KIND, "done", job::COMPLETED, Some("demo"))],
            ..ObservedAccount::default()
        };
        assert!(Status::of(&plan(Vec::new()), &account).converged());
    }
}
