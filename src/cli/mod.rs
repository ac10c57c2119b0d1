//! The command line: raw flags ([`flags`]) -> what the commands share once they
//! are read ([`settings`]) -> one file per command.

mod apply;
mod check;
mod export;
pub mod flags;
mod graph;
mod import;
pub mod logging;
mod plan;
mod prices;
mod settings;
mod status;
mod unlock;
mod validate;

use crate::cloud::lock::LockError;
use crate::exit::ExitStatus;
use crate::manifest;

pub use flags::*;

/// Errors at the command layer, printed as one message.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Message(String),
    /// What went wrong has been reported already: end with this status.
    #[error("{0:?}")]
    Stop(ExitStatus),
    #[error(transparent)]
    Cloud(#[from] crate::cloud::CloudError),
    #[error(transparent)]
    Sandbox(#[from] crate::cloud::sandbox::SandboxError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Prices(#[from] crate::pricing::PriceError),
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
    let cli = match flags::parse(args) {
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
    logging::init(cli.global.log_level);
    // One thread: bedform waits on AWS, it does not compute. A multi-threaded
    // runtime handed every answer from one thread to another and spent about a
    // quarter of bedform's CPU time in those wake-ups (apply of 500 resources,
    // README "How it scales"); reads and writes still run concurrently here.
    let runtime = match tokio::runtime::Builder::new_current_thread()
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
        Ok(status) | Err(CliError::Stop(status)) => status,
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

async fn dispatch(cli: &Cli) -> Result<ExitStatus, CliError> {
    match &cli.command {
        Command::Schema => {
            crate::out!("{}", manifest::schema::manifest_schema_text());
            Ok(ExitStatus::Success)
        }
        Command::Validate { paths } => Ok(validate::validate_command(cli, paths)),
        Command::Plan(args) => plan::plan_command(cli, args).await,
        Command::Apply(args) => apply::apply_command(cli, args).await,
        Command::Status(args) => status::status_command(cli, args).await,
        Command::Check(args) => check::check_command(cli, args).await,
        Command::Unlock(args) => unlock::unlock_command(cli, args).await,
        Command::Import(args) => import::import_command(cli, args).await,
        Command::Export(args) => export::export_command(cli, args).await,
        Command::Graph(args) => graph::graph_command(cli, args).await,
        Command::Prices(args) => prices::prices_command(cli, args).await,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut flags::command(), "bedform", &mut script);
            crate::out!("{}", String::from_utf8_lossy(&script).trim_end());
            Ok(ExitStatus::Success)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(flags::command())
                .render(&mut page)
                .map_err(|e| fail(format!("writing the manual page: {e}")))?;
            crate::out!("{}", String::from_utf8_lossy(&page).trim_end());
            Ok(ExitStatus::Success)
        }
    }
}
