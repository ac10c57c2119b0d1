//! What the commands share once the flags are read: the manifests loaded and
//! validated, the account opened (AWS or the sandbox), the plan options, colours,
//! and the command lines bedform suggests.

//! The command line: raw flags, then the commands.

use crate::cloud::Cloud;
use crate::cloud::aws::{Aws, AwsSettings};
use crate::cloud::sandbox::Sandbox;
use crate::diag::Sources;
use crate::exit::ExitStatus;
use crate::manifest;
use crate::model::{DesiredStack, Invocation};
use crate::plan::PlanOptions;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use super::flags::*;
use super::{CliError, fail};

pub(super) fn stderr_color(global: &Global) -> bool {
    !global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

pub(super) fn stdout_color(global: &Global) -> bool {
    !global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

pub(super) fn report_warnings(loaded: &manifest::Loaded, color: bool) {
    for w in &loaded.warnings {
        crate::errln!("{}", w.render(&loaded.sources, color));
    }
}

pub(super) fn report_diagnostics(
    sources: &Sources,
    diagnostics: &[crate::diag::Diagnostic],
    color: bool,
) -> ExitStatus {
    // Each drawn error quotes its file: past the first few, one line each keeps a
    // run with thousands of errors fast and readable.
    const DRAWN: usize = 50;
    for d in diagnostics.iter().take(DRAWN) {
        crate::errln!("{}", d.render(sources, color));
    }
    for d in diagnostics.iter().skip(DRAWN) {
        crate::errln!("{}", d.headline(sources));
    }
    crate::errln!(
        "{} error{} found.",
        diagnostics.len(),
        if diagnostics.len() == 1 { "" } else { "s" }
    );
    ExitStatus::Error
}

/// The validated manifests and the account they run against.
pub(super) struct Prepared {
    pub(super) desired: DesiredStack,
    pub(super) cloud: Box<dyn Cloud>,
}

pub(super) async fn prepare(global: &Global, paths: &[PathBuf]) -> Result<Prepared, CliError> {
    let loaded = manifest::load(paths);
    report_warnings(&loaded, stderr_color(global));
    // Validate once offline to learn the stack, then resolve against the real account.
    let offline = match manifest::validate(&loaded, None) {
        Ok(stack) => stack,
        Err(diagnostics) => {
            return Err(CliError::Stop(report_diagnostics(
                &loaded.sources,
                &diagnostics,
                stderr_color(global),
            )));
        }
    };
    let region = global
        .region
        .clone()
        .unwrap_or_else(|| offline.stack.region.clone());
    let cloud = open_cloud(global, offline.stack.account_id.as_deref(), &region).await?;
    let account = cloud.caller_account().await?;
    if let Some(expected) = &offline.stack.account_id
        && expected != &account
    {
        return Err(fail(format!(
            "the credentials are for account {account}, but stack `{}` declares accountId {expected}; nothing was read or changed",
            offline.stack.name
        )));
    }
    let desired = match manifest::validate(&loaded, Some(&account)) {
        Ok(stack) => stack,
        Err(diagnostics) => {
            return Err(CliError::Stop(report_diagnostics(
                &loaded.sources,
                &diagnostics,
                stderr_color(global),
            )));
        }
    };
    let mut desired = desired;
    desired.stack.region = region;
    Ok(Prepared { desired, cloud })
}

pub(super) fn sandbox_path(global: &Global) -> Option<PathBuf> {
    match (&global.sandbox_file, global.sandbox) {
        (Some(file), _) => Some(file.clone()),
        (None, true) => Some(Path::new(".bedform").join("sandbox.json")),
        (None, false) => None,
    }
}

pub(super) async fn open_cloud(
    global: &Global,
    account_id: Option<&str>,
    region: &str,
) -> Result<Box<dyn Cloud>, CliError> {
    match sandbox_path(global) {
        Some(path) => Ok(Box::new(Sandbox::open(
            &path,
            account_id.unwrap_or(manifest::PLACEHOLDER_ACCOUNT),
            region,
        )?)),
        None => {
            let settings = AwsSettings {
                region: region.to_string(),
                profile: global.profile.clone(),
                endpoint_url: global.endpoint_url.clone(),
            };
            Ok(Box::new(Aws::connect(&settings).await))
        }
    }
}

/// The region of a command that reads no manifests (`export`, `prices`):
/// `--region`, else the SDK's environment.
pub(super) fn region_without_manifests(global: &Global, command: &str) -> Result<String, CliError> {
    global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .ok_or_else(|| super::fail(format!("{command} needs a region: pass --region REGION")))
}

/// How to plan: the user's choices and price table.
pub(super) fn plan_options(
    global: &Global,
    paths: &[PathBuf],
    retry_failed: bool,
) -> Result<PlanOptions, CliError> {
    let prices = match &global.prices {
        Some(path) => crate::pricing::Prices::with_user_file(path)?,
        None => crate::pricing::Prices::default(),
    };
    Ok(PlanOptions {
        retry_failed,
        prices,
        invocation: invocation(global, paths),
    })
}

/// This run as a command bedform suggests must repeat it: the flags that chose
/// the account (sandbox, region, profile, an endpoint given as a flag) and the
/// manifests' paths.
pub(super) fn invocation(global: &Global, paths: &[PathBuf]) -> Invocation {
    let mut flags = Vec::new();
    match (&global.sandbox_file, global.sandbox) {
        (Some(file), _) => flags.extend(["--sandbox-file".to_string(), file.display().to_string()]),
        (None, true) => flags.push("--sandbox".to_string()),
        (None, false) => {}
    }
    if let Some(region) = &global.region {
        flags.extend(["--region".to_string(), region.clone()]);
    }
    if let Some(profile) = &global.profile {
        flags.extend(["--profile".to_string(), profile.clone()]);
    }
    // One from AWS_ENDPOINT_URL is set again by the same environment.
    if let Some(url) = &global.endpoint_url
        && std::env::var("AWS_ENDPOINT_URL").ok().as_ref() != Some(url)
    {
        flags.extend(["--endpoint-url".to_string(), url.clone()]);
    }
    let sandbox = global.sandbox || global.sandbox_file.is_some();
    Invocation::new(flags, paths, sandbox)
}

/// `bedform [global flags] COMMAND PATH...` as the user would type it to go on
/// from this run.
pub(super) fn bedform_line(global: &Global, command: &str, paths: &[PathBuf]) -> String {
    invocation(global, paths).line(command)
}

/// Asks "yes" on a terminal; `Ok(false)` when the user declines. Refuses without
/// a terminal: `what` names the flag that skips the question.
pub(super) fn confirm(question: &str, command: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(fail(format!(
            "{command} needs confirmation but standard input is not a terminal; pass --auto-approve (after reviewing the above). Nothing was changed"
        )));
    }
    crate::err!("{question} Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    Ok(answer.trim() == "yes")
}
