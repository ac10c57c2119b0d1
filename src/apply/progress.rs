//! Progress on stderr: bars on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

pub struct Progress {
    multi: Option<MultiProgress>,
    quiet: bool,
}

impl Progress {
    /// Bars when stderr is a terminal.
    pub fn stderr() -> Progress {
        let multi = std::io::stderr().is_terminal().then(MultiProgress::new);
        Progress {
            multi,
            quiet: false,
        }
    }
    /// Prints nothing (library use, tests).
    pub fn quiet() -> Progress {
        Progress {
            multi: None,
            quiet: true,
        }
    }
    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
    pub fn bar(&self, label: &str) -> Bar<'_> {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new(100));
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Bar {
            progress: self,
            bar,
            label: label.to_string(),
            last: std::cell::RefCell::new(String::new()),
        }
    }
}

pub struct Bar<'a> {
    progress: &'a Progress,
    bar: Option<ProgressBar>,
    label: String,
    last: std::cell::RefCell<String>,
}

impl Bar<'_> {
    pub fn update(&self, status: &str, stage: Option<&str>, fraction: Option<f64>) {
        let message = match stage {
            Some(stage) => format!("{status}: {stage}"),
            None => status.to_string(),
        };
        match &self.bar {
            Some(bar) => {
                if let Some(f) = fraction {
                    bar.set_position((f.clamp(0.0, 1.0) * 100.0) as u64);
                }
                bar.set_message(message);
            }
            None => {
                // Plain lines only when something changed.
                let line = match fraction {
                    Some(f) => format!(
                        "{}: {message} {:.0}%",
                        self.label,
                        (f.clamp(0.0, 1.0) * 100.0).floor()
                    ),
                    None => format!("{}: {message}", self.label),
                };
                if *self.last.borrow() != line {
                    self.progress.line(&line);
                    *self.last.borrow_mut() = line;
                }
            }
        }
    }
    pub fn finish(&self, status: &str) {
        match &self.bar {
            Some(bar) => bar.finish_with_message(status.to_string()),
            None => self.progress.line(&format!("{}: {status}", self.label)),
        }
    }
}
