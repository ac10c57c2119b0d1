//! `bedform apply`: approve the plan (the gates are in [`crate::apply::gate`]),
//! take the stack's lock and send the plan in rounds.

//! The command line: raw flags, then the commands.

use crate::apply::gate::Gate;
use crate::apply::{self, ApplyOptions, Interrupt, Outcome, RetryPolicy, progress::Progress};
use crate::check;
use crate::cloud::Cloud;
use crate::cloud::lock::{LockError, LockLocation, Session};
use crate::cloud::sandbox::SandboxError;
use crate::exit::ExitStatus;
use crate::model::{Address, DesiredStack, ObservedAccount};
use crate::plan::saved::{self, Mismatch};
use crate::plan::{self, Plan, PlanOptions};
use crate::render::{self, Format};
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use super::check::print_checks;
use super::flags::*;
use super::plan::{read_plan, refuse};
use super::settings::*;
use super::{CliError, fail};

pub(super) async fn apply_command(cli: &Cli, args: &ApplyArgs) -> Result<ExitStatus, CliError> {
    let interrupt = Interrupt::on_ctrl_c();
    let mut lock = Session::unlocked();
    let outcome = tokio::select! {
        outcome = apply_under_lock(cli, args, &mut lock, &interrupt) => outcome,
        // A second Ctrl-C abandons the request in flight. Creates carry idempotency
        // tokens and find what an earlier attempt made, so a re-run carries on.
        () = interrupt.pressed(2) => {
            crate::errln!(
                "Interrupted again: abandoned the request in flight. Run `{}` to see what took effect.",
                bedform_line(&cli.global, "plan", &args.paths)
            );
            Ok(ExitStatus::Interrupted)
        }
    };
    // Whatever way apply ended, errors included, the stack lock is given back.
    let held = lock.held().map(|r| r.id.clone()).unwrap_or_default();
    if let Err(e) = lock.release().await {
        crate::errln!(
            "error: the stack lock was not released: {e}; once no apply runs, release it with `{}`",
            invocation(&cli.global, &args.paths).unlock(&held)
        );
        return match outcome {
            Err(CliError::Stop(_)) | Ok(_) => Ok(ExitStatus::Error),
            Err(e) => Err(e),
        };
    }
    outcome
}

/// Takes the stack lock before the account is read for the plan, so the plan
/// cannot go stale under a second apply; fails at once, naming the holder, if
/// another apply holds it.
pub(super) async fn take_lock(
    cli: &Cli,
    args: &ApplyArgs,
    cloud: &dyn Cloud,
    stack: &str,
    location: Option<&LockLocation>,
    session: &mut Session,
) -> Result<(), CliError> {
    let Some(stack_lock) = cloud.stack_lock(location) else {
        crate::errln!(
            "warning: stack `{stack}` declares no `spec.lock`, so this apply runs unlocked; declare `lock: {{bucket, key}}` in the Stack so that two applies cannot interleave"
        );
        return Ok(());
    };
    let command = crate::cloud::lock::command_line();
    *session = Session::new(
        Some(stack_lock),
        stack,
        &command,
        invocation(&cli.global, &args.paths),
    );
    session.acquire().await.map_err(|e| match e {
        LockError::Held { object, record } if record.holder_is_gone() => fail(format!(
            "stack `{stack}` is locked by an apply that is gone: {record} ({object}), and no process {} runs on this host any more. Nothing was changed. The lock is stale: release it with `{}`",
            record.pid,
            invocation(&cli.global, &args.paths).unlock(&record.id)
        )),
        LockError::Held { object, record } => fail(format!(
            "stack `{stack}` is locked by another apply: {record} ({object}). Nothing was changed. If that apply no longer runs, release its lock with `{}`",
            invocation(&cli.global, &args.paths).unlock(&record.id)
        )),
        other => fail(format!("{other}; nothing was changed")),
    })
}

/// A plan approved for apply, and the account it is applied to.
pub(super) struct Approved {
    pub(super) plan: Plan,
    pub(super) cloud: Box<dyn Cloud>,
    /// The manifests, to plan later rounds from (none for a saved plan).
    pub(super) desired: Option<DesiredStack>,
}

