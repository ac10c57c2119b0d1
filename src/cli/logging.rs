//! `--log-level` (or `BEDFORM_LOG`): what bedform logs to stderr. Only bedform's
//! own events are shown; the AWS SDK's internal logs, which can carry request
//! details, never are.

use clap::ValueEnum;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How much bedform logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Off,
    Error,
    #[default]
    Warn,
    Info,
    /// Every AWS request: operation, target, status, duration, attempt.
    Debug,
    Trace,
}

impl LogLevel {
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

/// Sends bedform's events at `level` and above to stderr. A second call (bedform
/// run twice in one process, as tests do) keeps the first subscriber.
pub fn init(level: LogLevel) {
    let only_bedform = Targets::new().with_target("bedform", level.filter());
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(only_bedform))
        .try_init();
}
