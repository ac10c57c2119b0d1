//! Smoke checks (`check:` on a ProvisionedThroughput): `bedform check` and
//! `apply --wait` send the prompt through the Bedrock Runtime Converse API to the
//! provisioned model, here a loopback stub of the endpoint in the moto proxy, and
//! report each result; a check is never part of the throughput's spec.

mod common;
mod support;

use std::path::Path;

use assert_cmd::Command;
use common::{Account, desired, fast_clock, runtime};
use support::Moto;
use tempfile::TempDir;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn bedform(moto: &Moto, dir: &Path, args: &[&str]) -> Run {
    let mut command = Command::cargo_bin("bedform").unwrap();
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let output = command.args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Run {
    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn says(&self, part: &str) -> &Run {
        assert!(
            self.stdout.contains(part),
            "no `{part}` in stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

const SERVING: &str =
    "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: serving}\nspec:\n  region: us-east-1\n";

fn throughput(name: &str, check: &str) -> String {
    format!(
        "---\napiVersion: bedform/v1\nkind: ProvisionedThroughput\nmetadata: {{name: {name}}}\nspec:\n  model: amazon.nova-lite-v1:0\n  modelUnits: 1\n{check}"
    )
}

fn check(expect: &str, extra: &str) -> String {
    format!("  check:\n    prompt: Say hello\n    expect: {expect}\n{extra}")
}

/// The provisioned model ARN AWS gave the throughput `name`.
fn provisioned_arn(moto: &Moto, name: &str) -> String {
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let found = rt
        .block_on(
            bedrock
                .get_provisioned_model_throughput()
                .provisioned_model_id(name)
                .send(),
        )
        .unwrap();
    found.provisioned_model_arn().to_string()
}

#[test]
fn a_check_is_not_part_of_the_spec() {
    let plain = desired(&format!("{SERVING}{}", throughput("serve", "")));
    let checked = desired(&format!(
        "{SERVING}{}",
        throughput("serve", &check("hello", "    maxLatencyMs: 900\n"))
    ));
    let (plain, checked) = (&plain.resources[0], &checked.resources[0]);
    assert_eq!(plain.attrs, checked.attrs);
    assert_eq!(plain.spec_hash, checked.spec_hash);
    assert_eq!(plain.check, None);
    let smoke = checked.check.as_ref().expect("the check is kept");
    assert_eq!(smoke.prompt, "Say hello");
    assert_eq!(smoke.expect.as_deref(), Some("hello"));
    assert_eq!(smoke.max_latency_ms, Some(900));
    assert_eq!(smoke.max_tokens, bedform::check::DEFAULT_MAX_TOKENS);
}

#[test]
fn apply_wait_and_check_run_the_prompt_against_the_provisioned_model() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    let write = |greeter_check: &str| {
        let text = format!(
            "{SERVING}{}{}",
            throughput("greeter", greeter_check),
            throughput("plain", "")
        );
        std::fs::write(&manifest, text).unwrap();
    };
    write(&check("hello", "    maxTokens: 8\n"));
    moto.set_converse("well hello there", 0, None);

    let applied = bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "--wait", path],
    )
    .expect(0);
    applied
        .says("ProvisionedThroughput/greeter: passed in ")
        .says("Checks: 1 passed, 0 failed, 0 skipped.")
        .says("Apply complete.");
    // Only throughputs with a check are sent a prompt.
    let sent = moto.conversations();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["modelId"], provisioned_arn(&moto, "greeter"));
    let body = &sent[0]["body"];
    assert_eq!(body["messages"][0]["role"], "user");
    assert_eq!(body["messages"][0]["content"][0]["text"], "Say hello");
    assert_eq!(body["inferenceConfig"]["maxTokens"], 8);

    let checked = bedform(&moto, dir.path(), &["check", path]).expect(0);
    checked
        .says("ProvisionedThroughput/greeter: passed in ")
        .says("ProvisionedThroughput/plain: skipped, no check declared")
        .says("Checks: 1 passed, 0 failed, 1 skipped.");
    assert_eq!(moto.conversations().len(), 2);

    // The model answers without the expected text: the excerpt says what it said.
    moto.set_converse("Bonjour tout le monde", 0, None);
    bedform(&moto, dir.path(), &["check", path])
        .expect(1)
        .says(r#"ProvisionedThroughput/greeter: FAILED in "#)
        .says(r#"the answer does not contain "hello"; it reads "Bonjour tout le monde""#)
        .says("Checks: 0 passed, 1 failed, 1 skipped.");

    // Changing the check changes nothing in AWS.
    write(&check("Bonjour", ""));
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path])
        .expect(0)
        .says("No changes.");
    bedform(&moto, dir.path(), &["check", path]).expect(0);

    // A slow answer: the stub takes 600 ms, the limit is 200 ms.
    write(&check("Bonjour", "    maxLatencyMs: 200\n"));
    moto.set_converse("Bonjour tout le monde", 600, None);
    bedform(&moto, dir.path(), &["check", path])
        .expect(1)
        .says("over the limit of 200 ms (`maxLatencyMs`)");

    // An AWS error is reported with the permission the check needs.
    moto.set_converse(
        "",
        0,
        Some((
            403,
            "AccessDeniedException",
            "User is not authorized to perform this action",
        )),
    );
    bedform(&moto, dir.path(), &["check", path])
        .expect(1)
        .says("AccessDeniedException")
        .says("`bedrock:InvokeModel`");
}

