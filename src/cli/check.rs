//! `bedform check`: the smoke checks of the stack's throughputs.

//! The command line: raw flags, then the commands.

use crate::check;
use crate::exit::ExitStatus;

use super::flags::*;
use super::settings::*;
use super::{CliError, fail};

/// Prints check results; true when all that ran passed.
pub(super) fn print_checks(results: &[check::CheckResult]) -> bool {
    for result in results {
        crate::outln!("  {}", result.line());
    }
    let count =
        |pick: fn(&check::Verdict) -> bool| results.iter().filter(|r| pick(&r.verdict)).count();
    let passed = count(|v| matches!(v, check::Verdict::Passed { .. }));
    let failed = count(|v| {
        matches!(
            v,
            check::Verdict::Failed { .. } | check::Verdict::Error { .. }
        )
    });
    let skipped = count(|v| matches!(v, check::Verdict::Skipped { .. }));
    crate::outln!("\nChecks: {passed} passed, {failed} failed, {skipped} skipped.");
    failed == 0
}

pub(super) async fn check_command(cli: &Cli, args: &CheckArgs) -> Result<ExitStatus, CliError> {
    let prepared = prepare(&cli.global, &args.paths).await?;
    if let Some(why) = prepared.cloud.inference_unavailable() {
        return Err(fail(format!("cannot run checks: {why}")));
    }
    let observed = prepared
        .cloud
        .observe(&crate::plan::scope_of(&prepared.desired))
        .await?;
    let results = check::run(prepared.cloud.as_ref(), &prepared.desired, &observed, None).await;
    crate::outln!(
        "Checks of stack `{}` in {}:",
        prepared.desired.stack.name,
        prepared.desired.stack.region
    );
    if results.is_empty() {
        crate::outln!("  (the stack declares no provisioned throughput)");
    }
    Ok(if print_checks(&results) {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}
