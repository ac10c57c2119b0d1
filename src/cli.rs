//! The command line: raw flags, then the commands.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::apply::gate::Gate;
use crate::apply::{self, ApplyOptions, Interrupt, Outcome, RetryPolicy, progress::Progress};
use crate::check;
use crate::cloud::aws::{Aws, AwsSettings};
use crate::cloud::lock::{LockError, LockLocation, Session, StackLock};
use crate::cloud::sandbox::{Sandbox, SandboxError};
use crate::cloud::{Cloud, Scope};
use crate::diag::Sources;
use crate::exit::ExitStatus;
use crate::manifest;
use crate::model::{DesiredStack, ObservedAccount};
use crate::plan::saved::{self, Mismatch};
use crate::plan::{self, Plan, PlanOptions};
use crate::render::{self, Format};
use crate::status::{self, Followed, Status};

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
    /// Your own provisioned throughput price table, used before bedform's
    #[arg(long, global = true, env = "BEDFORM_PRICES", value_name = "FILE")]
    pub prices: Option<PathBuf>,
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
    /// Show what is still converging (jobs training, throughput being created);
    /// changes nothing
    Status(StatusArgs),
    /// Run the smoke checks (`check:`) of the declared provisioned throughputs
    /// that are InService; changes nothing
    Check(CheckArgs),
    /// Print the JSON Schema of the manifests
    Schema,
    /// Release a stack lock left by an apply that no longer runs
    Unlock(UnlockArgs),
    /// Adopt existing objects the manifests declare, by giving them the stack's
    /// ownership tags
    Import(ImportArgs),
    /// Write manifests for the Bedrock resources of an existing account
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// ADDRESS AWS-ID PATH... (ADDRESS is Kind/name; AWS-ID the object's name or
    /// ARN); with --all, only PATH...
    #[arg(required = true, value_name = "ADDRESS AWS-ID PATH")]
    pub args: Vec<String>,
    /// Adopt every declared resource whose object exists without an owner
    #[arg(long)]
    pub all: bool,
    /// Do not ask for confirmation
    #[arg(long)]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Kinds to export (default: all that export supports)
    #[arg(long, value_delimiter = ',', value_name = "KIND,...")]
    pub kinds: Vec<String>,
    /// Folder to write the manifests to (default: print them)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Name of the exported stack
    #[arg(long, default_value = "exported", value_name = "NAME")]
    pub stack: String,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The lock's id, as a refused apply printed it
    pub id: String,
    /// The stack's manifests, to find its `spec.lock` (not needed with --sandbox)
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Follow what converges until it is done
    #[arg(long)]
    pub wait: bool,
    /// Longest wait, in seconds, with --wait
    #[arg(long, value_name = "SECONDS", default_value_t = 6 * 3600)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
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
    /// With `--format markdown`: cut the comment to this many characters (GitHub
    /// takes 65536), leaving room for what a CI step adds around it
    #[arg(long, value_name = "CHARS", default_value_t = render::markdown::COMMENT_LIMIT as u64,
          value_parser = clap::value_parser!(u64).range(2_000..))]
    pub max_length: u64,
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
    #[error(transparent)]
    Lock(#[from] LockError),
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
            crate::errln!("error: starting the runtime: {e}");
            return ExitStatus::Error;
        }
    };
    let status = match runtime.block_on(dispatch(&cli)) {
        Ok(status) => status,
        Err(e) => {
            crate::errln!("error: {e}");
            ExitStatus::Error
        }
    };
    // An interrupted confirmation prompt leaves a thread reading stdin; it must
    // not keep the process from ending.
    runtime.shutdown_background();
    // A reader that went away (or a full disk) means the output is incomplete.
    if crate::output::lost() && status == ExitStatus::Success {
        ExitStatus::Error
    } else {
        status
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
            crate::out!("{}", manifest::schema::manifest_schema_text());
            Ok(ExitStatus::Success)
        }
        Command::Validate { paths } => {
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
        Command::Status(args) => status_command(cli, args).await,
        Command::Check(args) => check_command(cli, args).await,
        Command::Unlock(args) => unlock_command(cli, args).await,
        Command::Import(args) => import_command(cli, args).await,
        Command::Export(args) => export_command(cli, args).await,
    }
}

