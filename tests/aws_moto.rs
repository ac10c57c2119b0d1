//! The AWS adapter over the wire: the bedform binary against `moto_server` through
//! the real SDK, with results checked with the SDK directly.

mod common;
mod support;

use common::{copy_example, runtime};

use std::path::Path;

use assert_cmd::Command;
use futures::StreamExt;
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
    // The trust policy `assumedBy: bedrock` stands for, with its confused-deputy
    // conditions, and the declared inline policy.
    let trust: serde_json::Value = serde_json::from_str(&bedform::policy::url_decode(
        role.assume_role_policy_document().unwrap(),
    ))
    .unwrap();
    let condition = &trust["Statement"][0]["Condition"];
    assert_eq!(
        condition["StringEquals"]["aws:SourceAccount"], "123456789012",
        "{trust:#}"
    );
    assert!(
        condition["ArnLike"]["aws:SourceArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:bedrock:us-east-1:123456789012:")),
        "{trust:#}"
    );
    let inline = rt
        .block_on(iam.list_role_policies().role_name(role.role_name()).send())
        .unwrap();
    assert_eq!(inline.policy_names(), ["write-logs"]);
    let document = rt
        .block_on(
            iam.get_role_policy()
                .role_name(role.role_name())
                .policy_name("write-logs")
                .send(),
        )
        .unwrap();
    let document = bedform::policy::url_decode(document.policy_document());
    assert!(document.contains("logs:PutLogEvents"), "{document}");
    assert!(document.contains(&format!("\"{arn}:*\"")), "{document}");

    // The bucket: its Bedrock log-delivery policy, encryption, public-access
    // block and ownership tags.
    let s3 = support::s3_client(&config);
    let bucket = "acme-bedrock-invocation-logs";
    let policy = rt
        .block_on(s3.get_bucket_policy().bucket(bucket).send())
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(
        statement["Principal"]["Service"], "bedrock.amazonaws.com",
        "{policy:#}"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["aws:SourceAccount"], "123456789012",
        "{policy:#}"
    );
    let block = rt
        .block_on(s3.get_public_access_block().bucket(bucket).send())
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let encryption = rt
        .block_on(s3.get_bucket_encryption().bucket(bucket).send())
        .unwrap();
    let rule = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .unwrap();
    assert_eq!(rule.sse_algorithm().as_str(), "AES256");
    let bucket_tags = rt
        .block_on(s3.get_bucket_tagging().bucket(bucket).send())
        .unwrap();
    let bucket_tags: std::collections::BTreeMap<&str, &str> = bucket_tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(bucket_tags.get("bedform:stack"), Some(&"logging-only"));
    assert_eq!(
        bucket_tags.get("bedform:address"),
        Some(&"Bucket/invocation-log-bucket")
    );
    assert!(bucket_tags.contains_key("bedform:spec-hash"));

    moto.reset_counts();
    let clean = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);
    // The stack's own objects were found with their tags by one read of the
    // tagging index (no tag read per bucket or log group), its role by its name,
    // and no read of the whole account's IAM.
    let counts = moto.counts();
    assert_eq!(counts.get("tagging:GetResources"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("iam:GetRole"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("logs:DescribeLogGroups"), Some(&1), "{counts:?}");
    assert!(counts.contains_key("iam:ListRoles"), "{counts:?}");
    for per_object in [
        "logs:ListTagsForResource",
        "s3:GET bucket ?tagging",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListRoleTags",
    ] {
        assert!(
            !counts.contains_key(per_object),
            "{per_object} in {counts:?}"
        );
    }

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

fn bucket(name: &str, bucket: &str) -> String {
    format!(
        "---\napiVersion: bedform/v1\nkind: Bucket\nmetadata: {{name: {name}}}\nspec:\n  bucketName: {bucket}\n  deletionPolicy: delete\n"
    )
}

/// ListBuckets of the region, with and without a prefix, as the proxy names them.
const LIST_BUCKETS: [&str; 2] = [
    "s3:GET bucket ?bucket-region&prefix",
    "s3:GET bucket ?bucket-region",
];

/// The `prefix` of each ListBuckets since `record_requests`, those with one first.
fn listed_bucket_prefixes(moto: &Moto) -> Vec<Option<String>> {
    LIST_BUCKETS
        .iter()
        .flat_map(|op| moto.requests(op))
        .map(|q| q.get("prefix").and_then(|p| p.as_str()).map(str::to_string))
        .collect()
}

/// A plan asks ListBuckets only for the names that start as the declared ones
/// do, so another team's buckets are not in its answer; a bucket the stack owns
/// outside that start, no longer declared, is still found (the region listed
/// again whole) and deleted, and so is the last one when none is declared.
#[test]
fn buckets_are_listed_by_the_declared_names_start() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let rt = runtime();
    let s3 = support::s3_client(&rt.block_on(moto.sdk_config()));
    rt.block_on(s3.create_bucket().bucket("theirs-data").send())
        .unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    let both = format!(
        "{STACK}{}{}",
        bucket("a", "ours-data-a"),
        bucket("b", "ours-data-b")
    );
    std::fs::write(&manifest, &both).unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    moto.record_requests(&LIST_BUCKETS);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert_eq!(
        listed_bucket_prefixes(&moto),
        vec![Some("ours-data-".to_string())]
    );

    // Both dropped for one of another name: found through the index, outside
    // the new prefix.
    moto.record_requests(&LIST_BUCKETS);
    std::fs::write(&manifest, format!("{STACK}{}", bucket("c", "ours-logs-c"))).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(0);
    for dropped in ["Bucket/a (ours-data-a)", "Bucket/b (ours-data-b)"] {
        assert!(
            plan.stdout.contains(&format!("{dropped} will be deleted")),
            "{}",
            plan.stdout
        );
    }
    assert!(!plan.stdout.contains("theirs-"), "{}", plan.stdout);
    assert_eq!(
        listed_bucket_prefixes(&moto),
        vec![Some("ours-logs-c".to_string()), None]
    );
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let mut left: Vec<String> = rt
        .block_on(s3.list_buckets().send())
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_string))
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec!["ours-logs-c".to_string(), "theirs-data".to_string()]
    );
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);

    // No bucket declared: the one the index lists as the stack's is looked for
    // by its own name, and once it is gone ListBuckets is not asked at all.
    std::fs::write(
        &manifest,
        format!("{STACK}{}", log_group("kept", "/ours/kept", "")),
    )
    .unwrap();
    moto.record_requests(&LIST_BUCKETS);
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(0);
    assert!(
        plan.stdout
            .contains("Bucket/c (ours-logs-c) will be deleted"),
        "{}",
        plan.stdout
    );
    assert_eq!(
        listed_bucket_prefixes(&moto),
        vec![Some("ours-logs-c".to_string())]
    );
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    moto.record_requests(&LIST_BUCKETS);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert_eq!(listed_bucket_prefixes(&moto), Vec::<Option<String>>::new());
}