#[test]
fn a_failed_check_fails_apply_wait_but_the_changes_stay() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    std::fs::write(
        &manifest,
        format!("{SERVING}{}", throughput("greeter", &check("hello", ""))),
    )
    .unwrap();
    moto.set_converse("I cannot help with that", 0, None);
    bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "--wait", path],
    )
    .expect(1)
    .says("ProvisionedThroughput/greeter: done")
    .says(r#"does not contain "hello"; it reads "I cannot help with that""#)
    .says("a check failed (above); the changes stay applied");
    assert!(provisioned_arn(&moto, "greeter").contains(":provisioned-model/"));
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path])
        .expect(0)
        .says("No changes.");
}

#[test]
fn check_skips_what_does_not_serve_yet() {
    let moto = Moto::start();
    moto.set_creating_seconds(3600.0);
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    std::fs::write(
        &manifest,
        format!(
            "{SERVING}{}{}",
            throughput("early", &check("hello", "")),
            throughput("later", &check("hello", ""))
        ),
    )
    .unwrap();
    // Only `early` is created; it stays Creating.
    let only_early = format!("{SERVING}{}", throughput("early", &check("hello", "")));
    let first = dir.path().join("first.yaml");
    std::fs::write(&first, only_early).unwrap();
    bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", first.to_str().unwrap()],
    )
    .expect(0);
    bedform(&moto, dir.path(), &["check", path])
        .expect(0)
        .says("ProvisionedThroughput/early: skipped, it is Creating, not InService")
        .says("ProvisionedThroughput/later: skipped, it is not created yet")
        .says("Checks: 0 passed, 0 failed, 2 skipped.");
    assert!(moto.conversations().is_empty());
}

#[test]
fn the_sandbox_says_it_cannot_run_checks() {
    let account = Account::new(fast_clock(0.1, 0.1));
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    std::fs::write(
        &manifest,
        format!("{SERVING}{}", throughput("greeter", &check("hello", ""))),
    )
    .unwrap();
    let sandbox = account.path();
    let sandbox = sandbox.to_str().unwrap();
    let path = manifest.to_str().unwrap();
    let applied = common::run(
        dir.path(),
        [
            "--sandbox-file",
            sandbox,
            "apply",
            "--auto-approve",
            "--wait",
            path,
        ],
    )
    .expect(0);
    common::assert_contains(
        &applied.stdout,
        "Checks not run: the sandbox simulates no model, so it cannot run model inference",
    );
    let checked = common::run(dir.path(), ["--sandbox-file", sandbox, "check", path]).expect(1);
    common::assert_contains(
        &checked.stderr,
        "cannot run checks: the sandbox simulates no model",
    );
    assert!(!checked.stdout.contains("passed"), "{}", checked.stdout);
}