fn report_warnings(loaded: &manifest::Loaded, color: bool) {
    for w in &loaded.warnings {
        crate::errln!("{}", w.render(&loaded.sources, color));
    }
}

fn report_diagnostics(
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
struct Prepared {
    desired: DesiredStack,
    cloud: Box<dyn Cloud>,
}

async fn prepare(
    global: &Global,
    paths: &[PathBuf],
) -> Result<Result<Prepared, ExitStatus>, CliError> {
    let loaded = manifest::load(paths);
    report_warnings(&loaded, stderr_color(global));
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
    let options = plan_options(&cli.global, args.retry_failed)?;
    let prepared = match prepare(&cli.global, &args.paths).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    let observed = prepared
        .cloud
        .observe(&Scope::of(&prepared.desired))
        .await?;
    let plan = plan::plan(&prepared.desired, &observed, &options);
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

/// How to plan: the user's choices and price table.
fn plan_options(global: &Global, retry_failed: bool) -> Result<PlanOptions, CliError> {
    let prices = match &global.prices {
        Some(path) => crate::pricing::Prices::with_user_file(path).map_err(fail)?,
        None => crate::pricing::Prices::default(),
    };
    Ok(PlanOptions {
        retry_failed,
        prices,
    })
}

fn write_plan(path: &Path, plan: &Plan) -> Result<(), CliError> {
    let text = saved::encode(plan).map_err(|e| fail(format!("writing {}: {e}", path.display())))?;
    // A saved plan holds what apply sends, sensitive values included.
    crate::files::write_private(path, text.as_bytes())
        .map_err(|e| fail(format!("writing {}: {e}", path.display())))
}

/// Refuses to apply the saved plan `file`; nothing has been changed at this point.
fn refuse(file: &Path, why: impl std::fmt::Display) -> CliError {
    fail(format!(
        "{} cannot be applied: {why}; nothing was changed",
        file.display()
    ))
}

fn read_plan(path: &Path) -> Result<Plan, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
    saved::decode(&text).map_err(|e| refuse(path, e))
}

async fn apply_command(cli: &Cli, args: &ApplyArgs) -> Result<ExitStatus, CliError> {
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
            unlock_command_line(&cli.global, &held, &args.paths)
        );
        return match outcome {
            Err(e) => Err(e),
            Ok(_) => Ok(ExitStatus::Error),
        };
    }
    outcome
}

/// `bedform [global flags] COMMAND PATH...` as the user would type it to go on
/// from this run.
fn bedform_line(global: &Global, command: &str, paths: &[PathBuf]) -> String {
    let mut line = String::from("bedform");
    match (&global.sandbox_file, global.sandbox) {
        (Some(file), _) => line.push_str(&format!(" --sandbox-file {}", file.display())),
        (None, true) => line.push_str(" --sandbox"),
        (None, false) => {}
    }
    if let Some(region) = &global.region {
        line.push_str(&format!(" --region {region}"));
    }
    if let Some(profile) = &global.profile {
        line.push_str(&format!(" --profile {profile}"));
    }
    line.push(' ');
    line.push_str(command);
    if paths.is_empty() {
        line.push_str(" PATH...");
    }
    for path in paths {
        line.push(' ');
        line.push_str(&path.display().to_string());
    }
    line
}

/// `bedform unlock ID ...` as the user would type it for this apply's lock.
fn unlock_command_line(global: &Global, id: &str, paths: &[PathBuf]) -> String {
    match (&global.sandbox_file, global.sandbox) {
        (Some(file), _) => format!("bedform --sandbox-file {} unlock {id}", file.display()),
        (None, true) => format!("bedform --sandbox unlock {id}"),
        (None, false) if paths.is_empty() => format!("bedform unlock {id} PATH..."),
        (None, false) => {
            let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            format!("bedform unlock {id} {}", paths.join(" "))
        }
    }
}

