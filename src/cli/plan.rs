//! `bedform plan`: the plan of the manifests against the account, printed or
//! saved for `apply --plan`.

use crate::exit::ExitStatus;
use crate::model::invocation::shell_word;
use crate::plan::saved::{self};
use crate::plan::{self, Plan};
use crate::render::{self, Format};
use std::path::Path;

use super::flags::*;
use super::settings::*;
use super::{CliError, fail};

/// The manifests of `paths`, read against the account, and their plan.
pub(super) async fn plan_of_account(
    global: &Global,
    paths: &[std::path::PathBuf],
    retry_failed: bool,
) -> Result<(Prepared, Plan), CliError> {
    let options = plan_options(global, paths, retry_failed)?;
    let prepared = prepare(global, paths).await?;
    let observed = prepared
        .cloud
        .observe(&crate::plan::scope_of(&prepared.desired))
        .await?;
    let options =
        super::prices::with_price_list(options, prepared.cloud.as_ref(), &prepared.desired).await;
    let plan = plan::plan(&prepared.desired, &observed, &options);
    Ok((prepared, plan))
}

pub(super) async fn plan_command(cli: &Cli, args: &PlanArgs) -> Result<ExitStatus, CliError> {
    let (_, plan) = plan_of_account(&cli.global, &args.paths, args.retry_failed).await?;
    let text = match args.format {
        Format::Markdown => render::markdown::render_within(
            &plan,
            usize::try_from(args.max_length).unwrap_or(usize::MAX),
        ),
        format => render::render(&plan, format, stdout_color(&cli.global)),
    };
    crate::out!("{text}");
    if let Some(out) = &args.out {
        write_plan(out, &plan)?;
        crate::errln!(
            "Saved the plan to {}; apply it with: {} apply --plan {}",
            out.display(),
            invocation(&cli.global, &[]).bedform(),
            shell_word(&out.display().to_string())
        );
    }
    if plan.blocking().next().is_some() {
        return Ok(ExitStatus::Error);
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

pub(super) fn write_plan(path: &Path, plan: &Plan) -> Result<(), CliError> {
    let text = saved::encode(plan).map_err(|e| fail(format!("writing {}: {e}", path.display())))?;
    // A saved plan holds what apply sends, sensitive values included.
    crate::files::write_private(path, text.as_bytes())
        .map_err(|e| fail(format!("writing {}: {e}", path.display())))
}

/// Refuses to apply the saved plan `file`; nothing has been changed at this point.
pub(super) fn refuse(file: &Path, why: impl std::fmt::Display) -> CliError {
    fail(format!(
        "{} cannot be applied: {why}; nothing was changed",
        file.display()
    ))
}

pub(super) fn read_plan(path: &Path) -> Result<Plan, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
    saved::decode(&text).map_err(|e| refuse(path, e))
}