fn bedrock_role(name: &str, role: &str) -> String {
    format!(
        "---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: {name}}}\nspec:\n  roleName: {role}\n  assumedBy: bedrock\n"
    )
}

#[test]
fn left_over_roles_are_found_without_reading_other_teams_objects() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let iam = aws_sdk_iam::Client::new(&config);
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    // Other teams' objects: a role EC2 assumes, a role Bedrock assumes, and a job
    // with a name bedform would not give.
    let ec2_trust = BEDROCK_TRUST.replace("bedrock.amazonaws.com", "ec2.amazonaws.com");
    for (name, trust) in [
        ("theirs-ec2", ec2_trust.as_str()),
        ("theirs-bedrock", BEDROCK_TRUST),
    ] {
        rt.block_on(
            iam.create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .send(),
        )
        .unwrap();
    }
    rt.block_on(
        bedrock
            .create_model_customization_job()
            .job_name("their-job")
            .custom_model_name("their-model")
            .role_arn("arn:aws:iam::123456789012:role/theirs-bedrock")
            .base_model_identifier("amazon.nova-micro-v1:0")
            .training_data_config(
                aws_sdk_bedrock::types::TrainingDataConfig::builder()
                    .s3_uri("s3://their-data/train.jsonl")
                    .build(),
            )
            .output_data_config(
                aws_sdk_bedrock::types::OutputDataConfig::builder()
                    .s3_uri("s3://their-data/out/")
                    .build()
                    .unwrap(),
            )
            .send(),
    )
    .unwrap();

    let manifest = dir.path().join("stack.yaml");
    let both = format!(
        "{STACK}{}{}",
        bedrock_role("kept", "ours-kept"),
        bedrock_role("dropped", "ours-dropped")
    );
    std::fs::write(&manifest, &both).unwrap();
    let path = manifest.to_str().unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);

    // Settled: the declared roles are read by name; of the others, only the one
    // Bedrock may assume has its tags read, and the job no tag read at all.
    moto.reset_counts();
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    let counts = moto.counts();
    assert_eq!(counts.get("iam:GetRole"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("iam:ListRoleTags"), Some(&1), "{counts:?}");
    assert!(
        !counts.contains_key("iam:GetAccountAuthorizationDetails"),
        "{counts:?}"
    );
    assert!(
        !counts.contains_key("bedrock:POST /listTagsForResource"),
        "{counts:?}"
    );

    // A role no longer declared is found by its tags, and deleted; theirs are not
    // planned.
    let roles = drop_a_role(&moto, &manifest, STACK, &iam);
    for kept in ["ours-kept", "theirs-ec2", "theirs-bedrock"] {
        assert!(roles.contains(&kept.to_string()), "{kept} in {roles:?}");
    }
}

/// Drops `ours-dropped` from the stack `stack` of `manifest` (which keeps
/// `ours-kept`): the plan deletes it and nothing of other teams (`theirs-*`),
/// apply does, and the stack is then settled. The account's roles after.
fn drop_a_role(
    moto: &Moto,
    manifest: &Path,
    stack: &str,
    iam: &aws_sdk_iam::Client,
) -> Vec<String> {
    let (dir, path) = (manifest.parent().unwrap(), manifest.to_str().unwrap());
    std::fs::write(
        manifest,
        format!("{stack}{}", bedrock_role("kept", "ours-kept")),
    )
    .unwrap();
    let plan = bedform(moto, dir, &["plan", path]).expect(0);
    assert!(
        plan.stdout
            .contains("IamRole/dropped (ours-dropped) will be deleted"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("theirs-"), "{}", plan.stdout);
    bedform(moto, dir, &["apply", "--auto-approve", path]).expect(0);
    let roles = role_names(iam);
    assert!(!roles.contains(&"ours-dropped".to_string()), "{roles:?}");
    bedform(moto, dir, &["plan", "--detailed-exitcode", path]).expect(0);
    roles
}

/// A role apply has just made holds no policies: its inline policy is put and its
/// managed policy attached without listing either first (the only listings are
/// the plan's read of the declared role), and the next plan finds it settled.
#[test]
fn a_role_just_made_gets_its_policies_without_listing_them() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let rt = runtime();
    let iam = aws_sdk_iam::Client::new(&rt.block_on(moto.sdk_config()));
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}"#;
    rt.block_on(
        iam.create_policy()
            .policy_name("list-buckets")
            .policy_document(document)
            .send(),
    )
    .unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    let role = format!(
        "{}  managedPolicyArns: [\"arn:aws:iam::123456789012:policy/list-buckets\"]\n  inlinePolicies:\n    read:\n      Version: \"2012-10-17\"\n      Statement:\n        - {{Effect: Allow, Action: [s3:GetObject], Resource: \"arn:aws:s3:::data/*\"}}\n",
        bedrock_role("made", "ours-made")
    );
    std::fs::write(&manifest, format!("{STACK}{role}")).unwrap();
    moto.reset_counts();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let counts = moto.counts();
    for (op, n) in [
        ("iam:CreateRole", 1),
        ("iam:PutRolePolicy", 1),
        ("iam:AttachRolePolicy", 1),
        ("iam:ListRolePolicies", 1),
        ("iam:ListAttachedRolePolicies", 1),
    ] {
        assert_eq!(counts.get(op), Some(&n), "{op}: {counts:?}");
    }
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
}

/// A stack with a `rolePath`: the `ownership` stack with its roles under
/// `/bedform/ownership/`.
const STACK_WITH_PATH: &str = "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: ownership}\nspec:\n  region: us-east-1\n  rolePath: /bedform/ownership/\n";

/// The path and ARN IAM holds for `role`.
fn role_path_and_arn(iam: &aws_sdk_iam::Client, role: &str) -> (String, String) {
    let out = runtime()
        .block_on(iam.get_role().role_name(role).send())
        .unwrap();
    let role = out.role().unwrap();
    (role.path().to_string(), role.arn().to_string())
}

fn role_names(iam: &aws_sdk_iam::Client) -> Vec<String> {
    runtime()
        .block_on(iam.list_roles().send())
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect()
}

