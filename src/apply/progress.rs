//! Progress on stderr: bars on a terminal, plain lines otherwise. Plain lines are
//! printed when something changes, and repeated every so often while nothing does,
//! so that a log (a CI job) shows the wait is alive.

use std::cell::{Cell, RefCell};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::kinds::facts::Stage;

/// How often an unchanged plain line is repeated.
const HEARTBEAT: Duration = Duration::from_secs(60);

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
            None => crate::errln!("{text}"),
        }
    }
    /// A bar for an object whose stages are `stages`.
    pub fn bar(&self, label: &str, stages: &'static [Stage]) -> Bar<'_> {
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
            stages,
            label: label.to_string(),
            started: Instant::now(),
            last: RefCell::new(String::new()),
            last_at: Cell::new(Instant::now()),
        }
    }
}

/// `data processing (stage 2 of 3)` for a stage of `stages`; others as they are.
pub fn describe_stage(stage: &str, stages: &[Stage]) -> String {
    match stages.iter().position(|s| s.name == stage) {
        Some(i) => format!("{} (stage {} of {})", stages[i].said, i + 1, stages.len()),
        None => stage.to_string(),
    }
}

/// How far through its stages an object is, when it reports no percentage.
fn stage_fraction(stage: &str, stages: &[Stage]) -> Option<f64> {
    stages
        .iter()
        .position(|s| s.name == stage)
        .map(|i| i as f64 / stages.len() as f64)
}

/// `InProgress, training (stage 3 of 3), 45%`: what a bar or a plain line says.
pub fn describe(
    status: &str,
    stage: Option<&str>,
    fraction: Option<f64>,
    stages: &[Stage],
) -> String {
    let mut text = status.to_string();
    if let Some(stage) = stage {
        text.push_str(", ");
        text.push_str(&describe_stage(stage, stages));
    }
    if let Some(f) = fraction {
        text.push_str(&format!(", {:.0}%", (f.clamp(0.0, 1.0) * 100.0).floor()));
    }
    text
}

pub struct Bar<'a> {
    progress: &'a Progress,
    bar: Option<ProgressBar>,
    stages: &'static [Stage],
    label: String,
    started: Instant,
    last: RefCell<String>,
    last_at: Cell<Instant>,
}

impl Bar<'_> {
    pub fn update(&self, status: &str, stage: Option<&str>, fraction: Option<f64>) {
        match &self.bar {
            Some(bar) => {
                if let Some(f) =
                    fraction.or_else(|| stage.and_then(|s| stage_fraction(s, self.stages)))
                {
                    bar.set_position((f.clamp(0.0, 1.0) * 100.0) as u64);
                }
                bar.set_message(describe(status, stage, None, self.stages));
            }
            None => {
                let line = format!(
                    "{}: {}",
                    self.label,
                    describe(status, stage, fraction, self.stages)
                );
                let changed = *self.last.borrow() != line;
                if changed {
                    self.progress.line(&line);
                    *self.last.borrow_mut() = line;
                    self.last_at.set(Instant::now());
                } else if self.last_at.get().elapsed() >= HEARTBEAT {
                    let minutes = self.started.elapsed().as_secs() / 60;
                    self.progress
                        .line(&format!("{line} (still, after {minutes} min)"));
                    self.last_at.set(Instant::now());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_named_with_their_place() {
        let job = crate::kinds::Kind::stages_of("CustomizationJob");
        assert_eq!(
            describe("InProgress", Some("DataProcessing"), Some(0.354), job),
            "InProgress, data processing (stage 2 of 3), 35%"
        );
        assert_eq!(
            describe("InProgress", Some("Training"), None, job),
            "InProgress, training (stage 3 of 3)"
        );
        assert_eq!(describe("Creating", None, None, &[]), "Creating");
        assert_eq!(describe_stage("Evaluation", job), "Evaluation");
        assert_eq!(stage_fraction("Validation", job), Some(0.0));
    }
}
