//! The binary end to end against the sandbox: the README's flow, exit codes, the
//! guards of apply.

mod common;

use std::path::{Path, PathBuf};

use common::{Output, assert_contains, bedform};
use tempfile::TempDir;

/// One bedform run in a temporary folder with its own sandbox.
struct Env {
    dir: TempDir,
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
        common::copy_example(self.dir.path(), name)
    }

    fn edit(&self, file: &Path, from: &str, to: &str) {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(from), "{} has no `{from}`", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).unwrap();
    }

    #[must_use]
    fn run(&self, args: &[&str]) -> Output {
        common::run(self.dir.path(), args)
    }

    fn sandbox_file(&self) -> PathBuf {
        self.dir.path().join(".bedform/sandbox.json")
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
    assert_contains(
        &first.stdout,
        "Plan: 7 to create, 0 to update, 0 to replace, 0 to delete.",
    );
    let applied = env
        .run(&["--sandbox", "apply", "--auto-approve", "--wait", stack])
        .expect(0);
    assert_contains(&applied.stdout, "Apply complete.");
    // Without a terminal, waiting prints plain progress lines.
    assert_contains(&applied.stderr, "InProgress");
    assert_contains(&applied.stderr, "InService");
    let again = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", stack])
        .expect(0);
    assert_contains(&again.stdout, "No changes.");
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
    assert_contains(&plan.stdout, "# ProvisionedThroughput/support-bot");
    assert_contains(&plan.stdout, "must be replaced");
    assert_contains(&plan.stdout, "modelUnits: 1 -> 2   # forces replacement");
    assert_contains(
        &plan.stdout,
        "cannot be updated on a provisioned throughput",
    );
    assert_contains(
        &plan.stdout,
        "0 to create, 0 to update, 1 to replace, 0 to delete.",
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
    assert_contains(&plan.stdout, "will be updated in-place");
    assert_contains(
        &plan.stdout,
        r#"provisionedModelName: "support-bot" -> "support-bot-v2""#,
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
    assert_contains(
        &plan.stdout,
        "oneMonth commitment; apply needs --allow-commitment",
    );
    let refused = env
        .run(&["--sandbox", "apply", "--auto-approve", path])
        .expect(1);
    assert_contains(&refused.stderr, "--allow-commitment");
    // Nothing was created.
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert_contains(&plan.stdout, "Plan: 7 to create");
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
    assert_contains(&refused.stderr, "--auto-approve");
    let plan = env
        .run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(2);
    assert_contains(&plan.stdout, "to create");
}

#[test]
fn saved_plan_applies_exactly_and_refuses_when_stale() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let path = stack.to_str().unwrap();
    let plan_file = env.dir.path().join("reviewed.json");
    let plan_file = plan_file.to_str().unwrap();
    let saved = env
        .run(&["--sandbox", "plan", "--out", plan_file, path])
        .expect(0);
    // The hint reaches the same account: it keeps `--sandbox`.
    assert_contains(
        &saved.stderr,
        &format!("apply it with: bedform --sandbox apply --plan {plan_file}"),
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan_file).unwrap()).unwrap();
    assert_eq!(json["format_version"], bedform::plan::FORMAT_VERSION);
    env.run(&["--sandbox", "apply", "--plan", plan_file, "--auto-approve"])
        .expect(0);
    env.run(&["--sandbox", "plan", "--detailed-exitcode", path])
        .expect(0);
    // The same plan again: the account has changed since it was made.
    let stale = env
        .run(&["--sandbox", "apply", "--plan", plan_file, "--auto-approve"])
        .expect(1);
    assert_contains(&stale.stderr, "stale plan");
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
    assert_contains(&refused.stderr, "999999999999");
    assert_contains(&refused.stderr, "declares accountId 123456789012");
}

#[test]
fn corrupt_sandbox_file_is_an_error_and_left_untouched() {
    let env = Env::new();
    let stack = env.example("logging-only");
    std::fs::write(env.sandbox_file(), b"{ not json").unwrap();
    let out = env
        .run(&["--sandbox", "plan", stack.to_str().unwrap()])
        .expect(1);
    assert_contains(&out.stderr, "is not a bedform sandbox");
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
    assert_contains(&markdown.stdout, "<details>");
    assert_contains(&markdown.stdout, "starts a customization job");
}

#[test]
fn colour_only_when_asked_for_and_on_a_terminal() {
    let env = Env::new();
    let stack = env.example("logging-only");
    // Output is captured (not a terminal): no escape codes even without NO_COLOR.
    let out = bedform(env.dir.path())
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
    assert_contains(&out.stderr, "--sandbox");
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
    assert_contains(&out.stderr, "distillation.yaml:");
    assert_contains(&out.stderr, "`modelUnits` is 0; it must be at least 1");
}