/// With `rolePath`, the stack's roles are made under it and a plan lists that
/// path alone: a role Bedrock may assume elsewhere in the account costs nothing,
/// and a role the stack no longer declares is still found and deleted.
#[test]
fn with_a_role_path_only_that_path_is_listed() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let iam = aws_sdk_iam::Client::new(&config);
    rt.block_on(
        iam.create_role()
            .role_name("theirs-bedrock")
            .assume_role_policy_document(BEDROCK_TRUST)
            .send(),
    )
    .unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    let both = format!(
        "{STACK_WITH_PATH}{}{}",
        bedrock_role("kept", "ours-kept"),
        bedrock_role("dropped", "ours-dropped")
    );
    std::fs::write(&manifest, &both).unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    assert_eq!(
        role_path_and_arn(&iam, "ours-kept"),
        (
            "/bedform/ownership/".to_string(),
            "arn:aws:iam::123456789012:role/bedform/ownership/ours-kept".to_string()
        )
    );

    moto.reset_counts();
    moto.record_requests(&["iam:ListRoles"]);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    let counts = moto.counts();
    // Theirs is not under the path: not listed, so its tags are not read.
    assert_eq!(counts.get("iam:ListRoleTags"), None, "{counts:?}");
    let listed = moto.requests("iam:ListRoles");
    assert_eq!(listed.len(), 1, "{listed:?}");
    let asked = listed[0].as_str().unwrap();
    assert!(
        asked.contains("PathPrefix=%2Fbedform%2Fownership%2F"),
        "{asked}"
    );

    let roles = drop_a_role(&moto, &manifest, STACK_WITH_PATH, &iam);
    assert!(roles.contains(&"theirs-bedrock".to_string()), "{roles:?}");
}

/// Adding `rolePath` to a stack whose roles exist replaces them into the path;
/// a role dropped in the same change, left outside it, is still found (the plan
/// lists the whole account while a declared role is outside the path).
#[test]
fn adding_a_role_path_replaces_the_roles_and_still_finds_the_dropped_ones() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let iam = aws_sdk_iam::Client::new(&config);
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    let both = format!(
        "{STACK}{}{}",
        bedrock_role("kept", "ours-kept"),
        bedrock_role("dropped", "ours-dropped")
    );
    std::fs::write(&manifest, &both).unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    assert_eq!(role_path_and_arn(&iam, "ours-kept").0, "/");

    std::fs::write(
        &manifest,
        format!("{STACK_WITH_PATH}{}", bedrock_role("kept", "ours-kept")),
    )
    .unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(0);
    assert!(
        plan.stdout
            .contains("IamRole/dropped (ours-dropped) will be deleted"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("IamRole/kept"), "{}", plan.stdout);
    assert!(plan.stdout.contains("replaced"), "{}", plan.stdout);
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let roles = role_names(&iam);
    assert_eq!(roles, vec!["ours-kept".to_string()]);
    assert_eq!(
        role_path_and_arn(&iam, "ours-kept").0,
        "/bedform/ownership/"
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
    // A stack tag reaches the job in place (TagResource on its ARN), training
    // nothing again.
    let file = stack.join("stack.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "tags: {team: ml-platform}",
            "tags: {team: ml-platform, cost-center: ml-42}",
        ),
    )
    .unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let jobs = rt
        .block_on(bedrock.list_model_customization_jobs().send())
        .unwrap();
    assert_eq!(jobs.model_customization_job_summaries().len(), 1);
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
            .any(|t| t.key() == "cost-center" && t.value() == "ml-42"),
        "{:?}",
        tags.tags()
    );
}

/// How the proxy names CreateModelCustomizationJob (a REST call: method and path).
const CREATE_JOB: &str = "bedrock:POST /model-customization-jobs";

/// The value of tag `key` in a Bedrock request's `[{key, value}]` tag list.
fn tag<'a>(tags: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    tags.as_array()?
        .iter()
        .find(|t| t["key"] == key)
        .and_then(|t| t["value"].as_str())
}

/// The one CreateModelCustomizationJob body the proxy kept.
fn the_create_job_request(moto: &Moto) -> serde_json::Value {
    let mut bodies = moto.requests(CREATE_JOB);
    assert_eq!(bodies.len(), 1, "{bodies:#?}");
    bodies.remove(0)
}

#[test]
fn distillation_job_request_carries_the_teacher_tags_and_a_stable_token() {
    // moto keeps no customizationConfig, so what was sent is read at the proxy.
    let moto = Moto::start();
    moto.record_requests(&[CREATE_JOB]);
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "quickstart");
    let path = stack.to_str().unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let sent = the_create_job_request(&moto);

    assert_eq!(sent["customizationType"], "DISTILLATION", "{sent:#}");
    let teacher = &sent["customizationConfig"]["distillationConfig"]["teacherModelConfig"];
    assert_eq!(
        teacher["teacherModelIdentifier"], "amazon.nova-pro-v1:0",
        "{sent:#}"
    );
    assert_eq!(teacher["maxResponseLengthForInference"], 1000, "{sent:#}");
    assert_eq!(sent["baseModelIdentifier"], "amazon.nova-lite-v1:0");
    assert_eq!(
        sent["roleArn"],
        "arn:aws:iam::123456789012:role/support-bot-distillation"
    );
    assert_eq!(
        sent["outputDataConfig"]["s3Uri"],
        "s3://acme-support-bot-training/output/"
    );
    assert_eq!(
        sent["trainingDataConfig"]["s3Uri"],
        "s3://acme-support-bot-training/prompts.jsonl"
    );
    assert!(
        sent["trainingDataConfig"]
            .get("invocationLogsConfig")
            .is_none(),
        "{sent:#}"
    );
    let job_name = sent["jobName"].as_str().unwrap_or_default();
    assert!(job_name.starts_with("support-distilled-"), "{sent:#}");

    // The job and the model it makes carry the same ownership tags.
    let spec_hash = tag(&sent["jobTags"], "bedform:spec-hash").unwrap_or_default();
    assert_eq!(spec_hash.len(), 16, "{sent:#}");
    for tags in [&sent["jobTags"], &sent["customModelTags"]] {
        assert_eq!(tag(tags, "bedform:stack"), Some("support-bot"), "{sent:#}");
        assert_eq!(
            tag(tags, "bedform:address"),
            Some("CustomizationJob/support-distilled"),
            "{sent:#}"
        );
        assert_eq!(tag(tags, "bedform:spec-hash"), Some(spec_hash), "{sent:#}");
        assert_eq!(tag(tags, "team"), Some("ml-platform"), "{sent:#}");
    }

    // The token follows from what the create means, so a re-run from scratch
    // sends the same one and AWS cannot start a second job.
    let token = sent["clientRequestToken"].as_str().unwrap_or_default();
    assert_eq!(
        token,
        bedform::hash::client_request_token(
            "support-bot",
            "CustomizationJob/support-distilled",
            job_name,
            spec_hash
        ),
        "{sent:#}"
    );
    moto.reset();
    let again = TempDir::new().unwrap();
    let stack = copy_example(again.path(), "quickstart");
    bedform(
        &moto,
        again.path(),
        &["apply", "--auto-approve", stack.to_str().unwrap()],
    )
    .expect(0);
    let resent = the_create_job_request(&moto);
    assert_eq!(resent["clientRequestToken"], token, "{resent:#}");
    assert_eq!(resent["jobName"], job_name, "{resent:#}");
}

