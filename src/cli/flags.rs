//! The command line as typed: the global flags, then the commands and their
//! flags and arguments, parsed by clap.

use crate::render::{self, Format};
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

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
#[command(next_help_heading = "Global flags")]
pub struct Global {
    /// Run against a simulated account kept in .bedform/sandbox.json
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// The sandbox file (implies --sandbox)
    #[arg(long, global = true, value_name = "FILE")]
    pub sandbox_file: Option<PathBuf>,
    /// AWS region (default: the Stack's; `export`, which reads no manifests, needs it or AWS_REGION)
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS shared-config profile
    #[arg(long, global = true, value_name = "NAME")]
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
    /// What bedform logs to stderr; `debug` shows every AWS request (operation,
    /// target, status, duration, attempt), never credentials or request bodies
    #[arg(
        long,
        global = true,
        env = "BEDFORM_LOG",
        value_name = "LEVEL",
        value_enum,
        default_value_t = crate::cli::logging::LogLevel::Warn
    )]
    pub log_level: crate::cli::logging::LogLevel,
}

/// The global flags that choose and price the account.
const ACCOUNT_FLAGS: &[&str] = &[
    "sandbox",
    "sandbox_file",
    "region",
    "profile",
    "endpoint_url",
];

/// The global flags each command ignores, left out of its `--help`: commands
/// that read no account ignore the account's, and only plan and apply price.
fn ignored_flags(command: &str) -> Vec<&'static str> {
    match command {
        "plan" | "apply" => vec![],
        "validate" => [ACCOUNT_FLAGS, &["prices"]].concat(),
        "schema" | "completions" | "man" => {
            [ACCOUNT_FLAGS, &["prices", "no_color", "log_level"]].concat()
        }
        _ => vec!["prices"],
    }
}

/// bedform's command line: [`Cli`], with each command's help showing only the
/// global flags it reads. Parse with it (and make completions and the manual
/// page from it) rather than from `Cli::command()`.
pub fn command() -> clap::Command {
    let mut command = Cli::command();
    let globals: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    // A subcommand that has an argument of a global flag's id keeps it when
    // clap copies the global flags into subcommands: the hidden copy stands in.
    for name in names {
        command = command.mut_subcommand(&name, |mut sub| {
            for flag in ignored_flags(&name) {
                if let Some(arg) = globals.iter().find(|arg| arg.get_id() == flag) {
                    sub = sub.arg(arg.clone().hide(true));
                }
            }
            sub
        });
    }
    command
}

/// Parses `args` with [`command`].
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline: schema, references, names, API rules
    Validate {
        /// Manifest files or folders (read recursively); together they form one stack
        #[arg(required = true, value_name = "PATH")]
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
    /// Print the stack's dependency graph (Mermaid or Graphviz DOT), offline;
    /// with --plan or --read-account, each resource's planned action
    Graph(GraphArgs),
    /// Print the prices bedform knows for a region (give it with --region): each
    /// table's source and date, and each model's terms
    Prices(PricesArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
    /// Print bedform's manual page (roff, for `man -l -`)
    Man,
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
pub struct GraphArgs {
    /// Manifest files or folders (read recursively); together they form one stack
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// How to draw it: Mermaid (rendered by GitHub in Markdown) or DOT (Graphviz)
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: render::graph::GraphFormat,
    /// A plan saved by `plan --out`: each resource shows its planned action
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Plan against the account first, as `plan` does (same flags, read-only,
    /// no lock), and show each resource's planned action
    #[arg(long, conflicts_with = "plan")]
    pub read_account: bool,
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
pub struct PricesArgs {
    /// Only this model (an id such as amazon.nova-lite-v1:0, or its ARN)
    #[arg(value_name = "MODEL")]
    pub model: Option<String>,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The lock's id, as a refused apply printed it
    #[arg(value_name = "ID")]
    pub id: String,
    /// The stack's manifests, to find its `spec.lock` (not needed with --sandbox)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The stack's manifest files or folders
    #[arg(required = true, value_name = "PATH")]
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
    /// The stack's manifest files or folders
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifest files or folders (read recursively); together they form one stack
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Save the plan for `apply --plan FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// How to print the plan: for a terminal, as JSON for programs (the format of
    /// `--out`), or as Markdown for a pull-request comment
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// With `--format markdown`: cut the comment to this many characters, at
    /// least 2000 (GitHub takes 65536; leave room for what a CI step adds)
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
    #[arg(
        required_unless_present = "plan",
        conflicts_with = "plan",
        value_name = "PATH"
    )]
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
