//! Crash and fault safety (issue 4, promise 3): an apply that meets throttling,
//! server errors and reset connections converges when run again, and so does an
//! apply killed at any request (over the wire, against moto) or at any step of the
//! executor (in process, against the sandbox), with nothing created twice.

mod common;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bedform::apply::apply;
use bedform::apply::progress::Progress;
use bedform::cloud::sandbox::Sandbox;
use bedform::cloud::{Cloud, CloudError, ErrorClass, Scope};
use bedform::model::{ObservedAccount, ObservedResource, TAG_ADDRESS, TAG_STACK};
use bedform::plan::Op;
use common::{Account, apply_options, fast_clock, quickstart, runtime};
use support::{Fault, Faults, Moto};
use tempfile::TempDir;

// ------------------------------------------------------------------ the stack

/// Beside the logging-only example's: a second role, so the stack has two of a
/// kind, and the two creates that carry a client request token.
const TRAINING: &str = r#"apiVersion: bedform/v1
kind: IamRole
metadata: {name: trainer-role}
spec:
  roleName: bedrock-trainer
  assumedBy: bedrock
  inlinePolicies:
    read-logs:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject]
          Resource: "${invocation-log-bucket.arn}/*"
---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: distilled}
spec:
  type: distillation
  baseModel: amazon.nova-lite-v1:0
  teacher: {model: amazon.nova-pro-v1:0, maxResponseLength: 1000}
  trainingData:
    s3Uri: s3://acme-bedrock-invocation-logs/prompts.jsonl
  output: {s3Uri: "s3://acme-bedrock-invocation-logs/output/"}
  role: {ref: trainer-role}
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: serving}
spec:
  model: amazon.nova-lite-v1:0
  modelUnits: 1
  commitment: none
"#;

const BUCKET: &str = "acme-bedrock-invocation-logs";
const LOG_GROUP: &str = "/bedrock/model-invocations";
const ROLES: [&str; 2] = ["bedrock-invocation-logging", "bedrock-trainer"];

/// The logging-only example and [`TRAINING`]: a bucket, a log group, two roles,
/// invocation logging, a customization job and a throughput, in `dir`.
fn stack(dir: &Path) -> PathBuf {
    let to = common::copy_example(dir, "logging-only");
    std::fs::write(to.join("training.yaml"), TRAINING).expect("the training stack");
    to
}

// ------------------------------------------------------------------ the binary

fn bedform(moto: &Moto, dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bedform"));
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    command
}

/// Runs bedform to its end, which its own timeouts bound; killed after two
/// minutes all the same (exit code -1), so that a hang fails the test instead of
/// stalling it.
fn run(moto: &Moto, dir: &Path, args: &[&str]) -> common::Output {
    let mut command = assert_cmd::Command::from_std(bedform(moto, dir));
    let output = command
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("bedform runs");
    common::Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn apply_cmd(stack: &Path) -> [&str; 3] {
    [
        "apply",
        "--auto-approve",
        stack.to_str().expect("UTF-8 path"),
    ]
}

/// A second plan finds nothing to do.
fn assert_converged(moto: &Moto, dir: &Path, stack: &Path, context: &str) {
    let plan = run(
        moto,
        dir,
        &[
            "plan",
            "--detailed-exitcode",
            stack.to_str().expect("UTF-8 path"),
        ],
    );
    assert_eq!(
        plan.code, 0,
        "{context}: the plan after apply is not clean\nstdout:\n{}\nstderr:\n{}",
        plan.stdout, plan.stderr
    );
}

// ------------------------------------------------------- what the emulator holds

/// Exactly one bucket, one log group, the two roles, invocation logging into that
/// group, one job and one throughput, read with the SDK directly (faults must be
/// off).
fn assert_one_of_each(moto: &Moto, context: &str) {
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let s3 = support::s3_client(&config);
    let buckets: Vec<String> = rt
        .block_on(s3.list_buckets().send())
        .expect("list buckets")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    assert_eq!(buckets, [BUCKET], "{context}: buckets");

    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let groups: Vec<String> = rt
        .block_on(logs.describe_log_groups().send())
        .expect("list log groups")
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_string))
        .collect();
    assert_eq!(groups, [LOG_GROUP], "{context}: log groups");

    let iam = aws_sdk_iam::Client::new(&config);
    let mut roles: Vec<String> = rt
        .block_on(iam.list_roles().send())
        .expect("list roles")
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect();
    roles.sort();
    assert_eq!(roles, ROLES, "{context}: roles");
    for role in ROLES {
        let tags = rt
            .block_on(iam.list_role_tags().role_name(role).send())
            .expect("role tags");
        assert!(
            tags.tags()
                .iter()
                .any(|t| t.key() == TAG_STACK && t.value() == "logging-only"),
            "{context}: role {role} is not tagged as the stack's"
        );
    }

    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let logging = rt
        .block_on(bedrock.get_model_invocation_logging_configuration().send())
        .expect("invocation logging");
    assert_eq!(
        logging
            .logging_config()
            .and_then(|c| c.cloud_watch_config())
            .map(|c| c.log_group_name()),
        Some(LOG_GROUP),
        "{context}: invocation logging"
    );
    let jobs: Vec<String> = rt
        .block_on(bedrock.list_model_customization_jobs().send())
        .expect("list jobs")
        .model_customization_job_summaries()
        .iter()
        .map(|j| j.job_name().to_string())
        .collect();
    assert!(
        jobs.len() == 1 && jobs[0].starts_with("distilled-"),
        "{context}: jobs {jobs:?}"
    );
    let throughputs: Vec<String> = rt
        .block_on(
            bedrock
                .list_provisioned_model_throughputs()
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .map(|t| {
            t.expect("list throughputs")
                .provisioned_model_name()
                .to_string()
        })
        .collect();
    assert_eq!(throughputs, ["serving"], "{context}: throughputs");
}

