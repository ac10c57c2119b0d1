//! One apply at a time: the stack lock in the sandbox (a file beside the sandbox
//! file) and on AWS (an S3 object written with `If-None-Match: *`, against moto),
//! `bedform unlock`, release on every way apply ends, and no lock held while
//! `apply --wait` follows a job.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bedform::cloud::Cloud;
use bedform::cloud::lock::{LockRecord, StackLock};
use bedform::cloud::sandbox::Sandbox;
use common::{ACCOUNT, REGION, assert_contains, fast_clock, run};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = "apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec:
  region: us-east-1
";

const LOG_GROUP: &str = "---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: logs}
spec:
  logGroupName: /demo/logs
  retentionDays: 30
";

/// Needs a Marketplace agreement the manifests do not ask for: AWS refuses the create.
const UNUSABLE_THROUGHPUT: &str = "---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: serving}
spec:
  model: anthropic.claude-3-5-haiku-20241022-v1:0
  modelUnits: 1
";

/// A folder with `manifest` as `stack/demo.yaml`; returns the folder.
fn folder(manifest: &str) -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("stack")).unwrap();
    std::fs::write(dir.path().join("stack/demo.yaml"), manifest).unwrap();
    dir
}

// ---------------------------------------------------------------------- sandbox

fn sandbox_file(dir: &Path) -> PathBuf {
    dir.join(".bedform/sandbox.json")
}

fn lock_file(dir: &Path) -> PathBuf {
    dir.join(".bedform/sandbox.json.lock")
}

/// What the sandbox in `dir` holds, as `Kind/name` lines.
async fn sandbox_objects(dir: &Path) -> Vec<String> {
    if !sandbox_file(dir).exists() {
        return Vec::new();
    }
    let sandbox = Sandbox::open(&sandbox_file(dir), ACCOUNT, REGION).unwrap();
    let observed = sandbox.observe(&Default::default()).await.unwrap();
    observed
        .resources
        .iter()
        .filter(|r| r.kind != "ModelAccess")
        .map(|r| format!("{}/{}", r.kind, r.aws_name))
        .collect()
}

/// Another apply's lock on the sandbox of `dir`, taken through the lock module.
async fn hold_sandbox_lock(dir: &Path) -> LockRecord {
    let record = LockRecord::new("demo", "bedform apply elsewhere");
    StackLock::for_sandbox(&sandbox_file(dir))
        .acquire(&record)
        .await
        .unwrap();
    record
}

#[tokio::test]
async fn a_held_lock_refuses_a_second_apply_naming_its_holder_and_changes_nothing() {
    let dir = folder(&format!("{STACK}{LOG_GROUP}"));
    let holder = hold_sandbox_lock(dir.path()).await;
    let before = std::fs::read(lock_file(dir.path())).unwrap();
    let started = Instant::now();

    let refused = run(
        dir.path(),
        ["--sandbox", "apply", "--auto-approve", "stack"],
    )
    .expect(1);
    assert!(started.elapsed() < Duration::from_secs(10), "fails fast");
    for part in [
        holder.id.as_str(),
        holder.who.as_str(),
        holder.since.as_str(),
        "bedform apply elsewhere",
        "Nothing was changed",
        "bedform --sandbox unlock",
    ] {
        assert_contains(&refused.stderr, part);
    }
    assert!(
        !refused.stdout.contains("LogGroup/logs"),
        "refused before planning:\n{}",
        refused.stdout
    );
    assert!(sandbox_objects(dir.path()).await.is_empty());
    assert_eq!(std::fs::read(lock_file(dir.path())).unwrap(), before);
}

