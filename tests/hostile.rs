//! A pull request's author controls the manifests: every test here builds a
//! hostile folder in a temp dir and runs the binary on it as CI would. What must
//! hold: nothing outside the given paths is read or quoted, nothing hangs or
//! exhausts memory, sensitive values never reach stdout, secrets files are private,
//! invisible characters are shown, and a closed pipe is not a panic.

#![cfg(unix)]

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

/// A secret that lives outside the manifest folder; no output may ever contain it.
const SECRET: &str = "ghp_TopSecretRunnerToken0123456789";

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: hostile}
spec:
  region: us-east-1
  accountId: "123456789012"
"#;

fn bedform(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("bedform")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("BEDFORM_PRICES")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs bedform in `dir` and checks that it failed without showing the secret and
/// saying each of `expected`; returns what it printed.
fn refused(dir: &Path, args: &[&str], expected: &[&str]) -> String {
    let out = bedform(dir, args);
    let shown = text(&out);
    assert!(!out.status.success(), "{args:?}: {shown}");
    assert!(!shown.contains(SECRET), "{args:?}: {shown}");
    for words in expected {
        assert!(shown.contains(words), "{args:?}: no {words:?} in {shown}");
    }
    shown
}

/// A workspace: `outside/` holds the runner's secrets, `stack/` the pull request.
fn workspace() -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("outside")).unwrap();
    std::fs::write(
        dir.path().join("outside/credentials.yaml"),
        format!("token: {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("outside/form.json"),
        format!("{{\"companyName\": \"{SECRET}\"}}"),
    )
    .unwrap();
    let stack = dir.path().join("stack");
    std::fs::create_dir(&stack).unwrap();
    std::fs::write(stack.join("stack.yaml"), STACK).unwrap();
    (dir, stack)
}

