//! `bedform export`: manifests that declare what an account already holds.

//! The command line: raw flags, then the commands.

use crate::exit::ExitStatus;

use super::flags::*;
use super::settings::*;
use super::{CliError, fail};

pub(super) async fn export_command(cli: &Cli, args: &ExportArgs) -> Result<ExitStatus, CliError> {
    let kinds = crate::export::kinds(&args.kinds).map_err(|e| fail(e.to_string()))?;
    if let Err(problem) = crate::names::check_address_name(&args.stack) {
        return Err(fail(format!("--stack `{}` {problem}", args.stack)));
    }
    let region = region_without_manifests(&cli.global, "export")?;
    let cloud = open_cloud(&cli.global, None, &region).await?;
    let observed = cloud
        .observe(&crate::model::Scope::everything(&args.stack))
        .await?;
    let export = crate::export::export(&observed, &kinds);
    let files = crate::export::files(&args.stack, &observed, &export.documents)
        .map_err(|e| fail(format!("writing the manifests: {e}")))?;
    for skipped in &export.skipped {
        crate::errln!("note: {skipped}");
    }
    for warning in &export.warnings {
        crate::errln!("warning: {warning}");
    }
    let problems = crate::export::check(&files, &observed);
    for problem in &problems {
        crate::errln!("warning: the export will not plan clean: {problem}");
    }
    match &args.out {
        None => {
            // The Stack first, as a reader expects.
            let texts: Vec<&str> = files
                .get("stack.yaml")
                .into_iter()
                .chain(
                    files
                        .iter()
                        .filter(|(k, _)| *k != "stack.yaml")
                        .map(|(_, v)| v),
                )
                .map(String::as_str)
                .collect();
            crate::out!("{}", texts.join("---\n"));
        }
        Some(dir) => {
            for name in files.keys() {
                let path = dir.join(name);
                if path.exists() {
                    return Err(fail(format!(
                        "{} exists; export writes only new files. Nothing was written",
                        path.display()
                    )));
                }
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("creating {}: {e}", dir.display())))?;
            for (name, text) in &files {
                let path = dir.join(name);
                std::fs::write(&path, text)
                    .map_err(|e| fail(format!("writing {}: {e}", path.display())))?;
            }
            let paths = [dir.clone()];
            // The same account next: the same sandbox, profile and region.
            let next = |command: &str| bedform_line(&cli.global, command, &paths);
            crate::outln!(
                "Wrote {} document{} for stack `{}` to {}. Next, to manage them:\n  {}\n  {}    # shows the objects, then tags them as this stack's\n  {}",
                export.documents.len(),
                if export.documents.len() == 1 { "" } else { "s" },
                args.stack,
                dir.display(),
                next("validate"),
                next("import --all"),
                next("plan --detailed-exitcode"),
            );
        }
    }
    Ok(if problems.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Error
    })
}
