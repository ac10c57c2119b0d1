//! The binary end to end against the sandbox: the README's flow, exit codes, the
//! guards of apply.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

/// One bedform run in a temporary folder with its own sandbox.
struct Env {
    dir: TempDir,
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: TempDir::new().unwrap(),
        };
        // A fast clock: jobs train in a moment.
        std::fs::create_dir_all(env.dir.path().join(".bedform")).unwrap();
        env
    }

    /// Copies an example into the temp folder and returns its path.
    fn example(&self, name: &str) -> PathBuf {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let to = self.dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
        to
    }

    fn edit(&self, file: &Path, from: &str, to: &str) {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(from), "{} has no `{from}`", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).unwrap();
    }

    #[must_use]
    fn run(&self, args: &[&str]) -> Output {
        let output = Command::cargo_bin("bedform")
            .unwrap()
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("AWS_ENDPOINT_URL")
            .args(args)
            .output()
            .unwrap();
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn sandbox_file(&self) -> PathBuf {
        self.dir.path().join(".bedform/sandbox.json")
    }
}

impl Output {
    fn expect(self, code: i32) -> Output {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

#[test]
fn quickstart_plan_apply_wait_then_no_changes() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let stack = stack.to_str().unwrap();
    let first = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", stack])
        .expect(2);
    assert!(
        first
            .stdout
            .contains("Plan: 7 to create, 0 to update, 0 to replace, 0 to delete."),
        "{}",
        first.stdout
    );
    let applied = env
        .run(&["--sandbox", "apply", "--auto-approve", "--wait", stack])
        .expect(0);
    assert!(
        applied.stdout.contains("Apply complete."),
        "{}",
        applied.stdout
    );
    // Without a terminal, waiting prints plain progress lines.
    assert!(applied.stderr.contains("InProgress"), "{}", applied.stderr);
    assert!(applied.stderr.contains("InService"), "{}", applied.stderr);
    let again = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", stack])
        .expect(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert!(env.sandbox_file().exists());
}

#[test]
fn model_units_change_is_a_replacement_and_rename_an_update() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        "--wait",
        stack.to_str().unwrap(),
    ])
    .expect(0);
    let manifest = stack.join("distillation.yaml");
    env.edit(&manifest, "modelUnits: 1", "modelUnits: 2");
    let plan = env
        .run(&[
            "--sandbox",
            "plan",
            "--detailed-exitcode",
            stack.to_str().unwrap(),
        ])
        .expect(2);
    assert!(
        plan.stdout.contains("# ProvisionedThroughput/support-bot"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("modelUnits: 1 -> 2   # forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("cannot be updated on a provisioned throughput"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("0 to create, 0 to update, 1 to replace, 0 to delete."),
        "{}",
        plan.stdout
    );

    env.edit(
        &manifest,
        "modelUnits: 2",
        "modelUnits: 1\n  provisionedModelName: support-bot-v2",
    );
    let plan = env
        .run(&[
            "--sandbox",
            "plan",
            "--detailed-exitcode",
            stack.to_str().unwrap(),
        ])
        .expect(2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains(r#"provisionedModelName: "support-bot" -> "support-bot-v2""#),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("Changed outside bedform"),
        "a rename is not drift:\n{}",
        plan.stdout
    );
    env.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        stack.to_str().unwrap(),
    ])
    .expect(0);
    env.run(&[
        "--sandbox",
        "plan",
        "--detailed-exitcode",
        stack.to_str().unwrap(),
    ])
    .expect(0);
}

#[test]
fn commitment_purchase_needs_allow_commitment() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(
        &stack.join("distillation.yaml"),
        "commitment: none",
        "commitment: oneMonth",
    );
    let path = stack.to_str().unwrap();
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert!(
        plan.stdout
            .contains("oneMonth commitment; apply needs --allow-commitment"),
        "{}",
        plan.stdout
    );
    let refused = env
        .run(&["--sandbox", "apply", "--auto-approve", path])
        .expect(1);
    assert!(
        refused.stderr.contains("--allow-commitment"),
        "{}",
        refused.stderr
    );
    // Nothing was created.
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert!(plan.stdout.contains("Plan: 7 to create"), "{}", plan.stdout);
    env.run(&[
        "--sandbox",
        "apply",
        "--auto-approve",
        "--allow-commitment",
        "--wait",
        path,
    ])
    .expect(0);
    env.run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(0);
}