#[test]
fn a_link_to_a_file_outside_is_refused_by_name_and_never_quoted() {
    let (dir, stack) = workspace();
    symlink(
        dir.path().join("outside/credentials.yaml"),
        stack.join("leak.yaml"),
    )
    .unwrap();
    // The runner's environment, as /proc shows it.
    symlink("/proc/self/environ", stack.join("environ.yaml")).unwrap();
    let out = Command::cargo_bin("bedform")
        .unwrap()
        .current_dir(dir.path())
        .env("RUNNER_SECRET", SECRET)
        .args(["validate", "stack"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(
        shown.contains("stack/leak.yaml: a symbolic link that leads outside"),
        "{shown}"
    );
    assert!(
        shown.contains("stack/environ.yaml: a symbolic link that leads outside"),
        "{shown}"
    );
    // The target's path is not shown either.
    assert!(!shown.contains("credentials.yaml"), "{shown}");
    assert!(!shown.contains("/proc"), "{shown}");
}

#[test]
fn a_given_folder_that_is_a_link_out_is_refused() {
    let (dir, _) = workspace();
    // The runner's home, elsewhere on the machine, holding a manifest-shaped secret.
    let home = TempDir::new().unwrap();
    std::fs::write(home.path().join("creds.yaml"), format!("token: {SECRET}\n")).unwrap();
    symlink(home.path(), dir.path().join("bedrock")).unwrap();
    // A link to a folder beside it, inside the folder the run starts in, is fine.
    symlink("stack", dir.path().join("alias")).unwrap();
    let out = bedform(dir.path(), &["validate", "alias"]);
    assert!(out.status.success(), "{}", text(&out));
    refused(
        dir.path(),
        &["validate", "bedrock"],
        &["bedrock: a symbolic link that leads outside"],
    );
}

#[test]
fn link_loops_end_with_one_error_per_link() {
    let (dir, stack) = workspace();
    symlink(".", stack.join("again")).unwrap();
    symlink(".", stack.join("and-again")).unwrap();
    symlink("sub", stack.join("sub-link")).unwrap();
    std::fs::create_dir(stack.join("sub")).unwrap();
    symlink("..", stack.join("sub/up")).unwrap();
    let out = bedform(dir.path(), &["validate", "stack"]);
    let shown = text(&out);
    assert!(!out.status.success());
    for link in ["stack/again", "stack/and-again", "stack/sub/up"] {
        assert_eq!(
            shown.matches(&format!("symlink loop at {link}\n")).count(),
            1,
            "{link}: {shown}"
        );
    }
    assert!(!shown.contains("second Stack"), "{shown}");
    assert_eq!(shown.matches("symlink loop").count(), 3, "{shown}");
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let (dir, stack) = workspace();
    let fifo = stack.join("pipe.yaml");
    let status = StdCommand::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    // The timeout in `bedform` fails the test if opening the FIFO blocked.
    refused(
        dir.path(),
        &["validate", "stack"],
        &["stack/pipe.yaml: a FIFO, not a regular file; not read"],
    );
}

#[test]
fn a_device_given_directly_is_refused_without_reading() {
    let (dir, _) = workspace();
    // Given on the command line, /dev/zero would read forever under a size cap
    // that trusted its reported size of 0.
    refused(
        dir.path(),
        &["validate", "/dev/zero"],
        &["/dev/zero: a device, not a regular file; not read"],
    );
}

#[test]
fn a_file_that_is_not_a_manifest_is_named_but_not_quoted() {
    let (dir, stack) = workspace();
    std::fs::write(
        stack.join("notes.yaml"),
        format!("this: [is not closed {SECRET}\n"),
    )
    .unwrap();
    refused(
        dir.path(),
        &["validate", "stack"],
        &["stack/notes.yaml", "not quoted"],
    );
}

fn model_access(form: &str) -> String {
    format!(
        "{STACK}---\napiVersion: bedform/v1\nkind: ModelAccess\nmetadata: {{name: access}}\nspec:\n  models: [anthropic.claude-3-5-haiku-20241022-v1:0]\n  useCaseForm: {{file: \"{form}\"}}\n"
    )
}

#[test]
fn a_use_case_form_outside_the_given_paths_is_refused() {
    let (dir, stack) = workspace();
    symlink(
        dir.path().join("outside/form.json"),
        stack.join("link.json"),
    )
    .unwrap();
    let absolute = dir.path().join("outside/form.json").display().to_string();
    for form in ["../outside/form.json", absolute.as_str(), "link.json"] {
        std::fs::write(stack.join("stack.yaml"), model_access(form)).unwrap();
        for args in [
            &["validate", "stack"][..],
            &["--sandbox", "plan", "--format", "json", "stack"],
        ] {
            refused(dir.path(), args, &["use-case form:", "outside the paths"]);
        }
    }
}

#[test]
fn the_use_case_form_is_masked_on_stdout_and_kept_private_in_the_saved_plan() {
    let (dir, stack) = workspace();
    std::fs::write(
        stack.join("form.json"),
        format!("{{\"companyName\": \"{SECRET}\"}}"),
    )
    .unwrap();
    std::fs::write(stack.join("stack.yaml"), model_access("form.json")).unwrap();
    for format in ["json", "human", "markdown"] {
        let out = bedform(
            dir.path(),
            &["--sandbox", "plan", "--format", format, "stack"],
        );
        let shown = text(&out);
        assert!(out.status.success(), "{shown}");
        assert!(!shown.contains(SECRET), "{format}: {shown}");
        assert!(shown.contains("(sensitive)"), "{format}: {shown}");
    }
    // The saved plan keeps what apply sends, so only its owner may read it; it is
    // private even when it replaces a file that was not.
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, "old").unwrap();
    std::fs::set_permissions(&plan, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = bedform(
        dir.path(),
        &["--sandbox", "plan", "--out", "plan.json", "stack"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::fs::read_to_string(&plan).unwrap().contains(SECRET));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&plan), 0o600);
    let out = bedform(
        dir.path(),
        &[
            "--sandbox",
            "apply",
            "--plan",
            "plan.json",
            "--auto-approve",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let sandbox = dir.path().join(".bedform/sandbox.json");
    assert!(std::fs::read_to_string(&sandbox).unwrap().contains(SECRET));
    assert_eq!(mode(&sandbox), 0o600);
}

#[test]
fn a_prices_file_that_is_not_a_price_table_is_not_quoted() {
    let (dir, stack) = workspace();
    let outside = dir.path().join("outside/credentials.yaml");
    let link = dir.path().join("prices-link.yaml");
    symlink(&outside, &link).unwrap();
    for (how, file) in [("flag", &outside), ("link", &link)] {
        let out = bedform(
            dir.path(),
            &[
                "--sandbox",
                "--prices",
                file.to_str().unwrap(),
                "plan",
                stack.to_str().unwrap(),
            ],
        );
        let shown = text(&out);
        assert!(!out.status.success(), "{how}: {shown}");
        assert!(!shown.contains(SECRET), "{how}: {shown}");
        assert!(
            shown.contains("not a bedform price table"),
            "{how}: {shown}"
        );
    }
    let out = Command::cargo_bin("bedform")
        .unwrap()
        .current_dir(dir.path())
        .env("BEDFORM_PRICES", &outside)
        .args(["--sandbox", "plan", "stack"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
}

const RLO: char = '\u{202e}';
const ISOLATE: char = '\u{2066}';

#[test]
fn invisible_bidi_controls_are_shown_escaped_and_warned_about() {
    let (dir, stack) = workspace();
    // A policy condition may hold any text: the one place AWS would take it.
    let role = format!(
        "{STACK}---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: role}}\nspec:\n  assumedBy: bedrock\n  inlinePolicies:\n    read:\n      Version: \"2012-10-17\"\n      Statement:\n        - Effect: Allow\n          Action: s3:GetObject\n          Resource: \"*\"\n          Condition: {{StringEquals: {{\"aws:PrincipalTag/team\": \"safe {RLO}evil{ISOLATE} text\"}}}}\n"
    );
    std::fs::write(stack.join("stack.yaml"), &role).unwrap();
    let out = bedform(dir.path(), &["validate", "stack"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("warning:"), "{shown}");
    assert!(shown.contains("invisible character \\u{202e}"), "{shown}");
    assert!(!shown.contains(RLO), "{shown}");
    for format in ["human", "markdown"] {
        let out = bedform(
            dir.path(),
            &["--sandbox", "plan", "--format", format, "stack"],
        );
        let shown = text(&out);
        assert!(out.status.success(), "{shown}");
        assert!(
            !shown.contains(RLO) && !shown.contains(ISOLATE),
            "{format}: {shown}"
        );
        assert!(
            shown.contains("\\u{202e}evil\\u{2066}"),
            "{format}: {shown}"
        );
    }
    // Where AWS refuses it (a role description), the error quotes the line
    // escaped, and names the character the same way.
    std::fs::write(
        stack.join("stack.yaml"),
        role.replace(
            "  inlinePolicies:",
            &format!("  description: \"safe {RLO}evil\"\n  inlinePolicies:"),
        ),
    )
    .unwrap();
    let out = bedform(dir.path(), &["validate", "stack"]);
    let shown = text(&out);
    assert!(!out.status.success());
    assert!(!shown.contains(RLO), "{shown}");
    assert!(shown.contains("`description` holds `\\u{202e}`"), "{shown}");
    assert!(
        shown.contains("description: \"safe \\u{202e}evil"),
        "{shown}"
    );
}

/// Runs bedform with the given streams and checks it ended with exit 1, no panic.
fn ends_quietly(dir: &Path, args: &[&str], stdout: Stdio, stderr: Stdio) {
    let out = StdCommand::new(assert_cmd::cargo::cargo_bin("bedform"))
        .current_dir(dir)
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 101 is a panic's exit code; a panic's message would also be on stderr.
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    // The reader is gone before bedform writes.
    drop(reader);
    writer.into()
}

#[test]
fn a_closed_or_full_stdout_or_stderr_ends_quietly_with_an_error() {
    let (dir, stack) = workspace();
    ends_quietly(dir.path(), &["schema"], closed_pipe(), Stdio::piped());
    // Full: every write fails with ENOSPC.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    ends_quietly(dir.path(), &["schema"], full.into(), Stdio::piped());
    // A closed stderr while errors are reported.
    std::fs::write(stack.join("bad.yaml"), "kind: Nonsense\n").unwrap();
    ends_quietly(
        dir.path(),
        &["validate", "stack"],
        Stdio::piped(),
        closed_pipe(),
    );
}
