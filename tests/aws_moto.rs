//! The AWS adapter over the wire: the bedform binary against `moto_server` through
//! the real SDK, with results checked with the SDK directly.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
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
}

fn copy_example(dir: &Path, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn logging_only_applies_then_plans_clean_and_reports_drift() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "logging-only");
    let path = stack.to_str().unwrap();
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    let applied = bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    assert!(
        applied.stdout.contains("Apply complete."),
        "{}",
        applied.stdout
    );

    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let groups = rt.block_on(logs.describe_log_groups().send()).unwrap();
    let group = groups
        .log_groups()
        .iter()
        .find(|g| g.retention_in_days() == Some(90))
        .expect("the log group, retention 90");
    let group_name = group.log_group_name().unwrap().to_string();
    let arn = group.arn().unwrap().trim_end_matches(":*").to_string();
    let tags = rt
        .block_on(logs.list_tags_for_resource().resource_arn(&arn).send())
        .unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(
        tags.get("bedform:stack").map(String::as_str),
        Some("logging-only")
    );
    assert!(
        tags.get("bedform:address")
            .is_some_and(|a| a.starts_with("LogGroup/"))
    );
    assert!(tags.contains_key("bedform:spec-hash"));

    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let logging = rt
        .block_on(bedrock.get_model_invocation_logging_configuration().send())
        .unwrap();
    let logging = logging.logging_config().expect("logging configured");
    assert_eq!(logging.text_data_delivery_enabled(), Some(true));
    assert_eq!(logging.video_data_delivery_enabled(), Some(false));
    assert_eq!(
        logging.cloud_watch_config().map(|c| c.log_group_name()),
        Some(group_name.as_str())
    );

    let iam = aws_sdk_iam::Client::new(&config);
    let roles = rt.block_on(iam.list_roles().send()).unwrap();
    let role = roles
        .roles()
        .iter()
        .find(|r| {
            r.assume_role_policy_document()
                .is_some_and(|d| d.contains("bedrock.amazonaws.com"))
        })
        .expect("the logging role");
    let role_tags = rt
        .block_on(iam.list_role_tags().role_name(role.role_name()).send())
        .unwrap();
    assert!(
        role_tags
            .tags()
            .iter()
            .any(|t| t.key() == "bedform:stack" && t.value() == "logging-only")
    );

    let clean = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);

    // Changed behind bedform's back: drift, in its own section.
    rt.block_on(
        logs.put_retention_policy()
            .log_group_name(&group_name)
            .retention_in_days(30)
            .send(),
    )
    .unwrap();
    let drift = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    assert!(
        drift.stdout.contains("Changed outside bedform"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("retentionDays: 30 -> 90"),
        "{}",
        drift.stdout
    );
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
}

const STACK: &str = "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: ownership}\nspec:\n  region: us-east-1\n";

fn log_group(name: &str, group: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: {name}}}\nspec:\n  logGroupName: {group}\n  retentionDays: 7\n{extra}"
    )
}

#[test]
fn ownership_decides_what_is_touched() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    // Made outside bedform, and one belonging to another stack.
    rt.block_on(
        logs.create_log_group()
            .log_group_name("/outside/made")
            .send(),
    )
    .unwrap();
    rt.block_on(
        logs.create_log_group()
            .log_group_name("/other/stack")
            .tags("bedform:stack", "other")
            .tags("bedform:address", "LogGroup/theirs")
            .send(),
    )
    .unwrap();

    let manifest = dir.path().join("stack.yaml");
    std::fs::write(
        &manifest,
        format!(
            "{STACK}{}{}",
            log_group("kept", "/ours/kept", ""),
            log_group("dropped", "/ours/dropped", "  deletionPolicy: delete\n")
        ),
    )
    .unwrap();
    let path = manifest.to_str().unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);

    // Declaring a name that exists unmanaged is reported and refused, never touched.
    std::fs::write(
        &manifest,
        format!(
            "{STACK}{}{}{}",
            log_group("kept", "/ours/kept", ""),
            log_group("dropped", "/ours/dropped", "  deletionPolicy: delete\n"),
            log_group("taken", "/outside/made", "")
        ),
    )
    .unwrap();
    let refused = bedform(&moto, dir.path(), &["plan", path]).expect(1);
    assert!(
        refused
            .stdout
            .contains("exists but is not managed by this stack"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("bedform import LogGroup/taken"),
        "{}",
        refused.stdout
    );
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(1);
    let outside = rt
        .block_on(
            logs.describe_log_groups()
                .log_group_name_prefix("/outside/made")
                .send(),
        )
        .unwrap();
    assert_eq!(
        outside.log_groups()[0].retention_in_days(),
        None,
        "the unmanaged group was changed"
    );

    // Removing an owned resource deletes it (deletionPolicy: delete); the other
    // stack's group is never planned.
    std::fs::write(
        &manifest,
        format!("{STACK}{}", log_group("kept", "/ours/kept", "")),
    )
    .unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(0);
    assert!(
        plan.stdout
            .contains("LogGroup/dropped (/ours/dropped) will be deleted"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("/other/stack"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("/outside/made"), "{}", plan.stdout);
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let names: Vec<String> = rt
        .block_on(logs.describe_log_groups().send())
        .unwrap()
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name().map(str::to_string))
        .collect();
    assert!(!names.contains(&"/ours/dropped".to_string()), "{names:?}");
    assert!(
        names.contains(&"/other/stack".to_string()) && names.contains(&"/outside/made".to_string()),
        "{names:?}"
    );
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
}

#[test]
fn distillation_job_is_created_once_with_its_tags() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "quickstart");
    let path = stack.to_str().unwrap();
    let applied = bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    // moto never finishes a job, so the throughput waits on it.
    assert!(
        applied
            .stdout
            .contains("ProvisionedThroughput/support-bot: pending"),
        "{}",
        applied.stdout
    );
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let jobs = rt
        .block_on(bedrock.list_model_customization_jobs().send())
        .unwrap();
    assert_eq!(jobs.model_customization_job_summaries().len(), 1);
    let job = &jobs.model_customization_job_summaries()[0];
    assert!(
        job.job_name().starts_with("support-distilled-"),
        "{}",
        job.job_name()
    );
    let tags = rt
        .block_on(
            bedrock
                .list_tags_for_resource()
                .resource_arn(job.job_arn())
                .send(),
        )
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "bedform:address"
                && t.value() == "CustomizationJob/support-distilled")
    );
    // Again: the job in progress is left alone, nothing is created twice.
    let again = bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    assert!(
        !again
            .stdout
            .contains("CustomizationJob/support-distilled: done"),
        "{}",
        again.stdout
    );
    let jobs = rt
        .block_on(bedrock.list_model_customization_jobs().send())
        .unwrap();
    assert_eq!(jobs.model_customization_job_summaries().len(), 1);
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(0);
    assert!(
        plan.stdout
            .contains("CustomizationJob/support-distilled [InProgress]"),
        "{}",
        plan.stdout
    );
}

#[test]
fn wrong_account_changes_nothing() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "quickstart");
    let file = stack.join("stack.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("\"123456789012\"", "\"210987654321\"")).unwrap();
    let out = bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", stack.to_str().unwrap()],
    )
    .expect(1);
    assert!(
        out.stderr.contains("declares accountId 210987654321"),
        "{}",
        out.stderr
    );
}
