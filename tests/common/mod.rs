//! Setup the integration tests share: manifests read from text, observed state built
//! by hand, a sandbox account on a fast clock to plan and apply against, and the
//! binary run in a folder.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use bedform::apply::progress::Progress;
use bedform::apply::{ApplyOptions, ApplyReport, Outcome, RetryPolicy, apply};
use bedform::cloud::Cloud;
use bedform::cloud::sandbox::{Sandbox, Timing};
use bedform::manifest::{Loaded, load, load_text, validate};
use bedform::model::{DesiredStack, ObservedAccount, ObservedResource, TAG_ADDRESS, TAG_STACK};
use bedform::plan::{Change, Plan, PlanOptions, plan};
use serde_json::{Map, json};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

// ------------------------------------------------------------------ manifests

/// Validates manifest `text` loaded as `demo.yaml`, failing the test if it is invalid.
pub fn desired(text: &str) -> DesiredStack {
    desired_from("demo.yaml", text)
}

/// Validates manifest `text` loaded as the file `name`, so that files it refers to
/// are read beside `name` (as if bedform had been given the folder holding it).
pub fn desired_from(name: &str, text: &str) -> DesiredStack {
    let mut loaded = Loaded::default();
    if let Some(folder) = Path::new(name)
        .parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
    {
        loaded.files = bedform::files::Confinement::to_folders(vec![folder]);
    }
    load_text(name, text, &mut loaded);
    match validate(&loaded, None) {
        Ok(desired) => desired,
        Err(diagnostics) => panic!("manifest does not validate: {diagnostics:?}"),
    }
}

/// The README's example stack, `examples/quickstart`.
pub fn quickstart() -> DesiredStack {
    let loaded = load(&[PathBuf::from("examples/quickstart")]);
    validate(&loaded, Some(ACCOUNT)).expect("the quickstart validates")
}

// ------------------------------------------------------------- observed state

/// An account holding nothing, observed at a fixed time.
pub fn empty_account() -> ObservedAccount {
    ObservedAccount {
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        observed_at: "2026-01-15T12:00:00Z".into(),
        resources: Vec::new(),
    }
}

/// An object with a name bedform wants but no ownership tags: someone else made it.
pub fn unowned(kind: &str, aws_name: &str) -> ObservedResource {
    ObservedResource {
        kind: kind.into(),
        aws_name: aws_name.into(),
        ..ObservedResource::default()
    }
}

/// An object tagged as `address` of `stack`, and nothing more.
pub fn owned_by(kind: &str, aws_name: &str, stack: &str, address: &str) -> ObservedResource {
    ObservedResource {
        tags: [
            (TAG_STACK.to_string(), stack.to_string()),
            (TAG_ADDRESS.to_string(), address.to_string()),
        ]
        .into(),
        ..unowned(kind, aws_name)
    }
}

/// The account-wide agreement list, with agreements for `models`.
pub fn model_access(models: &[&str]) -> ObservedResource {
    ObservedResource {
        attrs: Map::from_iter([("agreements".to_string(), json!(models))]),
        ..unowned("ModelAccess", "model-access")
    }
}

// ---------------------------------------------------------------------- plans

/// Every change planned for `address`.
pub fn changes<'a>(plan: &'a Plan, address: &str) -> Vec<&'a Change> {
    plan.changes
        .iter()
        .filter(|c| c.address.to_string() == address)
        .collect()
}

/// The one change planned for `address`.
pub fn change<'a>(plan: &'a Plan, address: &str) -> &'a Change {
    let found = changes(plan, address);
    assert_eq!(
        found.len(),
        1,
        "expected one change for {address}, found {found:#?}"
    );
    found[0]
}

/// What apply did about `address`.
pub fn outcome_of<'a>(report: &'a ApplyReport, address: &str) -> &'a Outcome {
    &report
        .results
        .iter()
        .find(|r| r.address.to_string() == address)
        .unwrap_or_else(|| panic!("no result for {address}: {report:#?}"))
        .outcome
}

// -------------------------------------------------------------------- sandbox

/// A clock on which IAM propagates at once and a commitment outlasts any test.
pub fn fast_clock(job_seconds: f64, throughput_seconds: f64) -> Timing {
    Timing {
        job_seconds,
        throughput_seconds,
        iam_propagation_seconds: 0.0,
        commitment_month_seconds: 600.0,
    }
}