/// Takes the stack lock before the account is read for the plan, so the plan
/// cannot go stale under a second apply; fails at once, naming the holder, if
/// another apply holds it.
async fn take_lock(
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
    let command = match &args.plan {
        Some(file) => format!("bedform apply --plan {}", file.display()),
        None => {
            let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
            format!("bedform apply {}", paths.join(" "))
        }
    };
    let command = if args.wait {
        format!("{command} --wait")
    } else {
        command
    };
    *session = Session::new(Some(stack_lock), stack, &command);
    session.acquire().await.map_err(|e| match e {
        LockError::Held { object, record } => fail(format!(
            "stack `{stack}` is locked by another apply: {record} ({object}). Nothing was changed. If that apply no longer runs, release its lock with `{}`",
            unlock_command_line(&cli.global, &record.id, &args.paths)
        )),
        other => fail(format!("{other}; nothing was changed")),
    })
}

/// A plan approved for apply, and the account it is applied to.
struct Approved {
    plan: Plan,
    cloud: Box<dyn Cloud>,
    /// The manifests, to plan later rounds from (none for a saved plan).
    desired: Option<DesiredStack>,
}

async fn apply_under_lock(
    cli: &Cli,
    args: &ApplyArgs,
    lock: &mut Session,
    interrupt: &Interrupt,
) -> Result<ExitStatus, CliError> {
    let plan_options = plan_options(&cli.global, args.retry_failed)?;
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
    } = match approved {
        Ok(approved) => approved,
        Err(status) => return Ok(status),
    };
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
async fn approve(
    cli: &Cli,
    args: &ApplyArgs,
    lock: &mut Session,
    plan_options: &PlanOptions,
) -> Result<Result<Approved, ExitStatus>, CliError> {
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
            let prepared = match prepare(&cli.global, &args.paths).await? {
                Ok(p) => p,
                Err(status) => return Ok(Err(status)),
            };
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
                .observe(&Scope::of(&prepared.desired))
                .await?;
            let plan = plan::plan(&prepared.desired, &observed, plan_options);
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
            return Ok(Err(ExitStatus::Error));
        }
        Gate::NothingToDo => {
            if args.plan.is_some() {
                crate::outln!("No changes in the saved plan.");
            }
            return Ok(Err(ExitStatus::Success));
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
                return Ok(Err(ExitStatus::Error));
            }
        }
    }
    Ok(Ok(Approved {
        plan,
        cloud,
        desired,
    }))
}