#[tokio::test]
async fn a_lock_whose_holder_is_gone_from_this_host_is_called_stale() {
    let dir = folder(&format!("{STACK}{LOG_GROUP}"));
    let mut ended = std::process::Command::new("true").spawn().unwrap();
    let pid = ended.id();
    ended.wait().unwrap();
    let mut record = LockRecord::new("demo", "bedform apply --wait stack");
    record.pid = pid;
    assert!(record.holder_is_gone());
    StackLock::for_sandbox(&sandbox_file(dir.path()))
        .acquire(&record)
        .await
        .unwrap();
    let refused = run(
        dir.path(),
        ["--sandbox", "apply", "--auto-approve", "stack"],
    )
    .expect(1);
    assert_contains(&refused.stderr, "locked by an apply that is gone");
    assert_contains(
        &refused.stderr,
        &format!("no process {pid} runs on this host"),
    );
    assert_contains(
        &refused.stderr,
        &format!("bedform --sandbox unlock {}", record.id),
    );
    // A holder that runs (this test), or one on another host, is not called gone.
    assert!(!LockRecord::new("demo", "x").holder_is_gone());
    record.who = "ci@another-host".into();
    assert!(!record.holder_is_gone());
}

#[tokio::test]
async fn unlock_releases_only_the_lock_it_names_and_apply_then_runs() {
    let dir = folder(&format!("{STACK}{LOG_GROUP}"));
    let holder = hold_sandbox_lock(dir.path()).await;

    let wrong = run(dir.path(), ["--sandbox", "unlock", "0123456789abcdef"]).expect(1);
    assert_contains(&wrong.stderr, "nothing was released");
    assert_contains(&wrong.stderr, &holder.id);
    assert!(lock_file(dir.path()).exists());

    let released = run(dir.path(), ["--sandbox", "unlock", &holder.id]).expect(0);
    assert_contains(&released.stdout, &format!("Released lock {}", holder.id));
    assert_contains(&released.stdout, &holder.who);
    assert!(!lock_file(dir.path()).exists());

    run(dir.path(), ["--sandbox", "unlock", &holder.id]).expect(1);
    run(
        dir.path(),
        ["--sandbox", "apply", "--auto-approve", "stack"],
    )
    .expect(0);
    assert_eq!(sandbox_objects(dir.path()).await, ["LogGroup//demo/logs"]);
}

#[test]
fn the_lock_is_gone_after_a_successful_a_refused_and_a_failed_apply() {
    let dir = folder(&format!("{STACK}{LOG_GROUP}"));
    let applied = run(
        dir.path(),
        ["--sandbox", "apply", "--auto-approve", "stack"],
    )
    .expect(0);
    assert_contains(&applied.stdout, "Apply complete.");
    assert!(!lock_file(dir.path()).exists());

    // Refused before anything is sent: no approval without a terminal.
    std::fs::write(
        dir.path().join("stack/demo.yaml"),
        format!("{STACK}{LOG_GROUP}{UNUSABLE_THROUGHPUT}"),
    )
    .unwrap();
    run(dir.path(), ["--sandbox", "apply", "stack"]).expect(1);
    assert!(!lock_file(dir.path()).exists());

    // Failed while sending.
    let failed = run(
        dir.path(),
        ["--sandbox", "apply", "--auto-approve", "stack"],
    )
    .expect(1);
    assert_contains(&failed.stdout, "ProvisionedThroughput/serving");
    assert_contains(&failed.stdout, "FAILED");
    assert!(!lock_file(dir.path()).exists());
}

#[test]
fn apply_wait_does_not_hold_the_lock_while_a_job_trains() {
    let dir = TempDir::new().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    std::fs::create_dir_all(dir.path().join("stack")).unwrap();
    for entry in std::fs::read_dir(examples).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(
            entry.path(),
            dir.path().join("stack").join(entry.file_name()),
        )
        .unwrap();
    }
    let sandbox = Sandbox::open(&sandbox_file(dir.path()), ACCOUNT, REGION).unwrap();
    sandbox.set_timing(fast_clock(4.0, 0.5)).unwrap();

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bedform"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["--sandbox", "apply", "--auto-approve", "--wait", "stack"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let training = || {
        let text = std::fs::read_to_string(sandbox_file(dir.path())).unwrap_or_default();
        text.contains("\"InProgress\"")
    };
    // While the job trains and apply follows it, the lock is free: another process
    // takes and gives it back.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut taken_while_training = false;
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        if training() && !lock_file(dir.path()).exists() {
            let lock = StackLock::for_sandbox(&sandbox_file(dir.path()));
            let record = LockRecord::new("support-bot", "a second apply");
            if runtime.block_on(lock.acquire(&record)).is_ok() {
                assert!(training(), "the job still trains while the lock is taken");
                runtime.block_on(lock.release(&record.id)).unwrap();
                taken_while_training = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        taken_while_training,
        "no moment while the job trained with the lock free\n{stderr}"
    );
    assert_contains(&stderr, "following what converges without it");
    assert_contains(&stdout, "CustomizationJob/support-distilled: done");
    assert_contains(&stdout, "ProvisionedThroughput/support-bot: done");
    assert!(!lock_file(dir.path()).exists());
    let again = run(
        dir.path(),
        ["--sandbox", "plan", "--detailed-exitcode", "stack"],
    );
    again.expect(0);
}

