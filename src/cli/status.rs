//! `bedform status`: what of a stack is still converging, optionally followed
//! until it settles.

//! The command line: raw flags, then the commands.

use crate::apply::{Interrupt, progress::Progress};
use crate::exit::ExitStatus;
use crate::plan::{self, PlanOptions};
use crate::status::{self, Followed, Status};
use std::time::Duration;

use super::CliError;
use super::flags::*;
use super::settings::*;

/// Where the stack stands: observed now, planned (purely) against the manifests.
pub(super) async fn read_status(prepared: &Prepared) -> Result<Status, CliError> {
    let observed = prepared
        .cloud
        .observe(&crate::plan::scope_of(&prepared.desired))
        .await?;
    let plan = plan::plan(&prepared.desired, &observed, &PlanOptions::default());
    Ok(Status::of(&plan, &observed))
}

pub(super) async fn status_command(cli: &Cli, args: &StatusArgs) -> Result<ExitStatus, CliError> {
    let interrupt = Interrupt::on_ctrl_c();
    let read = async {
        let prepared = prepare(&cli.global, &args.paths).await?;
        let status = read_status(&prepared).await?;
        Ok::<_, CliError>((prepared, status))
    };
    let (prepared, mut status) = tokio::select! {
        read = read => read?,
        () = interrupt.pressed(1) => {
            crate::errln!("Interrupted.");
            return Ok(ExitStatus::Interrupted);
        }
    };
    let stack = &prepared.desired.stack;
    let resume = bedform_line(&cli.global, "status --wait", &args.paths);
    if args.wait && !status.converging.is_empty() {
        let progress = Progress::stderr();
        let followed = status::follow(
            prepared.cloud.as_ref(),
            status.converging.clone(),
            Duration::from_secs(args.timeout),
            prepared.cloud.poll_interval(),
            &progress,
            &interrupt,
        )
        .await?;
        let still = match followed {
            Followed::Settled => None,
            Followed::TimedOut(still) => Some((still, ExitStatus::Error)),
            Followed::Interrupted(still) => Some((still, ExitStatus::Interrupted)),
        };
        if let Some((still, exit)) = still {
            crate::outln!("Still converging in stack `{}`:", stack.name);
            for c in &still {
                crate::outln!("  {}: {}", c.label(), c.describe());
            }
            if exit == ExitStatus::Interrupted {
                crate::outln!(
                    "\nStopped following; nothing in AWS was stopped. `{resume}` resumes following it."
                );
            } else {
                crate::outln!(
                    "\nStill converging after the timeout of {} s; nothing in AWS was stopped. `{resume}` follows it again.",
                    args.timeout
                );
            }
            return Ok(exit);
        }
        status = read_status(&prepared).await?;
    }
    crate::outln!("Stack `{}` in {}:", stack.name, stack.region);
    if !status.converging.is_empty() {
        crate::outln!("\nConverging:");
        for c in &status.converging {
            crate::outln!("  {}: {}", c.label(), c.describe());
        }
    }
    if !status.failed.is_empty() {
        crate::outln!("\nFailed:");
        for f in &status.failed {
            let message = f
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            crate::outln!("  {} ({}): {}{message}", f.address, f.aws_name, f.status);
        }
    }
    if !status.for_apply.is_empty() {
        crate::outln!("\nChanges only an apply makes:");
        for change in &status.for_apply {
            let why = match (&change.waits_on, &change.reason) {
                (Some(wait), _) => format!(", waiting on {}: {}", wait.address, wait.reason),
                (None, Some(reason)) => format!(", {reason}"),
                (None, None) => String::new(),
            };
            crate::outln!("  {}: {}{why}", change.address, change.action.describe());
        }
    }
    crate::outln!();
    if status.converged() {
        crate::outln!(
            "All converged: nothing is converging and the account matches the manifests."
        );
        return Ok(ExitStatus::Success);
    }
    if !status.converging.is_empty() {
        crate::outln!("Follow what converges with `{resume}`.");
    }
    if !status.for_apply.is_empty() {
        crate::outln!(
            "`{}` makes the changes, waiting for what they wait on; `{}` shows them in full.",
            bedform_line(&cli.global, "apply --wait", &args.paths),
            bedform_line(&cli.global, "plan", &args.paths)
        );
    }
    if !status.failed.is_empty() {
        if status.failed.iter().any(|f| {
            crate::model::Address::parse(&f.address)
                .and_then(|a| crate::kinds::Kind::parse(&a.kind))
                .is_some_and(|kind| kind.facts().retried_only_when_asked)
        }) {
            crate::outln!(
                "A failed job is trained again only when asked: `{}`.",
                bedform_line(&cli.global, "apply --retry-failed", &args.paths)
            );
        }
        return Ok(ExitStatus::Error);
    }
    Ok(ExitStatus::Changes)
}