/// An account that answers Converse with a fixed text and records the models asked.
struct Answering {
    asked: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl bedform::cloud::Cloud for Answering {
    async fn caller_account(&self) -> Result<String, bedform::cloud::CloudError> {
        Ok(common::ACCOUNT.into())
    }
    async fn observe(
        &self,
        _scope: &bedform::cloud::Scope,
    ) -> Result<bedform::model::ObservedAccount, bedform::cloud::CloudError> {
        Ok(common::empty_account())
    }
    async fn get(
        &self,
        _kind: &str,
        _name: &str,
    ) -> Result<Option<bedform::model::ObservedResource>, bedform::cloud::CloudError> {
        Ok(None)
    }
    async fn execute(&self, _op: &bedform::plan::Op) -> Result<(), bedform::cloud::CloudError> {
        panic!("a check changes nothing");
    }
    fn inference_unavailable(&self) -> Option<&'static str> {
        None
    }
    async fn converse(
        &self,
        model_arn: &str,
        _name: &str,
        _prompt: &str,
        _max_tokens: u32,
    ) -> Result<bedform::check::Answer, bedform::cloud::CloudError> {
        self.asked.lock().unwrap().push(model_arn.to_string());
        Ok(bedform::check::Answer {
            text: "hello".into(),
            stop_reason: Some("end_turn".into()),
        })
    }
}

/// During a replacement two throughputs carry the address: the check goes to the
/// one in service, not to the one still being created; someone else's throughput
/// of the declared name is never sent a prompt.
#[test]
fn a_check_goes_to_the_throughput_in_service() {
    let stack = desired(&format!(
        "{SERVING}{}{}",
        throughput("serve", &check("hello", "")),
        throughput("theirs", &check("hello", ""))
    ));
    let in_state = |name: &str, status: &str| bedform::model::ObservedResource {
        status: Some(status.into()),
        arn: Some(format!(
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/{name}"
        )),
        ..common::owned_by(
            "ProvisionedThroughput",
            name,
            "serving",
            "ProvisionedThroughput/serve",
        )
    };
    let mut observed = common::empty_account();
    observed.resources = vec![
        in_state("serve", "InService"),
        in_state("serve-1a2b3c4d", "Creating"),
        bedform::model::ObservedResource {
            status: Some("InService".into()),
            arn: Some("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/theirs".into()),
            ..common::unowned("ProvisionedThroughput", "theirs")
        },
    ];
    let cloud = Answering {
        asked: std::sync::Mutex::new(Vec::new()),
    };
    let results = runtime().block_on(bedform::check::run(&cloud, &stack, &observed, None));
    let lines: Vec<String> = results.iter().map(|r| r.line()).collect();
    assert!(
        lines[0].starts_with("ProvisionedThroughput/serve: passed in "),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        "ProvisionedThroughput/theirs: skipped, `theirs` exists but is not managed by this stack"
    );
    assert_eq!(
        *cloud.asked.lock().unwrap(),
        ["arn:aws:bedrock:us-east-1:123456789012:provisioned-model/serve"]
    );

    // When only the new one is in service, it is the one checked.
    observed.resources[0].status = Some("Updating".into());
    observed.resources[1].status = Some("InService".into());
    cloud.asked.lock().unwrap().clear();
    let results = runtime().block_on(bedform::check::run(&cloud, &stack, &observed, None));
    assert_eq!(
        results[0].aws_name.as_deref(),
        Some("serve-1a2b3c4d"),
        "{results:?}"
    );
    assert!(
        cloud.asked.lock().unwrap()[0].ends_with("/serve-1a2b3c4d"),
        "{:?}",
        cloud.asked.lock().unwrap()
    );
}