// ------------------------------------------------------------------ the tests

/// The error code the SDK read from one call of each service, retries off.
fn error_codes(moto: &Moto) -> BTreeMap<&'static str, String> {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    fn code<E: ProvideErrorMetadata>(result: Result<impl Sized, E>) -> String {
        match result {
            Ok(_) => "no error".into(),
            Err(e) => e.code().unwrap_or("no code").to_string(),
        }
    }
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let config = config
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let s3 = support::s3_client(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    BTreeMap::from([
        ("s3", code(rt.block_on(s3.list_buckets().send()))),
        ("iam", code(rt.block_on(iam.list_roles().send()))),
        ("sts", code(rt.block_on(sts.get_caller_identity().send()))),
        ("logs", code(rt.block_on(logs.describe_log_groups().send()))),
        (
            "bedrock",
            code(rt.block_on(bedrock.list_custom_models().send())),
        ),
    ])
}

#[test]
fn injected_errors_read_as_each_service_sends_them() {
    let moto = Moto::start();
    let expected = [
        (
            Fault::Throttle,
            [
                ("bedrock", "ThrottlingException"),
                ("iam", "Throttling"),
                ("logs", "ThrottlingException"),
                ("s3", "SlowDown"),
                ("sts", "Throttling"),
            ],
        ),
        (
            Fault::Internal,
            [
                ("bedrock", "InternalServerException"),
                ("iam", "ServiceFailure"),
                ("logs", "InternalFailure"),
                ("s3", "InternalError"),
                ("sts", "InternalFailure"),
            ],
        ),
        (
            Fault::Unavailable,
            [
                ("bedrock", "ServiceUnavailableException"),
                ("iam", "ServiceUnavailable"),
                ("logs", "ServiceUnavailableException"),
                ("s3", "ServiceUnavailable"),
                ("sts", "ServiceUnavailable"),
            ],
        ),
    ];
    for (fault, codes) in expected {
        moto.set_faults(&Faults {
            rate: 1.0,
            kinds: vec![fault],
            ..Faults::default()
        });
        let found = error_codes(&moto);
        let expected: BTreeMap<&str, String> =
            codes.iter().map(|(s, c)| (*s, c.to_string())).collect();
        assert_eq!(found, expected, "{fault:?}");
    }
    moto.clear_faults();
    assert!(
        error_codes(&moto).values().all(|c| c == "no error"),
        "faults cleared"
    );
}