#[test]
fn a_bad_lock_bucket_is_a_validation_error() {
    let dir = folder(&format!(
        "{STACK}  lock: {{bucket: Not_A_Bucket, key: locks/demo.lock}}\n{LOG_GROUP}"
    ));
    let invalid = run(dir.path(), ["validate", "stack"]).expect(1);
    assert_contains(&invalid.stderr, "`lock.bucket` `Not_A_Bucket`");
    assert_contains(&invalid.stderr, "demo.yaml:6");
}

// ----------------------------------------------------------------- S3 (moto)

const STATE_BUCKET: &str = "bedform-state";
const LOCK_KEY: &str = "locks/demo.lock";

/// A managed policy that does not exist: IAM refuses to attach it.
const BROKEN_ROLE: &str = "---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: broken-role}
spec:
  assumedBy: bedrock
  managedPolicyArns: [\"arn:aws:iam::aws:policy/NoSuchPolicyAnywhere\"]
";

fn locked_stack() -> String {
    format!("{STACK}  lock: {{bucket: {STATE_BUCKET}, key: {LOCK_KEY}}}\n{LOG_GROUP}")
}

fn bedform_on(moto: &Moto, dir: &Path, args: &[&str]) -> common::Output {
    common::run_with(dir, &moto.env(), args)
}

struct Emulated {
    moto: Moto,
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl Emulated {
    /// moto with a versioned state bucket, so that a lock written and deleted
    /// leaves its trace.
    fn start() -> Emulated {
        let moto = Moto::start();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = runtime.block_on(moto.sdk_config());
        let s3 = support::s3_client(&config);
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        runtime
            .block_on(s3.create_bucket().bucket(STATE_BUCKET).send())
            .unwrap();
        runtime
            .block_on(
                s3.put_bucket_versioning()
                    .bucket(STATE_BUCKET)
                    .versioning_configuration(
                        aws_sdk_s3::types::VersioningConfiguration::builder()
                            .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                            .build(),
                    )
                    .send(),
            )
            .unwrap();
        Emulated {
            moto,
            runtime,
            s3,
            logs,
        }
    }

    /// The lock object's content, if it exists.
    fn lock_object(&self) -> Option<String> {
        let got = self.runtime.block_on(
            self.s3
                .get_object()
                .bucket(STATE_BUCKET)
                .key(LOCK_KEY)
                .send(),
        );
        let output = got.ok()?;
        let bytes = self.runtime.block_on(output.body.collect()).unwrap();
        Some(String::from_utf8_lossy(&bytes.into_bytes()).into_owned())
    }

    /// Versions of the lock object written, and delete markers, so far.
    fn lock_history(&self) -> (usize, usize) {
        let versions = self
            .runtime
            .block_on(
                self.s3
                    .list_object_versions()
                    .bucket(STATE_BUCKET)
                    .prefix(LOCK_KEY)
                    .send(),
            )
            .unwrap();
        (versions.versions().len(), versions.delete_markers().len())
    }

    fn log_groups(&self) -> Vec<String> {
        let groups = self
            .runtime
            .block_on(self.logs.describe_log_groups().send())
            .unwrap();
        groups
            .log_groups()
            .iter()
            .filter_map(|g| g.log_group_name().map(str::to_string))
            .collect()
    }

    fn put_lock(&self, record: &LockRecord) {
        self.runtime
            .block_on(
                self.s3
                    .put_object()
                    .bucket(STATE_BUCKET)
                    .key(LOCK_KEY)
                    .body(serde_json::to_vec(record).unwrap().into())
                    .send(),
            )
            .unwrap();
    }
}

#[test]
fn moto_honours_if_none_match_on_put_object() {
    let aws = Emulated::start();
    // The error code of a conditional put, or None if it created the object.
    let put = || {
        let sent = aws.runtime.block_on(
            aws.s3
                .put_object()
                .bucket(STATE_BUCKET)
                .key("probe")
                .if_none_match("*")
                .body(b"x".to_vec().into())
                .send(),
        );
        sent.err().map(|e| {
            aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e)
                .unwrap_or("no code")
                .to_string()
        })
    };
    assert_eq!(put(), None, "the first conditional put creates the object");
    assert_eq!(
        put().as_deref(),
        Some("PreconditionFailed"),
        "the second is refused"
    );
}

#[test]
fn apply_writes_the_s3_lock_and_deletes_it_when_done() {
    let aws = Emulated::start();
    let dir = folder(&locked_stack());
    let applied =
        bedform_on(&aws.moto, dir.path(), &["apply", "--auto-approve", "stack"]).expect(0);
    assert!(!applied.stderr.contains("spec.lock"), "{}", applied.stderr);
    assert_eq!(aws.log_groups(), ["/demo/logs"]);
    assert_eq!(aws.lock_object(), None, "released");
    assert_eq!(aws.lock_history(), (1, 1), "written once, then deleted");

    // Refused before sending anything (no approval without a terminal), and
    // failed while sending: released both times.
    std::fs::write(
        dir.path().join("stack/demo.yaml"),
        format!("{}{BROKEN_ROLE}", locked_stack()),
    )
    .unwrap();
    bedform_on(&aws.moto, dir.path(), &["apply", "stack"]).expect(1);
    assert_eq!(aws.lock_object(), None);
    let failed = bedform_on(&aws.moto, dir.path(), &["apply", "--auto-approve", "stack"]).expect(1);
    assert_contains(&failed.stdout, "IamRole/broken-role");
    assert_contains(&failed.stdout, "FAILED");
    assert_eq!(aws.lock_object(), None);
    assert_eq!(aws.lock_history(), (3, 3));
}

#[test]
fn a_held_s3_lock_refuses_apply_with_its_content_and_unlock_releases_it() {
    let aws = Emulated::start();
    let dir = folder(&locked_stack());
    let holder = LockRecord::new("demo", "bedform apply on another machine");
    aws.put_lock(&holder);

    let refused =
        bedform_on(&aws.moto, dir.path(), &["apply", "--auto-approve", "stack"]).expect(1);
    for part in [
        holder.id.as_str(),
        holder.who.as_str(),
        holder.since.as_str(),
        "bedform apply on another machine",
        "s3://bedform-state/locks/demo.lock",
        "Nothing was changed",
    ] {
        assert_contains(&refused.stderr, part);
    }
    assert!(aws.log_groups().is_empty());
    assert_eq!(
        aws.lock_object().as_deref(),
        Some(serde_json::to_string(&holder).unwrap().as_str())
    );

    let wrong = bedform_on(
        &aws.moto,
        dir.path(),
        &["unlock", "0123456789abcdef", "stack"],
    )
    .expect(1);
    assert_contains(&wrong.stderr, "nothing was released");
    assert!(aws.lock_object().is_some());

    let released = bedform_on(&aws.moto, dir.path(), &["unlock", &holder.id, "stack"]).expect(0);
    assert_contains(&released.stdout, &format!("Released lock {}", holder.id));
    assert_eq!(aws.lock_object(), None);

    bedform_on(&aws.moto, dir.path(), &["apply", "--auto-approve", "stack"]).expect(0);
    assert_eq!(aws.log_groups(), ["/demo/logs"]);
}

#[test]
fn without_spec_lock_apply_on_aws_runs_unlocked_and_says_so() {
    let aws = Emulated::start();
    let dir = folder(&format!("{STACK}{LOG_GROUP}"));
    let applied =
        bedform_on(&aws.moto, dir.path(), &["apply", "--auto-approve", "stack"]).expect(0);
    let warnings: Vec<&str> = applied
        .stderr
        .lines()
        .filter(|l| l.contains("spec.lock"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", applied.stderr);
    assert_contains(warnings[0], "warning:");
    assert_eq!(aws.lock_history(), (0, 0));
}