#[test]
fn training_from_invocation_logs_sends_the_log_source_and_metadata_filters() {
    let moto = Moto::start();
    moto.record_requests(&[CREATE_JOB]);
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "distill-from-logs");
    // moto answers this create with a 400 (see
    // an_aws_validation_error_names_the_manifest_that_caused_it); the proxy keeps
    // the body before moto sees it.
    bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", stack.to_str().unwrap()],
    )
    .expect(1);
    let sent = the_create_job_request(&moto);
    let training = &sent["trainingDataConfig"];
    assert!(training.get("s3Uri").is_none(), "{sent:#}");
    let logs = &training["invocationLogsConfig"];
    assert_eq!(logs["usePromptResponse"], true, "{sent:#}");
    assert_eq!(
        logs["invocationLogSource"],
        serde_json::json!({"s3Uri": "s3://acme-support-logs/invocation-logs/"}),
        "{sent:#}"
    );
    assert_eq!(
        logs["requestMetadataFilters"],
        serde_json::json!({"andAll": [
            {"equals": {"project": "support"}},
            {"notEquals": {"env": "test"}},
        ]}),
        "{sent:#}"
    );
    assert_eq!(sent["customizationType"], "DISTILLATION", "{sent:#}");
    assert_eq!(
        sent["customizationConfig"]["distillationConfig"]["teacherModelConfig"]["teacherModelIdentifier"],
        "amazon.nova-pro-v1:0",
        "{sent:#}"
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
    moto.reset_counts();
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
    // The account is checked before anything else is read, let alone written.
    let counts = moto.counts();
    assert_eq!(
        counts.keys().map(String::as_str).collect::<Vec<_>>(),
        ["sts:GetCallerIdentity"],
        "{counts:?}"
    );

    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let s3 = support::s3_client(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    rt.block_on(async {
        let buckets = s3.list_buckets().send().await.unwrap();
        assert!(buckets.buckets().is_empty(), "{:?}", buckets.buckets());
        let groups = logs.describe_log_groups().send().await.unwrap();
        assert!(groups.log_groups().is_empty(), "{:?}", groups.log_groups());
        let roles = iam.list_roles().send().await.unwrap();
        assert!(roles.roles().is_empty(), "{:?}", roles.roles());
    });
}

#[test]
fn role_policies_beyond_one_page_are_all_reconciled() {
    // IAM answers 100 policy names a page; a reconciler reading only the first
    // would leave the rest attached while reporting the role converged.
    const STRAYS: usize = 105;
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    std::fs::write(
        &manifest,
        format!(
            "{STACK}---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: crowded}}\nspec:\n  roleName: crowded\n  assumedBy: bedrock\n  inlinePolicies:\n    kept: {READ_ONLY}\n  managedPolicyArns: []\n"
        ),
    )
    .unwrap();
    let path = manifest.to_str().unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);

    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let iam = aws_sdk_iam::Client::new(&config);
    rt.block_on(async {
        futures::stream::iter(0..STRAYS)
            .for_each_concurrent(16, |i| {
                let iam = &iam;
                async move {
                    let name = format!("stray-{i:03}");
                    iam.put_role_policy()
                        .role_name("crowded")
                        .policy_name(&name)
                        .policy_document(READ_ONLY)
                        .send()
                        .await
                        .unwrap();
                    let policy = iam
                        .create_policy()
                        .policy_name(&name)
                        .policy_document(READ_ONLY)
                        .send()
                        .await
                        .unwrap();
                    let arn = policy.policy().and_then(|p| p.arn()).unwrap_or_default();
                    iam.attach_role_policy()
                        .role_name("crowded")
                        .policy_arn(arn)
                        .send()
                        .await
                        .unwrap();
                }
            })
            .await;
        // The premise: both lists really come in more than one page.
        let inline = iam
            .list_role_policies()
            .role_name("crowded")
            .send()
            .await
            .unwrap();
        assert!(inline.is_truncated(), "{inline:?}");
        let attached = iam
            .list_attached_role_policies()
            .role_name("crowded")
            .send()
            .await
            .unwrap();
        assert!(attached.is_truncated(), "{attached:?}");
    });

    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let (inline, attached) = rt.block_on(async {
        let inline: Vec<String> = iam
            .list_role_policies()
            .role_name("crowded")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap();
        let attached: Vec<String> = iam
            .list_attached_role_policies()
            .role_name("crowded")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_string))
            .collect();
        (inline, attached)
    });
    assert_eq!(inline, ["kept"]);
    assert_eq!(attached, Vec::<String>::new());
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
}

const READ_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn throughput(name: &str, units: u32, commitment: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: bedform/v1\nkind: ProvisionedThroughput\nmetadata: {{name: {name}}}\nspec:\n  model: amazon.nova-lite-v1:0\n  modelUnits: {units}\n  commitment: {commitment}\n{extra}"
    )
}

const SERVING: &str =
    "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: serving}\nspec:\n  region: us-east-1\n";

fn throughput_names(
    rt: &tokio::runtime::Runtime,
    bedrock: &aws_sdk_bedrock::Client,
) -> Vec<String> {
    let mut names: Vec<String> = rt
        .block_on(
            bedrock
                .list_provisioned_model_throughputs()
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .map(|s| s.unwrap().provisioned_model_name().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn provisioned_throughput_create_replace_rename_and_paging() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    // Five throughputs: the emulated list answers two per page.
    let five: String = (1..=5)
        .map(|i| throughput(&format!("serve-{i}"), 1, "none", ""))
        .collect();
    std::fs::write(&manifest, format!("{SERVING}{five}")).unwrap();
    bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "--wait", path],
    )
    .expect(0);
    let clean = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);

    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    assert_eq!(
        throughput_names(&rt, &bedrock),
        ["serve-1", "serve-2", "serve-3", "serve-4", "serve-5"]
    );

    // More model units: a new throughput first, then the old one goes.
    let edited = format!(
        "{SERVING}{}",
        five.replacen("modelUnits: 1", "modelUnits: 2", 1)
    );
    std::fs::write(&manifest, edited).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    assert!(
        plan.stdout.contains("ProvisionedThroughput/serve-1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("modelUnits: 1 -> 2   # forces replacement"),
        "{}",
        plan.stdout
    );
    // Bought as `serve-1-<hash>` while `serve-1` serves, then renamed back
    // (UpdateProvisionedModelThroughput) once the old one is deleted.
    let applied = bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let names = throughput_names(&rt, &bedrock);
    assert_eq!(
        names,
        ["serve-1", "serve-2", "serve-3", "serve-4", "serve-5"],
        "{}",
        applied.stdout
    );
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);

    // A new name is an update in place.
    let renamed = std::fs::read_to_string(&manifest).unwrap().replacen(
        "metadata: {name: serve-2}\nspec:\n",
        "metadata: {name: serve-2}\nspec:\n  provisionedModelName: serve-two\n",
        1,
    );
    std::fs::write(&manifest, renamed).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    assert!(
        plan.stdout
            .contains(r#"provisionedModelName: "serve-2" -> "serve-two""#),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("0 to create, 1 to update, 0 to replace, 0 to delete"),
        "{}",
        plan.stdout
    );
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    assert!(throughput_names(&rt, &bedrock).contains(&"serve-two".to_string()));
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
}

