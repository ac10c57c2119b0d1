//! `bedform validate`: the manifests checked offline, every problem reported at
//! its file, line and column.

use std::path::PathBuf;

use super::flags::Cli;
use super::settings::{report_diagnostics, report_warnings, stderr_color};
use crate::exit::ExitStatus;
use crate::manifest;

pub(super) fn validate_command(cli: &Cli, paths: &[PathBuf]) -> ExitStatus {
    let loaded = manifest::load(paths);
    report_warnings(&loaded, stderr_color(&cli.global));
    match manifest::validate(&loaded, None) {
        Ok(stack) => {
            crate::outln!(
                "Valid: stack `{}` with {} resource{}.",
                stack.stack.name,
                stack.resources.len(),
                if stack.resources.len() == 1 { "" } else { "s" }
            );
            ExitStatus::Success
        }
        Err(diagnostics) => {
            report_diagnostics(&loaded.sources, &diagnostics, stderr_color(&cli.global))
        }
    }
}