pub(super) async fn apply_under_lock(
    cli: &Cli,
    args: &ApplyArgs,
    lock: &mut Session,
    interrupt: &Interrupt,
) -> Result<ExitStatus, CliError> {
    let plan_options = plan_options(&cli.global, &args.paths, args.retry_failed)?;
    // Until something is sent, Ctrl-C simply stops.
    let approved = tokio::select! {
        approved = approve(cli, args, lock, &plan_options) => approved?,
        () = interrupt.pressed(1) => {
            crate::errln!("Interrupted; nothing was changed.");
            return Ok(ExitStatus::Interrupted);
        }
    };
    let Approved {
        plan,
        cloud,
        desired,
    } = approved;
    send(
        cli,
        args,
        lock,
        interrupt,
        plan,
        cloud.as_ref(),
        desired.as_ref().map(|desired| (desired, &plan_options)),
    )
    .await
}

/// Takes the lock, plans (or reads the saved plan and checks it is not stale),
/// and asks for approval. Changes nothing.
pub(super) async fn approve(
    cli: &Cli,
    args: &ApplyArgs,
    lock: &mut Session,
    plan_options: &PlanOptions,
) -> Result<Approved, CliError> {
    let (plan, cloud, desired) = match &args.plan {
        Some(file) => {
            let plan = read_plan(file)?;
            let other_region = |found: String| Mismatch::Region {
                planned: plan.region.clone(),
                found,
            };
            if let Some(region) = &cli.global.region
                && region != &plan.region
            {
                return Err(refuse(file, other_region(region.clone())));
            }
            let cloud = match open_cloud(&cli.global, Some(&plan.account_id), &plan.region).await {
                Ok(cloud) => cloud,
                Err(CliError::Sandbox(SandboxError::Region { path, found, .. })) => {
                    let found = format!("{found}, the region of sandbox file {}", path.display());
                    return Err(refuse(file, other_region(found)));
                }
                Err(e) => return Err(e),
            };
            let account = cloud.caller_account().await?;
            if account != plan.account_id {
                let mismatch = Mismatch::Account {
                    planned: plan.account_id.clone(),
                    found: account,
                };
                return Err(refuse(file, mismatch));
            }
            take_lock(
                cli,
                args,
                cloud.as_ref(),
                &plan.stack,
                plan.lock.as_ref(),
                lock,
            )
            .await?;
            let observed = cloud.observe(&plan.scope).await?;
            saved::verify(&plan, &observed).map_err(|mismatch| refuse(file, mismatch))?;
            (plan, cloud, None)
        }
        None => {
            let prepared = prepare(&cli.global, &args.paths).await?;
            let stack = &prepared.desired.stack;
            take_lock(
                cli,
                args,
                prepared.cloud.as_ref(),
                &stack.name,
                stack.lock.as_ref(),
                lock,
            )
            .await?;
            let observed = prepared
                .cloud
                .observe(&crate::plan::scope_of(&prepared.desired))
                .await?;
            let priced = super::prices::with_price_list(
                plan_options.clone(),
                prepared.cloud.as_ref(),
                &prepared.desired,
            )
            .await;
            let plan = plan::plan(&prepared.desired, &observed, &priced);
            crate::out!(
                "{}",
                render::render(&plan, Format::Human, stdout_color(&cli.global))
            );
            (plan, prepared.cloud, Some(prepared.desired))
        }
    };
    let allowed = crate::apply::gate::Allowed {
        commitment: args.allow_commitment,
        auto_approve: args.auto_approve,
        can_prompt: std::io::stdin().is_terminal(),
    };
    match crate::apply::gate::gate(&plan, allowed) {
        Gate::Refused(refusal) => {
            crate::errln!("error: {refusal}");
            return Err(CliError::Stop(ExitStatus::Error));
        }
        Gate::NothingToDo => {
            if args.plan.is_some() {
                crate::outln!("No changes in the saved plan.");
            }
            return Err(CliError::Stop(ExitStatus::Success));
        }
        Gate::Proceed => {}
        Gate::Confirm => {
            crate::err!(
                "Apply these changes to account {}? Only 'yes' is accepted: ",
                plan.account_id
            );
            let _ = std::io::stderr().flush();
            // Read on a blocking thread, so that Ctrl-C at the prompt is heard.
            let answer = tokio::task::spawn_blocking(|| {
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                answer
            })
            .await
            .unwrap_or_default();
            if answer.trim() != "yes" {
                crate::errln!("Apply cancelled; nothing was changed.");
                return Err(CliError::Stop(ExitStatus::Error));
            }
        }
    }
    Ok(Approved {
        plan,
        cloud,
        desired,
    })
}