#[test]
fn apply_through_a_faulty_network_converges_without_duplicates() {
    // An operation whose retries all meet faults fails its apply; running apply
    // again is the remedy, so convergence is asked of a few runs.
    const RUNS: usize = 5;
    let moto = Moto::start();
    let dir = TempDir::new().expect("temp dir");
    let stack = stack(dir.path());
    let mut injected: BTreeMap<String, u64> = BTreeMap::new();
    for seed in 1..=3 {
        moto.reset();
        moto.set_faults(&Faults {
            latency_ms: 5,
            ..Faults::mixed(seed, 0.3)
        });
        let mut runs = Vec::new();
        for _ in 0..RUNS {
            let run = run(&moto, dir.path(), &apply_cmd(&stack));
            let done = run.code == 0;
            runs.push(run);
            if done {
                break;
            }
        }
        let status = moto.fault_status();
        moto.clear_faults();
        let last = runs.last().expect("at least one run");
        assert_eq!(
            last.code, 0,
            "seed {seed}: apply did not succeed in {RUNS} runs through the faults ({status:?}); last run:\nstdout:\n{}\nstderr:\n{}",
            last.stdout, last.stderr
        );
        let context = format!("seed {seed}, after {} faulty applies", runs.len());
        assert_converged(&moto, dir.path(), &stack, &context);
        assert_one_of_each(&moto, &context);
        for (kind, n) in status.injected {
            *injected.entry(kind).or_insert(0) += n;
        }
    }
    // Faults of every kind happened: this test cannot pass on a quiet network.
    for fault in Fault::ALL {
        let name = format!("{fault:?}").to_lowercase();
        assert!(
            injected.get(&name).copied().unwrap_or(0) > 0,
            "no {name} fault injected: {injected:?}"
        );
    }
}