#[test]
fn apply_without_a_terminal_or_approval_changes_nothing() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let path = stack.to_str().unwrap();
    let refused = env.run(&["--sandbox", "apply", path]).expect(1);
    assert!(
        refused.stderr.contains("--auto-approve"),
        "{}",
        refused.stderr
    );
    let plan = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(2);
    assert!(plan.stdout.contains("to create"), "{}", plan.stdout);
}

#[test]
fn saved_plan_applies_exactly_and_refuses_when_stale() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let path = stack.to_str().unwrap();
    let plan_file = env.dir.path().join("reviewed.json");
    let plan_file = plan_file.to_str().unwrap();
    env.run(&["--sandbox", "plan", "--out", plan_file, path])
        .expect(0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    assert_eq!(json["format_version"], "1.0");
    env.run(&["--sandbox", "apply", "--plan", plan_file, "--auto-approve"])
        .expect(0);
    env.run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(0);
    // The same plan again: the account has changed since it was made.
    let stale = env
        .run(&["--sandbox", "apply", "--plan", plan_file, "--auto-approve"])
        .expect(1);
    assert!(stale.stderr.contains("stale plan"), "{}", stale.stderr);
}

#[test]
fn wrong_account_is_refused_before_anything_is_read() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    // A sandbox created for another account.
    env.run(&["--sandbox", "plan", path]).expect(0);
    let text = std::fs::read_to_string(env.sandbox_file()).unwrap();
    std::fs::write(
        env.sandbox_file(),
        text.replace("123456789012", "999999999999"),
    )
    .unwrap();
    let refused = env.run(&["--sandbox", "plan", path]).expect(1);
    assert!(
        refused.stderr.contains("999999999999"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("declares accountId 123456789012"),
        "{}",
        refused.stderr
    );
}

#[test]
fn corrupt_sandbox_file_is_an_error_and_left_untouched() {
    let env = Env::new();
    let stack = env.example("logging-only");
    std::fs::write(env.sandbox_file(), b"{ not json").unwrap();
    let out = env
        .run(&["--sandbox", "plan", stack.to_str().unwrap()])
        .expect(1);
    assert!(
        out.stderr.contains("is not a bedform sandbox"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(env.sandbox_file()).unwrap(), b"{ not json");
}

#[test]
fn json_and_markdown_formats() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    let json = env
        .run(&["--sandbox", "plan", "--format", "json", path])
        .expect(0);
    let plan: bedform::plan::Plan = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(plan.summary.create, 7);
    let markdown = env
        .run(&["--sandbox", "plan", "--format", "markdown", path])
        .expect(0);
    assert!(
        markdown
            .stdout
            .starts_with("### bedform plan: `support-bot`"),
        "{}",
        markdown.stdout
    );
    assert!(markdown.stdout.contains("<details>"), "{}", markdown.stdout);
    assert!(
        markdown.stdout.contains("starts a customization job"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn colour_only_when_asked_for_and_on_a_terminal() {
    let env = Env::new();
    let stack = env.example("logging-only");
    // Output is captured (not a terminal): no escape codes even without NO_COLOR.
    let out = Command::cargo_bin("bedform")
        .unwrap()
        .current_dir(env.dir.path())
        .env_remove("NO_COLOR")
        .args(["--sandbox", "plan", stack.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn without_sandbox_says_how_to_proceed() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let out = env.run(&["plan", stack.to_str().unwrap()]).expect(1);
    assert!(out.stderr.contains("--sandbox"), "{}", out.stderr);
}

#[test]
fn validate_reports_and_exits_one() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(
        &stack.join("distillation.yaml"),
        "modelUnits: 1",
        "modelUnits: 0",
    );
    let out = env.run(&["validate", stack.to_str().unwrap()]).expect(1);
    assert!(out.stderr.contains("distillation.yaml:"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`modelUnits` is 0; it must be at least 1"),
        "{}",
        out.stderr
    );
}
