//! `bedform graph`: the stack's dependency graph, offline from the manifests,
//! with the planned action of each resource from a saved plan or from a plan
//! made against the account.

use super::flags::{Cli, GraphArgs};
use super::settings::{report_diagnostics, report_warnings, stderr_color};
use super::{CliError, fail};
use crate::exit::ExitStatus;
use crate::manifest;
use crate::render::graph::Graph;

pub(super) async fn graph_command(cli: &Cli, args: &GraphArgs) -> Result<ExitStatus, CliError> {
    let loaded = manifest::load(&args.paths);
    report_warnings(&loaded, stderr_color(&cli.global));
    // The same checks, and the same errors, as `validate`: an invalid folder has
    // no graph, and a valid one has no cycle and no dangling reference.
    let stack = match manifest::validate(&loaded, None) {
        Ok(stack) => stack,
        Err(diagnostics) => {
            return Ok(report_diagnostics(
                &loaded.sources,
                &diagnostics,
                stderr_color(&cli.global),
            ));
        }
    };
    if args.read_account {
        let (prepared, plan) =
            super::plan::plan_of_account(&cli.global, &args.paths, false).await?;
        let graph = Graph::of_stack(&prepared.desired).with_plan(&plan);
        crate::out!("{}", graph.render(args.format));
        return Ok(ExitStatus::Success);
    }
    let mut graph = Graph::of_stack(&stack);
    if let Some(file) = &args.plan {
        let plan = super::plan::read_plan(file)?;
        if plan.stack != stack.stack.name {
            return Err(fail(format!(
                "{} is a plan of stack `{}`, and the manifests declare stack `{}`",
                file.display(),
                crate::diag::printable(&plan.stack),
                stack.stack.name
            )));
        }
        graph = graph.with_plan(&plan);
    }
    crate::out!("{}", graph.render(args.format));
    Ok(ExitStatus::Success)
}
