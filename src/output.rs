//! Writing to stdout and stderr without panicking when a reader goes away.
//!
//! `bedform validate . | head -1`, or a CI step that stops reading, closes the
//! pipe; a full disk fails the write. Either way bedform must not panic (as
//! `println!` does): further output to that stream is dropped, the command carries
//! on to a clean end (an apply still gives its lock back), and the run ends with
//! [`ExitStatus::Error`](crate::ExitStatus::Error) instead of success.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_LOST: AtomicBool = AtomicBool::new(false);
static STDERR_LOST: AtomicBool = AtomicBool::new(false);

/// Writes to stdout, the product's stream (plans, JSON).
pub fn to_stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_LOST.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_fmt(args).and_then(|()| out.flush()).is_err() {
        STDOUT_LOST.store(true, Ordering::Relaxed);
    }
}

/// Writes to stderr, the stream of progress, hints and errors.
pub fn to_stderr(args: std::fmt::Arguments<'_>) {
    if STDERR_LOST.load(Ordering::Relaxed) {
        return;
    }
    let mut err = std::io::stderr().lock();
    if err.write_fmt(args).and_then(|()| err.flush()).is_err() {
        STDERR_LOST.store(true, Ordering::Relaxed);
    }
}

/// Whether some output could not be written.
pub fn lost() -> bool {
    STDOUT_LOST.load(Ordering::Relaxed) || STDERR_LOST.load(Ordering::Relaxed)
}

/// `println!` that never panics: see the module's documentation.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::to_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::to_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that never panics.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::to_stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    () => { $crate::output::to_stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::to_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that never panics.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::output::to_stderr(format_args!($($arg)*)) };
}