/// Runs apply until the proxy sees request `k` (and, with `after_effect`, until moto
/// has acted on it), then kills it. False if apply ended before request `k`.
fn kill_apply_at(moto: &Moto, dir: &Path, stack: &Path, k: u64, after_effect: bool) -> bool {
    moto.set_faults(&Faults::kill_at(k, after_effect));
    let mut child: Child = bedform(moto, dir)
        .args(apply_cmd(stack))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start apply");
    let deadline = Instant::now() + Duration::from_secs(60);
    let reached = loop {
        if moto.reached(k) {
            break true;
        }
        if child.try_wait().expect("apply's status").is_some() {
            break false;
        }
        assert!(
            Instant::now() < deadline,
            "apply neither reached request {k} nor ended within a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = child.kill();
    child.wait().expect("the killed apply exits");
    moto.clear_faults();
    reached
}

#[test]
fn apply_killed_at_any_request_converges_when_run_again() {
    const WORKERS: u64 = 4;
    let moto = Moto::start();
    let dir = TempDir::new().expect("temp dir");
    let stack = stack(dir.path());
    moto.set_faults(&Faults::default());
    let first = run(&moto, dir.path(), &apply_cmd(&stack));
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let requests = moto.fault_status().requests;
    assert!(requests > 10, "apply made only {requests} requests");
    drop(moto);

    // Each worker has its own emulator and kills apply at every WORKERS-th request.
    std::thread::scope(|scope| {
        for worker in 0..WORKERS {
            let stack = &stack;
            let dir = dir.path();
            scope.spawn(move || {
                let moto = Moto::start();
                let kills = (1..=requests).flat_map(|k| [(k, false), (k, true)]);
                for (k, after_effect) in kills.filter(|(k, _)| k % WORKERS == worker) {
                    moto.reset();
                    let killed = kill_apply_at(&moto, dir, stack, k, after_effect);
                    let context = format!(
                        "apply killed at request {k} of {requests} ({})",
                        if after_effect {
                            "after moto acted on it"
                        } else {
                            "before it reached moto"
                        }
                    );
                    // The same account and manifests make the same requests.
                    assert!(killed, "{context}: apply ended before request {k}");
                    let again = run(&moto, dir, &apply_cmd(stack));
                    assert_eq!(
                        again.code, 0,
                        "{context}: apply run again failed\nstdout:\n{}\nstderr:\n{}",
                        again.stdout, again.stderr
                    );
                    assert_converged(&moto, dir, stack, &context);
                    assert_one_of_each(&moto, &context);
                }
            });
        }
    });
}

// ------------------------------------------------------------- the sandbox

/// A sandbox whose executor dies at its `k`-th operation: that operation takes
/// effect or not (`effect`), the caller gets an error either way, and from then
/// on every call fails, as if the process had been killed.
struct Killed<'a> {
    sandbox: &'a Sandbox,
    at: usize,
    effect: bool,
    executed: AtomicUsize,
}

impl Killed<'_> {
    fn dead(&self, operation: &str) -> Result<(), CloudError> {
        if self.executed.load(Ordering::SeqCst) >= self.at {
            return Err(CloudError::new(
                ErrorClass::Fatal,
                operation,
                "the executor was killed",
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Cloud for Killed<'_> {
    async fn caller_account(&self) -> Result<String, CloudError> {
        self.dead("caller account")?;
        self.sandbox.caller_account().await
    }

    async fn observe(&self, scope: &Scope) -> Result<ObservedAccount, CloudError> {
        self.dead("observe")?;
        self.sandbox.observe(scope).await
    }

    async fn get(&self, kind: &str, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        self.dead(&format!("get {kind} {name}"))?;
        self.sandbox.get(kind, name).await
    }

    async fn execute(&self, op: &Op) -> Result<(), CloudError> {
        let n = self.executed.fetch_add(1, Ordering::SeqCst) + 1;
        if n < self.at {
            return self.sandbox.execute(op).await;
        }
        if n == self.at && self.effect {
            let _ = self.sandbox.execute(op).await;
        }
        Err(CloudError::new(
            ErrorClass::Fatal,
            op.describe(),
            "the executor was killed",
        ))
    }
}

/// Objects by the ownership address they carry, with how many carry each.
async fn owned_objects(account: &Account) -> BTreeMap<(String, String), usize> {
    let mut found = BTreeMap::new();
    for object in account.observed().await.resources {
        if let Some(address) = object.tags.get(TAG_ADDRESS) {
            *found
                .entry((object.kind.clone(), address.clone()))
                .or_insert(0) += 1;
        }
    }
    found
}

#[tokio::test]
async fn sandbox_apply_killed_at_any_step_converges_when_run_again() {
    let timing = fast_clock(0.2, 0.1);
    let desired = quickstart();

    // A whole apply, to count its steps and see what one clean run leaves.
    let clean = Account::new(timing.clone());
    let plan = clean.plan_stack(&desired).await;
    let counting = Killed {
        sandbox: &clean.sandbox,
        at: usize::MAX,
        effect: false,
        executed: AtomicUsize::new(0),
    };
    let report = apply(&counting, &plan, &apply_options(true), &Progress::quiet()).await;
    assert!(!report.failed(), "{report:#?}");
    let steps = counting.executed.load(Ordering::SeqCst);
    assert!(steps >= 6, "the quickstart took only {steps} steps");
    assert!(!clean.plan_stack(&desired).await.has_changes());
    let expected = owned_objects(&clean).await;
    assert!(expected.values().all(|n| *n == 1), "{expected:#?}");

    for at in 1..=steps {
        for effect in [false, true] {
            let context = format!(
                "killed at step {at} of {steps} ({} taking effect)",
                if effect {
                    "the step"
                } else {
                    "before the step"
                }
            );
            let account = Account::new(timing.clone());
            let plan = account.plan_stack(&desired).await;
            let killed = Killed {
                sandbox: &account.sandbox,
                at,
                effect,
                executed: AtomicUsize::new(0),
            };
            apply(&killed, &plan, &apply_options(true), &Progress::quiet()).await;

            // Run again, as a user would: plan afresh, apply, then nothing is left.
            let replan = account.plan_stack(&desired).await;
            assert!(
                replan.blocking().next().is_none(),
                "{context}: the plan after the crash refuses changes: {replan:#?}"
            );
            account.apply_plan(&replan, true).await;
            let last = account.plan_stack(&desired).await;
            assert!(
                !last.has_changes(),
                "{context}: changes left after the second apply: {:#?}",
                last.changes
            );
            assert_eq!(
                owned_objects(&account).await,
                expected,
                "{context}: objects differ from a clean apply's"
            );
        }
    }
}