#[test]
fn committed_throughput_is_guarded_in_plan_and_by_aws() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    std::fs::write(
        &manifest,
        format!("{SERVING}{}", throughput("reserved", 1, "oneMonth", "")),
    )
    .unwrap();
    let refused = bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(1);
    assert!(
        refused.stderr.contains("--allow-commitment"),
        "{}",
        refused.stderr
    );
    bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "--allow-commitment", path],
    )
    .expect(0);

    // Removed from the manifests before the term ends: the plan refuses.
    std::fs::write(&manifest, SERVING).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(1);
    assert!(
        plan.stdout.contains("under commitment until"),
        "{}",
        plan.stdout
    );

    // And AWS itself refuses, which the adapter reports as a conflict.
    let rt = runtime();
    let aws = rt.block_on(bedform::cloud::aws::Aws::connect(
        &bedform::cloud::aws::AwsSettings {
            region: "us-east-1".into(),
            profile: None,
            endpoint_url: Some(moto.endpoint.clone()),
        },
    ));
    let op = bedform::plan::Op::Delete {
        kind: "ProvisionedThroughput".into(),
        name: "reserved".into(),
        empty_first: false,
    };
    // SAFETY of the environment: credentials come from the test's own variables.
    let err = with_moto_credentials(&moto, || {
        rt.block_on(bedform::cloud::Cloud::execute(&aws, &op))
    })
    .unwrap_err();
    assert_eq!(err.class, bedform::cloud::ErrorClass::Conflict, "{err}");
    assert!(
        err.to_string().contains(
            "bedrock:DeleteProvisionedModelThroughput on provisioned throughput reserved"
        ),
        "{err}"
    );
    assert!(err.message.contains("ConflictException"), "{err}");
}

/// Runs `f` with the emulator's dummy credentials in the process environment (the
/// SDK's default chain reads them).
fn with_moto_credentials<T>(moto: &Moto, f: impl FnOnce() -> T) -> T {
    static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for (key, value) in moto.env() {
        // Tests in this file that touch the environment hold ENV.
        unsafe { std::env::set_var(key, value) };
    }
    f()
}

/// What AWS (here, the emulator) says of a model's agreement.
fn agreement_status(
    rt: &tokio::runtime::Runtime,
    bedrock: &aws_sdk_bedrock::Client,
    model: &str,
) -> String {
    let availability = rt
        .block_on(
            bedrock
                .get_foundation_model_availability()
                .model_id(model)
                .send(),
        )
        .unwrap();
    availability
        .agreement_availability()
        .unwrap()
        .status()
        .as_str()
        .to_string()
}

#[test]
fn model_access_agreements_and_use_case_form() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    std::fs::write(
        dir.path().join("form.json"),
        r#"{"companyName": "Acme", "useCase": "support"}"#,
    )
    .unwrap();
    let access = |state: &str| {
        format!(
            "{SERVING}---\napiVersion: bedform/v1\nkind: ModelAccess\nmetadata: {{name: access}}\nspec:\n  models: [anthropic.claude-3-5-haiku-20241022-v1:0, amazon.nova-pro-v1:0]\n  useCaseForm: {{file: form.json}}\n{state}"
        )
    };
    std::fs::write(&manifest, access("")).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    assert!(
        plan.stdout
            .contains("anthropic.claude-3-5-haiku-20241022-v1:0"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("(sensitive)"), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("Acme"),
        "the form's content is printed:\n{}",
        plan.stdout
    );
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    // The Anthropic use-case form is on file before any agreement is asked for.
    let sent = moto.sequence();
    let at = |op: &str| sent.iter().position(|s| s == op);
    let form = at("bedrock:POST /use-case-for-model-access").expect("the form was sent");
    let agreement =
        at("bedrock:POST /create-foundation-model-agreement").expect("an agreement was made");
    assert!(form < agreement, "{sent:#?}");
    let clean = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert!(
        clean.stdout.contains("agreement AVAILABLE"),
        "{}",
        clean.stdout
    );

    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    assert_eq!(
        agreement_status(&rt, &bedrock, "anthropic.claude-3-5-haiku-20241022-v1:0"),
        "AVAILABLE"
    );

    // Only `state: absent` cancels the agreement.
    std::fs::write(&manifest, access("  state: absent\n")).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    assert!(plan.stdout.contains("will be deleted"), "{}", plan.stdout);
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    assert_eq!(
        agreement_status(&rt, &bedrock, "anthropic.claude-3-5-haiku-20241022-v1:0"),
        "NOT_AVAILABLE"
    );
}

#[test]
fn no_credentials_is_one_line_that_says_what_to_do() {
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "logging-only");
    let out = Command::cargo_bin("bedform")
        .unwrap()
        .env_clear()
        .env("HOME", dir.path())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        // Nothing listens here: no request may leave the machine.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["plan", stack.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    assert!(stderr.contains("--sandbox` needs none"), "{stderr}");
}

#[test]
fn an_aws_validation_error_names_the_manifest_that_caused_it() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "distill-from-logs");
    // moto rejects training data given only as invocation logs with a 400
    // ValidationException (AWS accepts it): a real error from the emulator.
    let out = bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", stack.to_str().unwrap()],
    )
    .expect(1);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("CustomizationJob/") && l.contains("FAILED"))
        .unwrap_or_else(|| panic!("no failed job line:\n{}", out.stdout));
    assert!(line.contains("(declared at "), "{line}");
    assert!(line.contains("distillation.yaml:"), "{line}");
    assert!(
        line.contains("bedrock:CreateModelCustomizationJob on customization job"),
        "{line}"
    );
    assert!(line.contains("ValidationException"), "{line}");
    // What finished before the failure is reported, and a re-run plans only the rest.
    assert!(out.stdout.contains("Apply incomplete"), "{}", out.stdout);
    let plan = bedform(
        &moto,
        dir.path(),
        &["plan", "--format", "json", stack.to_str().unwrap()],
    )
    .expect(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let pending: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["CustomizationJob/support-distilled"]);
}

