//! Secrets stay out of what bedform prints: sensitive API fields are masked in the
//! human and markdown plans, and credentials never appear in output or errors.

mod common;
mod support;

use common::copy_example;

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

fn sandbox_plan(dir: &Path, stack: &Path, format: &str) -> String {
    sandbox_plan_with(dir, stack, &["--format", format])
}

/// `bedform --sandbox plan ARGS STACK` in `dir`, which must succeed; its stdout.
fn sandbox_plan_with(dir: &Path, stack: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("bedform")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["--sandbox", "plan"])
        .args(args)
        .arg(stack)
        .output()
        .unwrap();
    String::from_utf8(succeeded(out).stdout).unwrap()
}

/// `out`, once it is known bedform exited 0.
fn succeeded(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn request_metadata_filters_and_use_case_form_are_masked() {
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "distill-from-logs");
    // The example filters on `project: support` and `env: test`; add a use-case form.
    std::fs::write(
        stack.join("form.json"),
        r#"{"companyName": "Secret Co", "intendedUsers": "0"}"#,
    )
    .unwrap();
    let file = stack.join("stack.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("kind: ModelAccess"),
        "the example declares ModelAccess"
    );
    let text = text.replacen(
        "  models: [",
        "  useCaseForm: {file: form.json}\n  models: [",
        1,
    );
    std::fs::write(&file, text).unwrap();
    let distillation = std::fs::read_to_string(stack.join("distillation.yaml")).unwrap();
    assert!(
        distillation.contains("project: support"),
        "the example filters on project"
    );

    // Every plan on stdout masks them, JSON too: it lands in CI logs.
    for format in ["human", "markdown", "json"] {
        let shown = sandbox_plan(dir.path(), &stack, format);
        assert!(shown.contains("(sensitive)"), "{format}:\n{shown}");
        for secret in ["\"project\"", "\"env\"", "Secret Co", "companyName"] {
            assert!(!shown.contains(secret), "{format} shows {secret}:\n{shown}");
        }
    }
    // The saved plan is what apply executes, so it carries the values (privately).
    sandbox_plan_with(dir.path(), &stack, &["--out", "saved.json"]);
    let saved = std::fs::read_to_string(dir.path().join("saved.json")).unwrap();
    assert!(
        saved.contains("\"project\"") && saved.contains("Secret Co"),
        "{saved}"
    );
}

#[test]
fn credentials_never_appear_in_output_even_on_failure() {
    let moto = support::Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "distill-from-logs");
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY1";
    let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";
    let mut transcript = String::new();
    // A plan, an apply that fails (moto rejects training from invocation logs only)
    // and a plan against an endpoint that does not answer.
    let runs: [(&[&str], Option<&str>); 3] = [
        (&["plan"], None),
        (&["apply", "--auto-approve"], None),
        (&["plan"], Some("http://127.0.0.1:9")),
    ];
    for (args, endpoint) in runs {
        let mut command = Command::cargo_bin("bedform").unwrap();
        command.current_dir(dir.path()).env("NO_COLOR", "1");
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        command
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token);
        if let Some(endpoint) = endpoint {
            command.env("AWS_ENDPOINT_URL", endpoint);
        }
        let out = command
            .args(args)
            .arg(stack.to_str().unwrap())
            .output()
            .unwrap();
        transcript.push_str(&String::from_utf8_lossy(&out.stdout));
        transcript.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        transcript.contains("FAILED"),
        "the apply was meant to fail:\n{transcript}"
    );
    assert!(!transcript.contains(secret), "the secret key was printed");
    assert!(!transcript.contains(token), "the session token was printed");
    assert!(
        !transcript.contains("SECRETKEY"),
        "part of the secret key was printed"
    );
}

#[test]
fn debug_logs_show_every_request_and_no_secret() {
    let moto = support::Moto::start();
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("form.json"),
        r#"{"companyName": "FORM-MARKER-7c1d", "useCase": "support"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: logged}\nspec: {region: us-east-1}\n---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {name: logs}\nspec: {logGroupName: /logged/group}\n---\napiVersion: bedform/v1\nkind: ModelAccess\nmetadata: {name: access}\nspec:\n  models: [anthropic.claude-3-5-haiku-20241022-v1:0]\n  useCaseForm: {file: form.json}\n",
    )
    .unwrap();
    let apply = |extra: &[&str]| {
        let out = Command::cargo_bin("bedform")
            .unwrap()
            .current_dir(dir.path())
            .envs(moto.env())
            .env("AWS_SECRET_ACCESS_KEY", "SECRET-KEY-MARKER-3f9a")
            .env("AWS_SESSION_TOKEN", "SESSION-TOKEN-MARKER-b2e4")
            .env("NO_COLOR", "1")
            .args(extra)
            .args(["apply", "--auto-approve", "stack.yaml"])
            .output()
            .unwrap();
        String::from_utf8(succeeded(out).stderr).unwrap()
    };
    let logged = apply(&["--log-level", "debug"]);
    // Each request: service, operation, target, status, duration, attempt.
    for request in [
        "CreateLogGroup",
        "PutUseCaseForModelAccess",
        "GetCallerIdentity",
    ] {
        let line = logged
            .lines()
            .find(|l| l.contains(request))
            .unwrap_or_else(|| panic!("no {request} in:\n{logged}"));
        assert!(line.contains("http://127.0.0.1:"), "{line}");
        assert!(
            line.contains(": 20") && line.contains(" ms (attempt 1)"),
            "{line}"
        );
    }
    for secret in [
        "SECRET-KEY-MARKER-3f9a",
        "SESSION-TOKEN-MARKER-b2e4",
        "FORM-MARKER-7c1d",
        "Authorization",
        "Signature",
    ] {
        assert!(
            !logged.contains(secret),
            "the log shows {secret}:\n{logged}"
        );
    }
    // BEDFORM_LOG says the same; without either, nothing is logged.
    let quiet = apply(&[]);
    assert!(!quiet.contains("(attempt"), "{quiet}");
}
