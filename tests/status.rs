//! Waiting and status: `bedform status` lists what converges and what only an
//! apply makes, `status --wait` follows it to the end or to `--timeout`, and Ctrl-C
//! stops `apply --wait` and `status --wait` cleanly (exit 130, the lock given
//! back, the command that resumes printed), also while apply is sending.
//!
//! The sandbox's clock is slowed down so that a job is surely still training
//! when a test looks, and sped up again (through the sandbox file) to let it end.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bedform::apply::progress::Progress;
use bedform::apply::{ApplyOptions, Interrupt, Outcome, apply};
use bedform::cloud::sandbox::{Sandbox, Timing};
use common::{ACCOUNT, Output, REGION, assert_contains, fast_clock, run};
use tempfile::TempDir;

/// A job that outlasts any test, until the clock is sped up.
const SLOW: f64 = 3600.0;

/// The quickstart stack as `stack/` of a temp folder, with its sandbox on `timing`.
fn quickstart(timing: Timing) -> TempDir {
    let dir = TempDir::new().unwrap();
    let copied = common::copy_example(dir.path(), "quickstart");
    std::fs::rename(copied, dir.path().join("stack")).unwrap();
    set_timing(dir.path(), timing);
    dir
}

fn sandbox_file(dir: &Path) -> PathBuf {
    dir.join(".bedform/sandbox.json")
}

fn lock_file(dir: &Path) -> PathBuf {
    dir.join(".bedform/sandbox.json.lock")
}

fn set_timing(dir: &Path, timing: Timing) {
    let sandbox = Sandbox::open(&sandbox_file(dir), ACCOUNT, REGION).unwrap();
    sandbox.set_timing(timing).unwrap();
}

fn sandbox_timing(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(sandbox_file(dir)).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["timing"].clone()
}

/// Lets jobs and throughput finish now. Another process may save the sandbox
/// between this one's read and write, so it is set until it holds.
fn speed_up(dir: &Path) {
    let fast = fast_clock(0.5, 0.5);
    let expected = serde_json::to_value(&fast).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        set_timing(dir, fast.clone());
        std::thread::sleep(Duration::from_millis(300));
        if sandbox_timing(dir) == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the sandbox clock was not sped up"
        );
    }
}

/// The binary running in the background, its output collected as it comes.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(
    stream: impl Read + Send + 'static,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    })
}