/// Retries and polls at the pace of a fast clock, not of AWS.
pub fn apply_options(wait: bool) -> ApplyOptions {
    ApplyOptions {
        wait,
        timeout: Duration::from_secs(10),
        retry: RetryPolicy {
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_attempts: 3,
            iam_propagation: Duration::from_secs(5),
            poll: Duration::from_millis(20),
        },
        ..ApplyOptions::default()
    }
}

/// A sandbox account in a temporary folder.
pub struct Account {
    dir: tempfile::TempDir,
    pub sandbox: Sandbox,
}

impl Account {
    pub fn new(timing: Timing) -> Account {
        let dir = tempfile::tempdir().expect("temp dir");
        let sandbox =
            Sandbox::open(&dir.path().join("sandbox.json"), ACCOUNT, REGION).expect("open sandbox");
        sandbox.set_timing(timing).expect("set timing");
        Account { dir, sandbox }
    }

    /// The file the sandbox keeps the account in.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("sandbox.json")
    }

    pub async fn observed(&self) -> ObservedAccount {
        self.sandbox
            .observe(&bedform::cloud::Scope::default())
            .await
            .expect("observe")
    }

    pub async fn exists(&self, kind: &str, name: &str) -> bool {
        self.sandbox.get(kind, name).await.expect("get").is_some()
    }

    pub async fn status(&self, kind: &str, name: &str) -> Option<String> {
        self.sandbox
            .get(kind, name)
            .await
            .expect("get")
            .and_then(|o| o.status)
    }

    /// Plans manifest `text` against the account as it is now.
    pub async fn plan(&self, text: &str) -> Plan {
        self.plan_stack(&desired(text)).await
    }

    pub async fn plan_stack(&self, desired: &DesiredStack) -> Plan {
        plan(desired, &self.observed().await, &PlanOptions::default())
    }

    /// Plans and applies `text`, following jobs and throughput until they converge.
    pub async fn apply(&self, text: &str) -> ApplyReport {
        self.apply_plan(&self.plan(text).await, true).await
    }

    /// Applies `plan`, failing the test if anything in it is refused or fails.
    pub async fn apply_plan(&self, plan: &Plan, wait: bool) -> ApplyReport {
        assert!(
            plan.blocking().next().is_none(),
            "plan has refused changes: {plan:#?}"
        );
        let report = apply(
            &self.sandbox,
            plan,
            &apply_options(wait),
            &Progress::quiet(),
        )
        .await;
        assert!(!report.failed(), "apply failed: {report:#?}");
        report
    }
}

// --------------------------------------------------------------------- binary

/// How one run of the binary exited and what it printed.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Fails the test, showing both streams, unless the run exited with `code`.
    pub fn expect(self, code: i32) -> Output {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Fails the test, showing `text`, unless `text` contains `part`.
/// Copies the example folder `examples/NAME` into `dir` and returns the copy's path.
pub fn copy_example(dir: &Path, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let to = dir.join(name);
    std::fs::create_dir_all(&to).expect("the example's folder");
    for entry in std::fs::read_dir(from).expect("the example") {
        let entry = entry.expect("an example file");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy the example");
    }
    to
}

/// A runtime for tests that call async code from a plain `#[test]`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "no `{part}` in:\n{text}");
}

/// The bedform binary in `dir`, without colour and without an AWS endpoint taken
/// from the caller's environment.
pub fn bedform(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("bedform").expect("the bedform binary is built");
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_ENDPOINT_URL");
    command
}

/// Runs bedform in `dir` with `args`.
#[must_use]
pub fn run<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_with(dir, &[], args)
}

/// Runs bedform in `dir` with `args` and the environment `env` (an emulator's
/// endpoint and credentials), never the caller's AWS profile.
#[must_use]
pub fn run_with<I, S>(dir: &Path, env: &[(&str, String)], args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = bedform(dir);
    command.env_remove("AWS_PROFILE");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.args(args).output().expect("bedform runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `text` with `from`, which it must hold exactly once, replaced by `to`.
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` once in the manifest"
    );
    text.replacen(from, to, 1)
}

/// The changes a plan would make, as `Kind/name Action`.
pub fn acting(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| format!("{} {:?}", c.address, c.action))
        .collect()
}