/// Sends the approved plan in rounds and reports how each change ended. Ctrl-C
/// stops sending and waiting cleanly (see [`apply`]).
pub(super) async fn send(
    cli: &Cli,
    args: &ApplyArgs,
    lock: &mut Session,
    interrupt: &Interrupt,
    plan: Plan,
    cloud: &dyn Cloud,
    // The manifests and options later rounds plan from (none for a saved plan).
    replan_from: Option<(&DesiredStack, &PlanOptions)>,
) -> Result<ExitStatus, CliError> {
    let options = ApplyOptions {
        wait: args.wait,
        timeout: Duration::from_secs(args.timeout),
        interrupt: interrupt.clone(),
        invocation: invocation(&cli.global, &args.paths),
        retry: RetryPolicy {
            poll: cloud.poll_interval(),
            ..RetryPolicy::default()
        },
    };
    let progress = Progress::stderr();
    // Later rounds of --wait plan again from fresh state; a saved plan continues.
    let replan = replan_from.map(|(desired, options)| {
        move |observed: &ObservedAccount| plan::plan(desired, observed, options)
    });
    let notice = tokio::spawn({
        let interrupt = interrupt.clone();
        async move {
            interrupt.pressed(1).await;
            crate::errln!(
                "Interrupted: sending nothing more and no longer waiting; the lock is given back before bedform exits. Ctrl-C again abandons a request in flight."
            );
        }
    });
    let report = apply::apply_in_rounds(
        cloud,
        &plan,
        replan.as_ref().map(|f| f as apply::Replan<'_>),
        lock,
        &options,
        &progress,
    )
    .await;
    notice.abort();
    let mut failed = false;
    crate::outln!();
    let mut seen: std::collections::BTreeMap<&Address, usize> = Default::default();
    for result in &report.results {
        *seen.entry(&result.address).or_default() += 1;
    }
    for result in &report.results {
        // Two objects of one address (a job and the model it supersedes): named.
        let named;
        let address: &dyn std::fmt::Display = if seen[&result.address] > 1 {
            named = format!("{} ({})", result.address, result.aws_name);
            &named
        } else {
            &result.address
        };
        let line = match &result.outcome {
            Outcome::Done => format!("{address}: done"),
            Outcome::Converging { status } => {
                format!(
                    "{address}: accepted, {status} (`{}` follows it)",
                    options.invocation.line("status --wait")
                )
            }
            Outcome::Pending { reason } => format!("{address}: pending, {reason}"),
            Outcome::Queued { reason } => {
                format!("{address}: queued, {reason}; a later apply starts it")
            }
            Outcome::Failed { error } => {
                failed = true;
                // Beside AWS's message, the manifest that asked for the change.
                let source = plan
                    .changes
                    .iter()
                    .find(|c| c.address == result.address)
                    .and_then(|c| c.source.as_deref())
                    .map(|s| format!(" (declared at {s})"))
                    .unwrap_or_default();
                format!("{address}{source}: FAILED: {error}")
            }
            Outcome::Skipped { reason } => {
                failed = true;
                format!("{address}: skipped, {reason}")
            }
            Outcome::Interrupted { reason } => format!("{address}: not sent, {reason}"),
        };
        crate::outln!("{line}");
        if matches!(
            result.outcome,
            Outcome::Failed { .. } | Outcome::Interrupted { .. }
        ) && !result.done.is_empty()
        {
            crate::outln!("  completed before it stopped: {}", result.done.join("; "));
        }
    }
    if interrupt.is_set() {
        print_interrupted(&cli.global, &args.paths, &report);
        return Ok(ExitStatus::Interrupted);
    }
    if failed {
        crate::outln!(
            "\nApply incomplete: some changes failed (above). Run plan to see what is left."
        );
        return Ok(ExitStatus::Error);
    }
    let checks = match replan_from {
        Some((desired, _)) if args.wait => checks_after_apply(cloud, desired, &report).await?,
        _ => None,
    };
    if checks == Some(false) {
        crate::outln!(
            "\nApply complete, but a check failed (above); the changes stay applied. `{}` runs the checks again.",
            bedform_line(&cli.global, "check", &args.paths)
        );
        return Ok(ExitStatus::Error);
    }
    crate::outln!("\nApply complete.");
    Ok(ExitStatus::Success)
}

/// After an interrupted apply: what was not sent, what still converges, and the
/// commands that go on from here.
pub(super) fn print_interrupted(global: &Global, paths: &[PathBuf], report: &apply::ApplyReport) {
    let with = |pick: fn(&Outcome) -> bool| -> Vec<String> {
        report
            .results
            .iter()
            .filter(|r| pick(&r.outcome))
            .map(|r| r.address.to_string())
            .collect()
    };
    let not_sent = with(|o| matches!(o, Outcome::Interrupted { .. }));
    let converging = with(|o| matches!(o, Outcome::Converging { .. }));
    let later = with(|o| matches!(o, Outcome::Pending { .. } | Outcome::Queued { .. }));
    crate::outln!("\nInterrupted. Nothing in AWS was stopped, and the stack lock was given back.");
    if !not_sent.is_empty() {
        crate::outln!("Not sent: {}.", not_sent.join(", "));
    }
    if !converging.is_empty() {
        crate::outln!(
            "Still converging: {}. `{}` resumes following it.",
            converging.join(", "),
            bedform_line(global, "status --wait", paths)
        );
    }
    if !not_sent.is_empty() || !later.is_empty() {
        let mut what = not_sent;
        what.extend(later);
        crate::outln!(
            "`{}` makes what is left ({}).",
            bedform_line(global, "apply --wait", paths),
            what.join(", ")
        );
    }
}

/// After `apply --wait`: the checks of the throughputs this apply created or
/// changed, now in service, and the tests of the guardrails it changed. `Some(false)` when one failed.
pub(super) async fn checks_after_apply(
    cloud: &dyn Cloud,
    desired: &DesiredStack,
    report: &apply::ApplyReport,
) -> Result<Option<bool>, CliError> {
    let changed: std::collections::BTreeSet<crate::model::Address> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Done))
        .filter(|r| {
            desired
                .get(&r.address)
                .is_some_and(|d| d.check.is_some() || !d.guardrail_tests.is_empty())
        })
        .map(|r| r.address.clone())
        .collect();
    if changed.is_empty() {
        return Ok(None);
    }
    let declares = |pick: fn(&crate::model::DesiredResource) -> bool| {
        changed.iter().any(|a| desired.get(a).is_some_and(pick))
    };
    let smoke = declares(|d| d.check.is_some());
    let guarded = declares(|d| !d.guardrail_tests.is_empty());
    // Not run when nothing they need is there: models, guardrails, or both.
    let unavailable = match (smoke, guarded) {
        (true, false) => cloud.inference_unavailable(),
        (false, true) => cloud.guardrails_unavailable(),
        _ => cloud
            .guardrails_unavailable()
            .and(cloud.inference_unavailable()),
    };
    if let Some(why) = unavailable {
        crate::outln!("\nChecks not run: {why}.");
        return Ok(None);
    }
    let observed = cloud.observe(&crate::plan::scope_of(desired)).await?;
    let results = check::run(cloud, desired, &observed, Some(&changed)).await;
    crate::outln!("\nChecks of what this apply created or changed:");
    Ok(Some(print_checks(&results)))
}