impl Running {
    fn start(dir: &Path, args: &[&str]) -> Running {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bedform"))
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("AWS_ENDPOINT_URL")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), stdout.clone()),
            collect(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Running {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits until stderr shows `part`; fails the test if bedform ends first or
    /// a minute passes.
    fn wait_for_stderr(&mut self, part: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.stderr.lock().unwrap().contains(part) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "bedform ended ({status}) before printing `{part}`:\n{}\n{}",
                    self.stdout.lock().unwrap(),
                    self.stderr.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no `{part}` within a minute:\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends Ctrl-C (SIGINT).
    fn interrupt(&self) {
        self.signal(libc::SIGINT);
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill has no memory effects; the pid is our own child's.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits for bedform to end (two minutes at most, then kills it).
    fn finish(mut self) -> Output {
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers {
            reader.join().unwrap();
        }
        Output {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

#[test]
fn status_lists_what_converges_and_what_waits_for_an_apply_then_all_converged() {
    let dir = quickstart(fast_clock(SLOW, SLOW));
    let dir = dir.path();

    let before = run(dir, ["--sandbox", "status", "stack"]).expect(2);
    assert_contains(&before.stdout, "Changes only an apply makes:");
    assert_contains(&before.stdout, "CustomizationJob/support-distilled: create");
    assert!(!before.stdout.contains("Converging:"), "{}", before.stdout);

    run(dir, ["--sandbox", "apply", "--auto-approve", "stack"]).expect(0);
    let training = run(dir, ["--sandbox", "status", "stack"]).expect(2);
    assert_contains(&training.stdout, "Converging:");
    assert_contains(
        &training.stdout,
        "CustomizationJob/support-distilled (support-distilled-",
    );
    assert_contains(&training.stdout, "): InProgress, validation (stage 1 of 3)");
    // The throughput serves the job's model: only a later apply can create it.
    assert_contains(
        &training.stdout,
        "ProvisionedThroughput/support-bot: create, waiting on CustomizationJob/support-distilled",
    );
    assert_contains(&training.stdout, "`bedform --sandbox status --wait stack`");
    assert_contains(&training.stdout, "`bedform --sandbox apply --wait stack`");
    assert!(!lock_file(dir).exists(), "status takes no lock");

    speed_up(dir);
    run(
        dir,
        ["--sandbox", "apply", "--auto-approve", "--wait", "stack"],
    )
    .expect(0);
    let settled = run(dir, ["--sandbox", "status", "stack"]).expect(0);
    assert_contains(&settled.stdout, "All converged");
}

#[test]
fn status_wait_follows_a_job_through_its_stages_until_it_ends() {
    let dir = quickstart(fast_clock(SLOW, SLOW));
    let dir = dir.path();
    run(dir, ["--sandbox", "apply", "--auto-approve", "stack"]).expect(0);

    let mut following = Running::start(dir, &["--sandbox", "status", "--wait", "stack"]);
    following.wait_for_stderr(": InProgress, validation (stage 1 of 3)");
    speed_up(dir);
    let out = following.finish().expect(2);
    assert_contains(
        &out.stderr,
        "CustomizationJob/support-distilled (support-distilled-",
    );
    assert_contains(&out.stderr, "): Completed");
    // What it followed ended; the throughput is left for an apply, and said so.
    assert!(!out.stdout.contains("Converging:"), "{}", out.stdout);
    assert_contains(&out.stdout, "ProvisionedThroughput/support-bot: create");
}

#[test]
fn status_wait_ends_at_its_timeout_saying_what_still_converges() {
    let dir = quickstart(fast_clock(SLOW, SLOW));
    let dir = dir.path();
    run(dir, ["--sandbox", "apply", "--auto-approve", "stack"]).expect(0);
    let out = run(
        dir,
        ["--sandbox", "status", "--wait", "--timeout", "1", "stack"],
    )
    .expect(1);
    assert_contains(&out.stdout, "Still converging in stack `support-bot`:");
    assert_contains(
        &out.stdout,
        "CustomizationJob/support-distilled (support-distilled-",
    );
    assert_contains(&out.stdout, "after the timeout of 1 s");
    assert_contains(
        &out.stdout,
        "`bedform --sandbox status --wait stack` follows it again",
    );
    assert_contains(&out.stderr, "timed out");
}

#[test]
fn apply_wait_that_times_out_fails_naming_what_it_waited_for() {
    let dir = quickstart(fast_clock(SLOW, SLOW));
    let dir = dir.path();
    let out = run(
        dir,
        [
            "--sandbox",
            "apply",
            "--auto-approve",
            "--wait",
            "--timeout",
            "2",
            "stack",
        ],
    )
    .expect(1);
    // The job still trains, and the throughput that serves its model was never
    // made: neither is a success of a wait that was asked to see them through.
    assert_contains(
        &out.stdout,
        "waiting for CustomizationJob support-distilled-",
    );
    assert_contains(
        &out.stdout,
        "waiting for ProvisionedThroughput/support-bot: still waiting",
    );
    assert!(!out.stdout.contains("Apply complete."), "{}", out.stdout);
    assert!(!lock_file(dir).exists(), "the lock was given back");
}

#[test]
fn apply_wait_without_a_terminal_prints_job_stages_and_finishes() {
    let dir = quickstart(fast_clock(2.0, 0.5));
    let dir = dir.path();
    let out = run(
        dir,
        ["--sandbox", "apply", "--auto-approve", "--wait", "stack"],
    )
    .expect(0);
    // One plain line per change of stage or percentage, each naming the stage.
    let stages: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(": InProgress, ") && l.contains(" (stage "))
        .collect();
    assert!(!stages.is_empty(), "{}", out.stderr);
    assert_contains(&out.stderr, "ProvisionedThroughput support-bot: InService");
    assert_contains(&out.stdout, "Apply complete.");
}

#[test]
fn ctrl_c_while_apply_waits_stops_cleanly_and_status_wait_resumes() {
    let dir = quickstart(fast_clock(SLOW, SLOW));
    let dir = dir.path();
    let mut applying = Running::start(
        dir,
        &["--sandbox", "apply", "--auto-approve", "--wait", "stack"],
    );
    applying.wait_for_stderr("following what converges without it");
    applying.wait_for_stderr(": InProgress, ");
    applying.interrupt();
    let out = applying.finish().expect(130);
    assert_contains(
        &out.stdout,
        "CustomizationJob/support-distilled: accepted, InProgress",
    );
    assert_contains(&out.stdout, "Nothing in AWS was stopped");
    assert_contains(
        &out.stdout,
        "Still converging: CustomizationJob/support-distilled. `bedform --sandbox status --wait stack` resumes following it.",
    );
    assert_contains(
        &out.stdout,
        "`bedform --sandbox apply --wait stack` makes what is left (ProvisionedThroughput/support-bot)",
    );
    assert!(!lock_file(dir).exists(), "the lock was given back");

    // Nothing was stopped: the job trains on, and status --wait follows it.
    let mut following = Running::start(dir, &["--sandbox", "status", "--wait", "stack"]);
    following.wait_for_stderr(": InProgress, ");
    speed_up(dir);
    let resumed = following.finish().expect(2);
    assert_contains(&resumed.stderr, "): Completed");
    run(
        dir,
        ["--sandbox", "apply", "--auto-approve", "--wait", "stack"],
    )
    .expect(0);
    run(dir, ["--sandbox", "status", "stack"]).expect(0);
}

#[test]
fn ctrl_c_while_status_waits_says_how_to_resume() {
    let dir = quickstart(fast_clock(SLOW, SLOW));
    let dir = dir.path();
    run(dir, ["--sandbox", "apply", "--auto-approve", "stack"]).expect(0);
    let mut following = Running::start(dir, &["--sandbox", "status", "--wait", "stack"]);
    following.wait_for_stderr(": InProgress, ");
    following.interrupt();
    let out = following.finish().expect(130);
    assert_contains(
        &out.stdout,
        "Stopped following; nothing in AWS was stopped.",
    );
    assert_contains(
        &out.stdout,
        "`bedform --sandbox status --wait stack` resumes",
    );
    assert_contains(
        &out.stdout,
        "CustomizationJob/support-distilled (support-distilled-",
    );
    run(dir, ["--sandbox", "status", "stack"]).expect(2);
}

#[test]
fn ctrl_c_while_apply_sends_gives_the_lock_back_and_says_what_was_not_sent() {
    // A new role stays unassumable: apply keeps retrying the job's create, under
    // the lock, until it is interrupted.
    let dir = quickstart(Timing {
        iam_propagation_seconds: SLOW,
        ..fast_clock(1.0, 0.5)
    });
    let dir = dir.path();
    let applying = apply_retrying_under_the_lock(dir);
    applying.interrupt();
    let out = applying.finish().expect(130);
    assert_contains(&out.stdout, "IamRole/distillation-role: done");
    assert_contains(
        &out.stdout,
        "CustomizationJob/support-distilled: not sent, apply was interrupted while retrying `create CustomizationJob",
    );
    assert_contains(&out.stdout, "Not sent: ");
    assert_contains(
        &out.stdout,
        "`bedform --sandbox apply --wait stack` makes what is left",
    );
    assert!(!lock_file(dir).exists(), "the lock was given back");

    set_timing(dir, fast_clock(1.0, 0.5));
    run(
        dir,
        ["--sandbox", "apply", "--auto-approve", "--wait", "stack"],
    )
    .expect(0);
    run(dir, ["--sandbox", "plan", "--detailed-exitcode", "stack"]).expect(0);
}

#[test]
fn an_interrupt_before_apply_sends_anything_leaves_the_account_untouched() {
    let runtime = common::runtime();
    runtime.block_on(async {
        let account = common::Account::new(fast_clock(1.0, 0.5));
        let plan = account.plan_stack(&common::quickstart()).await;
        let (interrupt, trigger) = Interrupt::manual();
        trigger.press();
        let options = ApplyOptions {
            interrupt,
            ..common::apply_options(true)
        };
        let report = apply(&account.sandbox, &plan, &options, &Progress::quiet()).await;
        assert!(report.interrupted());
        for result in &report.results {
            assert!(
                matches!(&result.outcome, Outcome::Interrupted { reason } if reason.contains("before it was sent")),
                "{result:?}"
            );
            assert!(result.done.is_empty());
        }
        let observed = account.observed().await;
        assert!(
            observed.resources.iter().all(|r| r.kind == "ModelAccess"),
            "{:?}",
            observed.resources
        );
    });
}

/// An apply on `dir` (whose new role stays unassumable) once it is retrying the
/// job's create, holding the stack lock.
fn apply_retrying_under_the_lock(dir: &Path) -> Running {
    let mut applying = Running::start(dir, &["--sandbox", "apply", "--auto-approve", "stack"]);
    applying.wait_for_stderr("retrying create CustomizationJob");
    assert!(
        lock_file(dir).exists(),
        "apply holds the lock while sending"
    );
    applying
}

/// A cancelled CI job or a stopped container sends SIGTERM, a closed terminal
/// SIGHUP: apply stops as it does on Ctrl-C, and gives the lock back.
#[test]
fn sigterm_and_sighup_while_apply_sends_give_the_lock_back() {
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let dir = quickstart(Timing {
            iam_propagation_seconds: SLOW,
            ..fast_clock(1.0, 0.5)
        });
        let dir = dir.path();
        let applying = apply_retrying_under_the_lock(dir);
        applying.signal(signal);
        let out = applying.finish().expect(130);
        assert_contains(&out.stdout, "Not sent: ");
        assert!(
            !lock_file(dir).exists(),
            "signal {signal}: the lock was given back"
        );
    }
}