#[test]
fn plan_prices_a_purchase_from_the_users_price_table() {
    let env = Env::new();
    let stack = env.example("quickstart");
    env.edit(
        &stack.join("distillation.yaml"),
        "commitment: none",
        "commitment: oneMonth",
    );
    let path = stack.to_str().unwrap();
    // bedform's own table has no Nova prices: said unknown.
    let plan = env.run(&["--sandbox", "plan", path]).expect(0);
    assert_contains(
        &plan.stdout,
        "ProvisionedThroughput/support-bot: 1 × custom model of amazon.nova-lite-v1:0, one-month commitment: price unknown",
    );
    let prices = env.dir.path().join("prices.yaml");
    std::fs::write(
        &prices,
        "source: our rate card\ndate: \"2026-11-01\"\nprices:\n  - {model: amazon.nova-lite-v1:0, region: us-east-1, custom: true, oneMonth: 12.25}\n",
    )
    .unwrap();
    let prices_arg = prices.to_str().unwrap();
    let plan = env
        .run(&[
            "--sandbox",
            "--prices",
            prices_arg,
            "plan",
            "--format",
            "markdown",
            path,
        ])
        .expect(0);
    assert_contains(
        &plan.stdout,
        "| `ProvisionedThroughput/support-bot` | custom model of `amazon.nova-lite-v1:0` | 1 | one-month commitment (730 h) | $12.25 | $12.25 | $8,942.50 |",
    );
    assert_contains(&plan.stdout, "our rate card, as of 2026-11-01");
    // A broken table stops the plan before the account is read.
    std::fs::write(&prices, "source: x\nprices: [{model: m}]\n").unwrap();
    let failed = env
        .run(&["--sandbox", "--prices", prices_arg, "plan", path])
        .expect(1);
    assert_contains(&failed.stderr, "prices.yaml");
    assert!(failed.stdout.is_empty(), "{}", failed.stdout);
}

#[test]
fn a_markdown_plan_is_cut_to_the_length_asked_for() {
    let env = Env::new();
    let stack = env.example("quickstart");
    let path = stack.to_str().unwrap();
    let whole = env
        .run(&["--sandbox", "plan", "--format", "markdown", path])
        .expect(0);
    assert!(whole.stdout.len() > 3_000, "{} bytes", whole.stdout.len());
    assert!(!whole.stdout.contains("Cut to fit"));
    let cut = env
        .run(&[
            "--sandbox",
            "plan",
            "--format",
            "markdown",
            "--max-length",
            "3000",
            path,
        ])
        .expect(0);
    assert!(cut.stdout.len() <= 3_000, "{} bytes", cut.stdout.len());
    assert_contains(
        &cut.stdout,
        "Cut to fit a pull-request comment (3000 characters)",
    );
    // The counts survive any cut.
    assert_contains(&cut.stdout, "Plan: 7 to create");
    // Too short for the counts and the note: refused before the account is read.
    let refused = env
        .run(&[
            "--sandbox",
            "plan",
            "--format",
            "markdown",
            "--max-length",
            "10",
            path,
        ])
        .expect(1);
    assert_contains(&refused.stderr, "--max-length");
}

#[test]
fn a_misspelled_path_is_one_error_that_names_the_folder_meant() {
    let env = Env::new();
    env.example("quickstart");
    let out = env.run(&["validate", "quickstrat"]).expect(1);
    assert_contains(
        &out.stderr,
        "quickstrat: no such file or folder; did you mean `quickstart`?",
    );
    assert_contains(&out.stderr, "1 error found.");
    assert!(!out.stderr.contains("Stack"), "{}", out.stderr);
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line_definition() {
    let dir = tempfile::TempDir::new().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _bedform"),
        ("zsh", "#compdef bedform"),
        ("fish", "complete -c bedform"),
    ] {
        let out = common::run(dir.path(), ["completions", shell]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains(marker), "{shell}:\n{}", out.stdout);
        for command in ["validate", "plan", "apply", "unlock", "export"] {
            assert!(out.stdout.contains(command), "{shell} lacks {command}");
        }
        assert!(out.stdout.contains("detailed-exitcode"), "{shell}");
    }
    let man = common::run(dir.path(), ["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") || man.stdout.contains(".TH bedform"));
    assert!(
        man.stdout.contains("Amazon Bedrock as code"),
        "{}",
        man.stdout
    );
    let unknown = common::run(dir.path(), ["completions", "tcsh"]);
    assert_eq!(unknown.code, 1);
}
