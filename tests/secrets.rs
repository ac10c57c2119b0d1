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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
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
