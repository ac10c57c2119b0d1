//! The command line as typed: flags and arguments, parsed by clap.

//! The command line: raw flags, then the commands.

use crate::render::{self, Format};
use clap::{Args, Parser, Subcommand};
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