#[test]
fn logging_only_against_moto_without_the_proxy() {
    // What a user does by hand: a bare moto_server, AWS_ENDPOINT_URL pointing at it.
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "logging-only");
    let raw = format!("http://127.0.0.1:{}", moto.moto_port);
    let run = |args: &[&str]| {
        let mut command = Command::cargo_bin("bedform").unwrap();
        command.current_dir(dir.path()).env("NO_COLOR", "1");
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        let out = command
            .env("AWS_ENDPOINT_URL", &raw)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&["apply", "--auto-approve", stack.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let (code, stdout, stderr) = run(&["plan", "--detailed-exitcode", stack.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("No changes."), "{stdout}");
    // A stack without throughput does not list it: moto's gap costs nothing...
    assert!(
        !stderr.contains("ListProvisionedModelThroughputs"),
        "{stderr}"
    );
    // ... and where the listing is needed, the gap is said, not hidden.
    let serving = stack.join("serving.yaml");
    std::fs::write(
        &serving,
        throughput("serve", 1, "none", "").trim_start_matches("---\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["plan", stack.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("does not implement bedrock:ListProvisionedModelThroughputs"),
        "{stderr}"
    );
    std::fs::remove_file(&serving).unwrap();

    // moto answers GetBucketVersioning under the wrong root element: bedform says
    // so and still reads the status, in both directions.
    let manifest = stack.join("logging.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let versioned = text.replace(
        "  deletionPolicy: retain",
        "  versioning: true\n  deletionPolicy: retain",
    );
    assert_ne!(text, versioned);
    std::fs::write(&manifest, &versioned).unwrap();
    let (code, stdout, stderr) = run(&["apply", "--auto-approve", stack.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("versioning"), "{stdout}");
    let (code, stdout, stderr) = run(&["plan", "--detailed-exitcode", stack.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("reading its Status element"), "{stderr}");
    std::fs::write(&manifest, &text).unwrap();
    let (code, stdout, stderr) = run(&["plan", "--detailed-exitcode", stack.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    assert!(stdout.contains("versioning"), "{stdout}");
}

#[test]
fn removing_a_tag_from_a_throughput_converges() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    let tagged = |tags: &str| {
        format!(
            "{SERVING}{}",
            throughput("serve", 1, "none", &format!("  tags: {tags}\n"))
        )
    };
    std::fs::write(&manifest, tagged("{owner: ml, cost-centre: c42}")).unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);

    std::fs::write(&manifest, tagged("{owner: ml}")).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    assert!(plan.stdout.contains("tags"), "{}", plan.stdout);
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let clean = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);
}

const BEDROCK_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// An account built by hand with the SDK (not by bedform): export writes
/// manifests for it, they validate, `import --all` adopts the objects, and the
/// plan then has no changes.
#[test]
fn export_then_import_of_a_hand_built_account_plans_clean() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let s3 = support::s3_client(&config);
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    rt.block_on(async {
        logs.create_log_group()
            .log_group_name("/bedrock/invocations")
            .tags("team", "ml")
            .send()
            .await
            .unwrap();
        logs.put_retention_policy()
            .log_group_name("/bedrock/invocations")
            .retention_in_days(30)
            .send()
            .await
            .unwrap();
        s3.create_bucket()
            .bucket("hand-made-invocation-logs")
            .send()
            .await
            .unwrap();
        let role = iam
            .create_role()
            .role_name("BedrockLogging")
            .assume_role_policy_document(BEDROCK_TRUST)
            .send()
            .await
            .unwrap();
        let role_arn = role.role().unwrap().arn().to_string();
        iam.put_role_policy()
            .role_name("BedrockLogging")
            .policy_name("write-logs")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
        // A role that does not trust Bedrock is not exported.
        iam.create_role()
            .role_name("unrelated")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send()
            .await
            .unwrap();
        use aws_sdk_bedrock::types::{
            CloudWatchConfig, CustomizationType, LoggingConfig, OutputDataConfig, S3Config,
            TrainingDataConfig,
        };
        bedrock
            .put_model_invocation_logging_configuration()
            .logging_config(
                LoggingConfig::builder()
                    .cloud_watch_config(
                        CloudWatchConfig::builder()
                            .log_group_name("/bedrock/invocations")
                            .role_arn(&role_arn)
                            .build()
                            .unwrap(),
                    )
                    .s3_config(
                        S3Config::builder()
                            .bucket_name("hand-made-invocation-logs")
                            .key_prefix("logs/")
                            .build()
                            .unwrap(),
                    )
                    .text_data_delivery_enabled(true)
                    .image_data_delivery_enabled(false)
                    .embedding_data_delivery_enabled(false)
                    .video_data_delivery_enabled(false)
                    .audio_data_delivery_enabled(false)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        bedrock
            .create_model_customization_job()
            .job_name("my-tuning-job")
            .custom_model_name("my-tuned-model")
            .role_arn(&role_arn)
            .base_model_identifier("amazon.titan-text-express-v1")
            .customization_type(CustomizationType::FineTuning)
            .hyper_parameters("epochCount", "2")
            .training_data_config(
                TrainingDataConfig::builder()
                    .s3_uri("s3://hand-made-invocation-logs/train.jsonl")
                    .build(),
            )
            .output_data_config(
                OutputDataConfig::builder()
                    .s3_uri("s3://hand-made-invocation-logs/out/")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        bedrock
            .create_provisioned_model_throughput()
            .provisioned_model_name("serving")
            .model_id("amazon.nova-lite-v1:0")
            .model_units(1)
            .send()
            .await
            .unwrap();
    });

    let exported = bedform(
        &moto,
        d,
        &[
            "export",
            "--region",
            "us-east-1",
            "--stack",
            "adopted",
            "--out",
            "exported",
        ],
    )
    .expect(0);
    assert!(
        exported.stdout.contains("Wrote 6 documents"),
        "{}\n{}",
        exported.stdout,
        exported.stderr
    );
    let roles = std::fs::read_to_string(d.join("exported/iam-role.yaml")).unwrap();
    assert!(roles.contains("roleName: BedrockLogging"), "{roles}");
    assert!(!roles.contains("unrelated"), "{roles}");
    let jobs = std::fs::read_to_string(d.join("exported/customization-job.yaml")).unwrap();
    assert!(jobs.contains("jobName: my-tuning-job"), "{jobs}");
    assert!(jobs.contains("customModelName: my-tuned-model"), "{jobs}");
    let logging = std::fs::read_to_string(d.join("exported/invocation-logging.yaml")).unwrap();
    assert!(logging.contains("ref: bedrocklogging"), "{logging}");

    bedform(&moto, d, &["validate", "exported"]).expect(0);
    let unadopted = bedform(&moto, d, &["plan", "exported"]).expect(1);
    assert!(
        unadopted
            .stdout
            .contains("exists but was not created by this stack"),
        "{}",
        unadopted.stdout
    );
    let imported = bedform(&moto, d, &["import", "--all", "--auto-approve", "exported"]).expect(0);
    assert!(
        imported.stdout.contains("Imported CustomizationJob/"),
        "{}",
        imported.stdout
    );
    let clean = bedform(&moto, d, &["plan", "--detailed-exitcode", "exported"]).expect(0);
    assert!(clean.stdout.contains("No changes."), "{}", clean.stdout);

    // The tags went where they belong, and the user's own stayed.
    let group = rt
        .block_on(
            logs.describe_log_groups()
                .log_group_name_prefix("/bedrock/invocations")
                .send(),
        )
        .unwrap();
    let arn = group.log_groups()[0]
        .arn()
        .unwrap()
        .trim_end_matches(":*")
        .to_string();
    let tags = rt
        .block_on(logs.list_tags_for_resource().resource_arn(&arn).send())
        .unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(
        tags.get("bedform:stack").map(String::as_str),
        Some("adopted")
    );
    assert_eq!(tags.get("team").map(String::as_str), Some("ml"));
}

/// On the wire: an unowned role is refused by plan until imported; a role of
/// another stack is never imported; a differing log group plans its difference.
#[test]
fn import_over_the_wire() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let s3 = support::s3_client(&config);
    rt.block_on(async {
        iam.create_role()
            .role_name("bedrock-logging")
            .assume_role_policy_document(BEDROCK_TRUST)
            .send()
            .await
            .unwrap();
        iam.create_role()
            .role_name("theirs")
            .assume_role_policy_document(BEDROCK_TRUST)
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("bedform:stack")
                    .value("other")
                    .build()
                    .unwrap(),
            )
            .tags(
                aws_sdk_iam::types::Tag::builder()
                    .key("bedform:address")
                    .value("IamRole/theirs")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        logs.create_log_group()
            .log_group_name("/outside/made")
            .send()
            .await
            .unwrap();
        s3.create_bucket()
            .bucket("outside-made")
            .send()
            .await
            .unwrap();
    });
    let trust = r#"{Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: bedrock.amazonaws.com}, Action: "sts:AssumeRole"}]}"#;
    let manifest = format!(
        "{STACK}---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: logging-role}}\nspec:\n  roleName: bedrock-logging\n  trustPolicy: {trust}\n---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: theirs}}\nspec:\n  trustPolicy: {trust}\n{}---\napiVersion: bedform/v1\nkind: Bucket\nmetadata: {{name: data}}\nspec:\n  bucketName: outside-made\n  blockPublicAccess: false\n",
        log_group("made", "/outside/made", "")
    );
    std::fs::write(d.join("stack.yaml"), manifest).unwrap();
    let plan = bedform(&moto, d, &["plan", "stack.yaml"]).expect(1);
    assert!(
        plan.stdout.contains("? IamRole/logging-role"),
        "{}",
        plan.stdout
    );

    let no_tty = bedform(
        &moto,
        d,
        &[
            "import",
            "IamRole/logging-role",
            "bedrock-logging",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert!(
        no_tty.stderr.contains("not a terminal"),
        "{}",
        no_tty.stderr
    );
    let other = bedform(
        &moto,
        d,
        &[
            "import",
            "--auto-approve",
            "IamRole/theirs",
            "theirs",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert!(
        other.stderr.contains("belongs to stack `other`"),
        "{}",
        other.stderr
    );
    let unknown = bedform(
        &moto,
        d,
        &[
            "import",
            "--auto-approve",
            "Bucket/nope",
            "nope",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert!(
        unknown.stderr.contains("is not declared"),
        "{}",
        unknown.stderr
    );

    for (address, id) in [
        ("IamRole/logging-role", "bedrock-logging"),
        ("LogGroup/made", "/outside/made"),
        ("Bucket/data", "arn:aws:s3:::outside-made"),
    ] {
        bedform(
            &moto,
            d,
            &["import", "--auto-approve", address, id, "stack.yaml"],
        )
        .expect(0);
    }
    // Only the log group differs (no retention in AWS, 7 days declared), and the
    // other stack's role is still refused.
    let plan = bedform(&moto, d, &["plan", "stack.yaml"]).expect(1);
    assert!(plan.stdout.contains("~ LogGroup/made"), "{}", plan.stdout);
    assert!(plan.stdout.contains("retentionDays"), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("Changed outside bedform"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("? IamRole/theirs"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("Plan: 0 to create, 1 to update"),
        "{}",
        plan.stdout
    );
}

/// The race the plan cannot see: an object appears under a declared name after the
/// plan was made. The create finds it, and carries on only when it is this stack's
/// own object at this address (an earlier apply that was cut off); someone else's
/// is left exactly as it was.
#[test]
fn a_create_that_finds_someone_elses_object_changes_nothing() {
    use bedform::cloud::aws::{Aws, AwsSettings};
    use bedform::cloud::{Cloud, ErrorClass};
    use bedform::plan::Op;

    let moto = Moto::start();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let iam = aws_sdk_iam::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let s3 = support::s3_client(&config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let theirs = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    rt.block_on(async {
        iam.create_role()
            .role_name("their-role")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("their-role")
            .policy_name("theirs")
            .policy_document(theirs)
            .send()
            .await
            .unwrap();
        logs.create_log_group()
            .log_group_name("/their/group")
            .tags("bedform:stack", "other")
            .tags("bedform:address", "LogGroup/theirs")
            .send()
            .await
            .unwrap();
        logs.put_retention_policy()
            .log_group_name("/their/group")
            .retention_in_days(365)
            .send()
            .await
            .unwrap();
        s3.create_bucket()
            .bucket("their-bucket")
            .send()
            .await
            .unwrap();
        s3.put_object()
            .bucket("their-bucket")
            .key("data.jsonl")
            .body(b"{}".to_vec().into())
            .send()
            .await
            .unwrap();
    });

    let aws = with_moto_credentials(&moto, || {
        rt.block_on(Aws::connect(&AwsSettings {
            region: "us-east-1".into(),
            profile: None,
            endpoint_url: Some(moto.endpoint.clone()),
        }))
    });
    let ownership = |address: &str| {
        [
            ("bedform:stack", "demo"),
            ("bedform:address", address),
            ("bedform:spec-hash", "0123456789abcdef"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<std::collections::BTreeMap<_, _>>()
    };
    let create = |kind: &str, name: &str, attrs: serde_json::Value| Op::Create {
        kind: kind.into(),
        name: name.into(),
        attrs: attrs.as_object().cloned().unwrap_or_default(),
        tags: ownership(&format!("{kind}/{name}")),
        client_request_token: None,
    };
    let bedrock_trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
        "Action": "sts:AssumeRole"}]});
    for (op, object) in [
        (
            create(
                "IamRole",
                "their-role",
                serde_json::json!({
                    "path": "/", "trustPolicy": bedrock_trust, "inlinePolicies": {},
                    "managedPolicyArns": [], "description": null,
                    "maxSessionDuration": 3600, "permissionsBoundary": null,
                }),
            ),
            "role their-role",
        ),
        (
            create(
                "LogGroup",
                "/their/group",
                serde_json::json!({"retentionDays": 30, "kmsKeyId": null}),
            ),
            "log group /their/group",
        ),
        (
            create(
                "Bucket",
                "their-bucket",
                serde_json::json!({
                    "policy": null, "encryption": {"sse": "s3"},
                    "blockPublicAccess": true, "versioning": true,
                }),
            ),
            "bucket their-bucket",
        ),
    ] {
        let refused = rt
            .block_on(aws.execute(&op))
            .expect_err("someone else's object was taken over");
        assert_eq!(refused.class, ErrorClass::Conflict, "{refused}");
        assert!(
            refused.message.contains(&format!(
                "{object} already exists and is not managed by this stack"
            )),
            "{refused}"
        );
    }

    rt.block_on(async {
        let role = iam.get_role().role_name("their-role").send().await.unwrap();
        let role = role.role().unwrap();
        assert!(role.tags().is_empty(), "{:?}", role.tags());
        let document = bedform::policy::url_decode(role.assume_role_policy_document().unwrap());
        assert!(document.contains("ec2.amazonaws.com"), "{document}");
        let inline = iam
            .list_role_policies()
            .role_name("their-role")
            .send()
            .await
            .unwrap();
        assert_eq!(inline.policy_names(), ["theirs"]);
        let group = logs
            .describe_log_groups()
            .log_group_name_prefix("/their/group")
            .send()
            .await
            .unwrap();
        assert_eq!(group.log_groups()[0].retention_in_days(), Some(365));
        let tagging = s3.get_bucket_tagging().bucket("their-bucket").send().await;
        assert!(
            tagging.map(|t| t.tag_set().is_empty()).unwrap_or(true),
            "the bucket was tagged"
        );
        let versioning = s3
            .get_bucket_versioning()
            .bucket("their-bucket")
            .send()
            .await;
        if let Ok(versioning) = versioning {
            assert_eq!(versioning.status(), None, "the bucket was configured");
        }
    });

    // This stack's own object at this address, left by an apply cut off after its
    // create: the create carries on and brings it to the declared state.
    rt.block_on(
        logs.create_log_group()
            .log_group_name("/our/group")
            .tags("bedform:stack", "demo")
            .tags("bedform:address", "LogGroup//our/group")
            .send(),
    )
    .unwrap();
    rt.block_on(aws.execute(&create(
        "LogGroup",
        "/our/group",
        serde_json::json!({"retentionDays": 30}),
    )))
    .unwrap();
    let ours = rt
        .block_on(
            logs.describe_log_groups()
                .log_group_name_prefix("/our/group")
                .send(),
        )
        .unwrap();
    assert_eq!(ours.log_groups()[0].retention_in_days(), Some(30));
}

/// Credentials without a permission: the error names the IAM action and the
/// object, for reads (plan) and writes (apply), and what was done before is said.
#[test]
fn access_denied_names_the_action_and_the_object() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "logging-only");
    let path = stack.to_str().unwrap();

    moto.deny(&["logs:DescribeLogGroups"]);
    let plan = bedform(&moto, dir.path(), &["plan", path]).expect(1);
    assert!(
        plan.stderr.contains("logs:DescribeLogGroups")
            && plan
                .stderr
                .contains("the credentials are not allowed `logs:DescribeLogGroups`"),
        "{}",
        plan.stderr
    );

    moto.deny(&["iam:CreateRole"]);
    let applied = bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(1);
    let failed = applied
        .stdout
        .lines()
        .find(|l| l.starts_with("IamRole/") && l.contains("FAILED"))
        .unwrap_or_else(|| panic!("no failed role line:\n{}", applied.stdout));
    assert!(
        failed.contains("iam:CreateRole on role ")
            && failed.contains("AccessDenied")
            && failed.contains("(the credentials are not allowed `iam:CreateRole` on role "),
        "{failed}"
    );
    assert!(
        applied.stdout.contains("LogGroup/invocation-logs: done"),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stdout.contains("Apply incomplete"),
        "{}",
        applied.stdout
    );

    // Once allowed, a re-run finishes the rest.
    moto.deny(&[]);
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
}

/// `--profile` picks credentials from the shared files, `--endpoint-url` (the flag,
/// not the variable) points every client at the emulator, and the SDK's
/// `AWS_RETRY_MODE=adaptive` works.
#[test]
fn profile_and_endpoint_url_flags() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = copy_example(dir.path(), "logging-only");
    let config = dir.path().join("aws-config");
    let credentials = dir.path().join("aws-credentials");
    std::fs::write(&config, "[profile ci]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut command = Command::cargo_bin("bedform").unwrap();
        command
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            // The SDK's own retry setting is honoured (bedform's default is standard).
            .env("AWS_RETRY_MODE", "adaptive")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for key in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_PROFILE",
            "AWS_REGION",
        ] {
            command.env_remove(key);
        }
        let out = command.args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let path = stack.to_str().unwrap();
    let flags = ["--profile", "ci", "--endpoint-url", moto.endpoint.as_str()];
    let (code, stdout, stderr) = run(&[&flags[..], &["apply", "--auto-approve", path]].concat());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    // It reached the emulator, and nothing else: the proxy saw the calls.
    assert!(
        moto.counts()
            .get("sts:GetCallerIdentity")
            .copied()
            .unwrap_or(0)
            > 0,
        "{:?}",
        moto.counts()
    );
    // Another profile has no credentials: said in one line, nothing sent.
    let (code, _, stderr) = run(&[
        "--profile",
        "nobody",
        "--endpoint-url",
        moto.endpoint.as_str(),
        "plan",
        path,
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("no AWS credentials found for profile `nobody`"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn the_stub_refuses_what_the_service_model_refuses() {
    let moto = Moto::start();
    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    // No model unit, a name with a space, an unknown commitment: three breaks.
    let refused = rt
        .block_on(
            bedrock
                .create_provisioned_model_throughput()
                .provisioned_model_name("not a name")
                .model_id("amazon.nova-lite-v1:0")
                .model_units(0)
                .commitment_duration(aws_sdk_bedrock::types::CommitmentDuration::from(
                    "TwoMonths",
                ))
                .send(),
        )
        .expect_err("AWS refuses it");
    let message = format!("{:?}", refused.into_service_error());
    assert!(message.contains("ValidationException"), "{message}");
    let violations = moto.take_violations();
    assert_eq!(violations.len(), 1, "{violations:#?}");
    let found = &violations[0];
    for part in [
        "modelUnits: 0 is under the minimum 1",
        "`not a name` does not match the pattern",
        "`TwoMonths` is not one of",
    ] {
        assert!(found.contains(part), "no `{part}` in {found}");
    }
    // Nothing was made of it.
    let listed = rt
        .block_on(bedrock.list_provisioned_model_throughputs().send())
        .expect("list");
    assert!(listed.provisioned_model_summaries().is_empty());
    // And what bedform itself sends is within the model: taken is empty again.
    assert!(moto.take_violations().is_empty());
}