/// Sends the approved plan in rounds and reports how each change ended. Ctrl-C
/// stops sending and waiting cleanly (see [`apply`]).
async fn send(
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
    for result in &report.results {
        let line = match &result.outcome {
            Outcome::Done => format!("{}: done", result.address),
            Outcome::Converging { status } => format!(
                "{}: accepted, {status} (`bedform status --wait` follows it)",
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
            Outcome::Interrupted { reason } => format!("{}: not sent, {reason}", result.address),
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
fn print_interrupted(global: &Global, paths: &[PathBuf], report: &apply::ApplyReport) {
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

/// Where the stack stands: observed now, planned (purely) against the manifests.
async fn read_status(prepared: &Prepared) -> Result<Status, CliError> {
    let observed = prepared
        .cloud
        .observe(&Scope::of(&prepared.desired))
        .await?;
    let plan = plan::plan(&prepared.desired, &observed, &PlanOptions::default());
    Ok(Status::of(&plan, &observed))
}

async fn status_command(cli: &Cli, args: &StatusArgs) -> Result<ExitStatus, CliError> {
    let interrupt = Interrupt::on_ctrl_c();
    let read = async {
        let prepared = match prepare(&cli.global, &args.paths).await? {
            Ok(p) => p,
            Err(status) => return Ok(Err(status)),
        };
        let status = read_status(&prepared).await?;
        Ok::<_, CliError>(Ok((prepared, status)))
    };
    let (prepared, mut status) = tokio::select! {
        read = read => match read? {
            Ok(read) => read,
            Err(status) => return Ok(status),
        },
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

/// Prints check results; true when all that ran passed.
fn print_checks(results: &[check::CheckResult]) -> bool {
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

async fn check_command(cli: &Cli, args: &CheckArgs) -> Result<ExitStatus, CliError> {
    let prepared = match prepare(&cli.global, &args.paths).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    if let Some(why) = prepared.cloud.inference_unavailable() {
        return Err(fail(format!("cannot run checks: {why}")));
    }
    let observed = prepared
        .cloud
        .observe(&Scope::of(&prepared.desired))
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

/// After `apply --wait`: the checks of the throughputs this apply created or
/// changed, now in service. `Some(false)` when one failed.
async fn checks_after_apply(
    cloud: &dyn Cloud,
    desired: &DesiredStack,
    report: &apply::ApplyReport,
) -> Result<Option<bool>, CliError> {
    let changed: std::collections::BTreeSet<crate::model::Address> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Done))
        .filter(|r| desired.get(&r.address).is_some_and(|d| d.check.is_some()))
        .map(|r| r.address.clone())
        .collect();
    if changed.is_empty() {
        return Ok(None);
    }
    if let Some(why) = cloud.inference_unavailable() {
        crate::outln!("\nChecks not run: {why}.");
        return Ok(None);
    }
    let observed = cloud.observe(&Scope::of(desired)).await?;
    let results = check::run(cloud, desired, &observed, Some(&changed)).await;
    crate::outln!("\nChecks of the throughputs this apply created or changed:");
    Ok(Some(print_checks(&results)))
}

async fn unlock_command(cli: &Cli, args: &UnlockArgs) -> Result<ExitStatus, CliError> {
    let lock = match sandbox_path(&cli.global) {
        Some(path) => StackLock::for_sandbox(&path),
        None => {
            if args.paths.is_empty() {
                return Err(fail(
                    "name the manifests of the stack whose lock to release: bedform unlock ID PATH... (or --sandbox)",
                ));
            }
            let loaded = manifest::load(&args.paths);
            let desired = match manifest::validate(&loaded, None) {
                Ok(desired) => desired,
                Err(diagnostics) => {
                    return Ok(report_diagnostics(
                        &loaded.sources,
                        &diagnostics,
                        stderr_color(&cli.global),
                    ));
                }
            };
            let stack = &desired.stack;
            let Some(location) = &stack.lock else {
                return Err(fail(format!(
                    "stack `{}` declares no `spec.lock`; apply takes no lock for it on AWS, so there is none to release",
                    stack.name
                )));
            };
            let settings = AwsSettings {
                region: cli
                    .global
                    .region
                    .clone()
                    .unwrap_or_else(|| stack.region.clone()),
                profile: cli.global.profile.clone(),
                endpoint_url: cli.global.endpoint_url.clone(),
            };
            let aws = Aws::connect(&settings).await;
            match aws.stack_lock(Some(location)) {
                Some(lock) => lock,
                None => return Err(fail("the AWS adapter has no stack lock")),
            }
        }
    };
    let released = lock.release(&args.id).await?;
    crate::outln!("Released {released} ({}).", lock.object());
    Ok(ExitStatus::Success)
}

/// Asks "yes" on a terminal; `Ok(false)` when the user declines. Refuses without
/// a terminal: `what` names the flag that skips the question.
fn confirm(question: &str, command: &str) -> Result<bool, CliError> {
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

fn show_value(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), |v| v.to_string())
}

/// Prints what importing one resource tags, and what the next plan will show.
fn show_adoption(adopted: &crate::adopt::Adopted) {
    crate::outln!("{}", adopted.address);
    for target in &adopted.targets {
        crate::outln!("  tag {} `{}`:", target.kind, target.aws_name);
        for (key, value) in &target.tags {
            crate::outln!("    + {key} = {value}");
        }
    }
    if adopted.in_sync() {
        crate::outln!("  It matches its document: the next plan shows no change for it.");
    } else {
        crate::outln!(
            "  It differs from its document; `{}` is left off, so the next plan shows these as changes to apply:",
            crate::model::TAG_SPEC_HASH
        );
        for field in &adopted.differences {
            crate::outln!(
                "    ~ {}: {} -> {}",
                field.path,
                show_value(field.before.as_ref()),
                show_value(field.after.as_ref())
            );
        }
    }
}

async fn import_command(cli: &Cli, args: &ImportArgs) -> Result<ExitStatus, CliError> {
    let (target, paths): (Option<(&str, &str)>, Vec<PathBuf>) = if args.all {
        (None, args.args.iter().map(PathBuf::from).collect())
    } else {
        match args.args.as_slice() {
            [address, aws_id, paths @ ..] if !paths.is_empty() => (
                Some((address.as_str(), aws_id.as_str())),
                paths.iter().map(PathBuf::from).collect(),
            ),
            _ => {
                return Err(fail(
                    "usage: bedform import ADDRESS AWS-ID PATH... (or bedform import --all PATH...)",
                ));
            }
        }
    };
    let prepared = match prepare(&cli.global, &paths).await? {
        Ok(p) => p,
        Err(status) => return Ok(status),
    };
    let observed = prepared
        .cloud
        .observe(&Scope::of(&prepared.desired))
        .await?;
    let adoptions = match target {
        Some((address, aws_id)) => {
            match crate::adopt::import_one(&prepared.desired, &observed, address, aws_id) {
                Ok(crate::adopt::Verdict::Adopt(adopted)) => vec![adopted],
                Ok(crate::adopt::Verdict::AlreadyManaged { address, aws_name }) => {
                    crate::outln!(
                        "{address} is already managed by this stack (`{aws_name}` carries its tags); nothing to import."
                    );
                    return Ok(ExitStatus::Success);
                }
                Ok(crate::adopt::Verdict::NotNeeded { address, why }) => {
                    crate::outln!("{address}: nothing to import: {why}.");
                    return Ok(ExitStatus::Success);
                }
                Err(refusal) => {
                    return Err(fail(format!("{refusal}. Nothing was changed")));
                }
            }
        }
        None => {
            let survey = crate::adopt::import_all(&prepared.desired, &observed);
            for refusal in &survey.refused {
                crate::errln!("warning: not imported: {refusal}");
            }
            if survey.adopt.is_empty() {
                crate::outln!("Nothing to import: no declared object exists without an owner.");
                return Ok(if survey.refused.is_empty() {
                    ExitStatus::Success
                } else {
                    ExitStatus::Error
                });
            }
            survey.adopt
        }
    };
    for adopted in &adoptions {
        show_adoption(adopted);
    }
    let count: usize = adoptions.iter().map(|a| a.targets.len()).sum();
    let question = format!(
        "\nTag {count} object{} in account {} for stack `{}`?",
        if count == 1 { "" } else { "s" },
        observed.account_id,
        prepared.desired.stack.name
    );
    if !args.auto_approve && !confirm(&question, "import")? {
        crate::errln!("Import cancelled; nothing was changed.");
        return Ok(ExitStatus::Error);
    }
    for adopted in &adoptions {
        for target in &adopted.targets {
            prepared
                .cloud
                .add_tags(&target.kind, &target.aws_name, &target.tags)
                .await?;
        }
        crate::outln!("Imported {}.", adopted.address);
    }
    crate::outln!("\nRun plan to see what is left to apply.");
    Ok(ExitStatus::Success)
}

async fn export_command(cli: &Cli, args: &ExportArgs) -> Result<ExitStatus, CliError> {
    let kinds = crate::export::kinds(&args.kinds).map_err(|e| fail(e.to_string()))?;
    if let Err(problem) = crate::names::check_address_name(&args.stack) {
        return Err(fail(format!("--stack `{}` {problem}", args.stack)));
    }
    let region = cli
        .global
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .ok_or_else(|| fail("export needs a region: pass --region REGION"))?;
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
