//! The command line: raw flags, then the commands.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::apply::{self, ApplyOptions, Outcome, progress::Progress};
use crate::cloud::aws::{Aws, AwsSettings};
use crate::cloud::sandbox::Sandbox;
use crate::cloud::{Cloud, Scope};
use crate::diag::Sources;
use crate::exit::ExitStatus;
use crate::manifest;
use crate::model::DesiredStack;
use crate::plan::{self, Plan, PlanOptions};
use crate::render::{self, Format};

#[derive(Debug, Parser)]
#[command(
    name = "bedform",
    version,
    about = "Amazon Bedrock as code: plan and apply Bedrock resources declared in YAML"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Run against a simulated account kept in .bedform/sandbox.json
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// The sandbox file (implies --sandbox)
    #[arg(long, global = true, value_name = "FILE")]
    pub sandbox_file: Option<PathBuf>,
    /// AWS region (default: the Stack's)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Endpoint URL for an AWS emulator
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// No colours (also NO_COLOR, or when stdout is not a terminal)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline: schema, references, names, API rules
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show what apply would change
    Plan(PlanArgs),
    /// Make the account match the manifests
    Apply(ApplyArgs),
    /// Print the JSON Schema of the manifests
    Schema,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Save the plan for `apply --plan FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Plan a new attempt for jobs that failed or were stopped
    #[arg(long)]
    pub retry_failed: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifests to apply (or --plan FILE)
    #[arg(required_unless_present = "plan", conflicts_with = "plan")]
    pub paths: Vec<PathBuf>,
    /// Apply a plan saved by `plan --out`
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow buying provisioned throughput with a commitment term
    #[arg(long)]
    pub allow_commitment: bool,
    /// Follow jobs and throughput until they converge
    #[arg(long)]
    pub wait: bool,
    /// Longest wait, in seconds, with --wait
    #[arg(long, value_name = "SECONDS", default_value_t = 6 * 3600)]
    pub timeout: u64,
    /// Plan a new attempt for jobs that failed or were stopped
    #[arg(long)]
    pub retry_failed: bool,
}

/// Errors at the command layer, printed as one message.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Cloud(#[from] crate::cloud::CloudError),
    #[error(transparent)]
    Sandbox(#[from] crate::cloud::sandbox::SandboxError),
}

fn fail(message: impl Into<String>) -> CliError {
    CliError::Message(message.into())
}

/// Runs bedform with `args`; returns the exit status.
pub fn run<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitStatus::Error;
        }
    };
    match runtime.block_on(dispatch(&cli)) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}

fn stderr_color(global: &Global) -> bool {
    !global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

fn stdout_color(global: &Global) -> bool {
    !global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

async fn dispatch(cli: &Cli) -> Result<ExitStatus, CliError> {
    match &cli.command {
        Command::Schema => {
            print!("{}", manifest::schema::manifest_schema_text());
            Ok(ExitStatus::Success)
        }
        Command::Validate { paths } => {
            let loaded = manifest::load(paths);
            match manifest::validate(&loaded, None) {
                Ok(stack) => {
                    println!(
                        "Valid: stack `{}` with {} resource{}.",
                        stack.stack.name,
                        stack.resources.len(),
                        if stack.resources.len() == 1 { "" } else { "s" }
                    );
                    Ok(ExitStatus::Success)
                }
                Err(diagnostics) => Ok(report_diagnostics(
                    &loaded.sources,
                    &diagnostics,
                    stderr_color(&cli.global),
                )),
            }
        }
        Command::Plan(args) => plan_command(cli, args).await,
        Command::Apply(args) => apply_command(cli, args).await,
    }
}

fn report_diagnostics(
    sources: &Sources,
    diagnostics: &[crate::diag::Diagnostic],
    color: bool,
) -> ExitStatus {
    for d in diagnostics {
        eprintln!("{}", d.render(sources, color));
    }
    eprintln!(
        "{} error{} found.",
        diagnostics.len(),
        if diagnostics.len() == 1 { "" } else { "s" }
    );
    ExitStatus::Error
}

/// The validated manifests and the account they run against.
struct Prepared {
    desired: DesiredStack,
    cloud: Box<dyn Cloud>,
}

async fn prepare(
    global: &Global,
    paths: &[PathBuf],
) -> Result<Result<Prepared, ExitStatus>, CliError> {
    let loaded = manifest::load(paths);
    // Validate once offline to learn the stack, then resolve against the real account.
    let offline = match manifest::validate(&loaded, None) {
        Ok(stack) => stack,
        Err(diagnostics) => {
            return Ok(Err(report_diagnostics(
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
            return Ok(Err(report_diagnostics(
                &loaded.sources,
                &diagnostics,
                stderr_color(global),
            )));
        }
    };
    let mut desired = desired;
    desired.stack.region = region;
    Ok(Ok(Prepared { desired, cloud }))
}

fn sandbox_path(global: &Global) -> Option<PathBuf> {
    match (&global.sandbox_file, global.sandbox) {
        (Some(file), _) => Some(file.clone()),
        (None, true) => Some(Path::new(".bedform").join("sandbox.json")),
        (None, false) => None,
    }
}

async fn open_cloud(
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

async fn plan_command(cli: &Cli, args: &PlanArgs) -> Result<ExitStatus, CliError> {
    let prepared = match prepare(&cli.global, &args.paths).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    let observed = prepared
        .cloud
        .observe(&Scope::of(&prepared.desired))
        .await?;
    let options = PlanOptions {
        retry_failed: args.retry_failed,
    };
    let plan = plan::plan(&prepared.desired, &observed, &options);
    print!(
        "{}",
        render::render(&plan, args.format, stdout_color(&cli.global))
    );
    if let Some(out) = &args.out {
        write_plan(out, &plan)?;
        eprintln!(
            "Saved the plan to {}; apply it with: bedform apply --plan {}",
            out.display(),
            out.display()
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

fn write_plan(path: &Path, plan: &Plan) -> Result<(), CliError> {
    std::fs::write(path, render::json(plan))
        .map_err(|e| fail(format!("writing {}: {e}", path.display())))
}

fn read_plan(path: &Path) -> Result<Plan, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
    let plan: Plan = serde_json::from_str(&text)
        .map_err(|e| fail(format!("{} is not a bedform plan: {e}", path.display())))?;
    if plan.format_version != plan::FORMAT_VERSION {
        return Err(fail(format!(
            "{} has plan format {}, this bedform reads {}",
            path.display(),
            plan.format_version,
            plan::FORMAT_VERSION
        )));
    }
    Ok(plan)
}

async fn apply_command(cli: &Cli, args: &ApplyArgs) -> Result<ExitStatus, CliError> {
    let (plan, cloud) = match &args.plan {
        Some(file) => {
            let plan = read_plan(file)?;
            let cloud = open_cloud(&cli.global, Some(&plan.account_id), &plan.region).await?;
            let account = cloud.caller_account().await?;
            if account != plan.account_id {
                return Err(fail(format!(
                    "the plan was made for account {}, but the credentials are for {account}; nothing was changed",
                    plan.account_id
                )));
            }
            let observed = cloud.observe(&plan.scope).await?;
            if plan::fingerprint(&observed) != plan.observed_fingerprint {
                return Err(fail(format!(
                    "the account changed since {} was made (stale plan); run plan again. Nothing was changed",
                    file.display()
                )));
            }
            (plan, cloud)
        }
        None => {
            let prepared = match prepare(&cli.global, &args.paths).await? {
                Ok(p) => p,
                Err(status) => return Ok(status),
            };
            let observed = prepared
                .cloud
                .observe(&Scope::of(&prepared.desired))
                .await?;
            let options = PlanOptions {
                retry_failed: args.retry_failed,
            };
            let plan = plan::plan(&prepared.desired, &observed, &options);
            print!(
                "{}",
                render::render(&plan, Format::Human, stdout_color(&cli.global))
            );
            (plan, prepared.cloud)
        }
    };
    if plan.blocking().next().is_some() {
        eprintln!("error: the plan has refused changes (marked x or ?); nothing was changed");
        return Ok(ExitStatus::Error);
    }
    if !plan.has_changes() {
        if args.plan.is_some() {
            println!("No changes in the saved plan.");
        }
        return Ok(ExitStatus::Success);
    }
    if plan.purchases().next().is_some() && !args.allow_commitment {
        let list: Vec<String> = plan
            .purchases()
            .map(|(c, p)| {
                format!(
                    "{} ({} × {}, {})",
                    c.address, p.model_units, p.model, p.commitment
                )
            })
            .collect();
        eprintln!(
            "error: this plan buys provisioned throughput with a commitment term: {}. Re-run with --allow-commitment to buy it; nothing was changed",
            list.join("; ")
        );
        return Ok(ExitStatus::Error);
    }
    if !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: apply needs confirmation but standard input is not a terminal; pass --auto-approve (after reviewing the plan). Nothing was changed"
            );
            return Ok(ExitStatus::Error);
        }
        eprint!(
            "Apply these changes to account {}? Only 'yes' is accepted: ",
            plan.account_id
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if answer.trim() != "yes" {
            eprintln!("Apply cancelled; nothing was changed.");
            return Ok(ExitStatus::Error);
        }
    }
    let options = ApplyOptions {
        wait: args.wait,
        timeout: Duration::from_secs(args.timeout),
        ..ApplyOptions::default()
    };
    let progress = Progress::stderr();
    let report = apply::apply(cloud.as_ref(), &plan, &options, &progress).await;
    let mut failed = false;
    println!();
    for result in &report.results {
        let line = match &result.outcome {
            Outcome::Done => format!("{}: done", result.address),
            Outcome::Converging { status } => format!(
                "{}: accepted, {status} (follow with apply --wait)",
                result.address
            ),
            Outcome::Pending { reason } => format!("{}: pending, {reason}", result.address),
            Outcome::Queued { reason } => format!(
                "{}: queued, {reason}; a later apply starts it",
                result.address
            ),
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
                format!("{}{source}: FAILED: {error}", result.address)
            }
            Outcome::Skipped { reason } => {
                failed = true;
                format!("{}: skipped, {reason}", result.address)
            }
        };
        println!("{line}");
        if matches!(result.outcome, Outcome::Failed { .. }) && !result.done.is_empty() {
            println!("  completed before the failure: {}", result.done.join("; "));
        }
    }
    if failed {
        println!("\nApply incomplete: some changes failed (above). Run plan to see what is left.");
        return Ok(ExitStatus::Error);
    }
    println!("\nApply complete.");
    Ok(ExitStatus::Success)
}
