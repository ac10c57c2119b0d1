//! Acceptance against a real AWS account: opt-in, with `BEDFORM_ACCEPTANCE=1`.
//! Without it every test says it was skipped and passes at once, so the suite
//! always compiles and `cargo test` never reaches AWS by accident.
//!
//! ```text
//! BEDFORM_ACCEPTANCE=1 AWS_PROFILE=sandbox cargo test --test acceptance -- --nocapture
//! ```
//!
//! It creates only what costs nothing or cents, under names that carry a random
//! suffix, and deletes all of it before it ends, pass or fail: an S3 bucket
//! `bedform-acceptance-ACCOUNT-SUFFIX` (empty), a CloudWatch log group
//! `/bedform/acceptance/SUFFIX` (1-day retention, no events) and an IAM role
//! `bedform-acceptance-SUFFIX` that Bedrock may assume. With
//! `BEDFORM_ACCEPTANCE_LOGGING=1`, and only in a region where model invocation
//! logging is not configured, it also turns logging on to that group and bucket and
//! off again (no invocation is made, so nothing is logged). No customization job,
//! no provisioned throughput, no model agreement: those cost money.
//!
//! Region: `BEDFORM_ACCEPTANCE_REGION`, else `AWS_REGION`, else `us-east-1`.
//! Permissions: `sts:GetCallerIdentity`; `s3:CreateBucket`, `s3:DeleteBucket`,
//! `s3:ListBucket`, `s3:DeleteObject`, `s3:Get*`/`s3:Put*` of the bucket's
//! configuration (tags, versioning, encryption, public access block, policy,
//! ownership); `logs:CreateLogGroup`, `logs:DeleteLogGroup`,
//! `logs:DescribeLogGroups`, `logs:PutRetentionPolicy`, `logs:TagResource`,
//! `logs:UntagResource`, `logs:ListTagsForResource`; `iam:CreateRole`,
//! `iam:DeleteRole`, `iam:GetRole`, `iam:UpdateRole`,
//! `iam:UpdateAssumeRolePolicy`, `iam:PutRolePolicy`, `iam:DeleteRolePolicy`,
//! `iam:ListRolePolicies`, `iam:GetRolePolicy`, `iam:ListAttachedRolePolicies`,
//! `iam:TagRole`, `iam:UntagRole`, `iam:ListRoleTags`, `iam:ListRoles`;
//! `tag:GetResources`; `bedrock:List*`/`bedrock:Get*` (plan reads jobs, models
//! and throughput); with logging, `bedrock:Put`/`Get`/
//! `DeleteModelInvocationLoggingConfiguration` and `iam:PassRole` on the role.

mod common;

use std::path::Path;

use common::run;

fn enabled(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|v| v == "1")
}

/// Whether the suite runs; says so when it does not.
fn skip(test: &str) -> bool {
    if enabled("BEDFORM_ACCEPTANCE") {
        return false;
    }
    println!("{test}: skipped (set BEDFORM_ACCEPTANCE=1 to run it against a real AWS account)");
    true
}

fn region() -> String {
    std::env::var("BEDFORM_ACCEPTANCE_REGION")
        .or_else(|_| std::env::var("AWS_REGION"))
        .unwrap_or_else(|_| "us-east-1".into())
}

/// The AWS names of one run.
struct Names {
    account: String,
    region: String,
    bucket: String,
    log_group: String,
    role: String,
}

/// The SDK clients that check what bedform did, and clean up whatever it left.
struct Account {
    runtime: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    iam: aws_sdk_iam::Client,
    bedrock: aws_sdk_bedrock::Client,
    names: Names,
    /// Whether this run turned invocation logging on (and must turn it off).
    logging: bool,
}

impl Account {
    fn connect() -> Account {
        let runtime = common::runtime();
        let region = region();
        let config = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region.clone()))
                .load(),
        );
        let sts = aws_sdk_sts::Client::new(&config);
        let account = runtime
            .block_on(sts.get_caller_identity().send())
            .expect("AWS credentials for the acceptance account")
            .account
            .expect("an account id");
        let suffix = format!(
            "{:08x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("a clock after 1970")
                .subsec_nanos()
                ^ std::process::id()
        );
        let names = Names {
            bucket: format!("bedform-acceptance-{account}-{suffix}"),
            log_group: format!("/bedform/acceptance/{suffix}"),
            role: format!("bedform-acceptance-{suffix}"),
            account,
            region,
        };
        Account {
            s3: aws_sdk_s3::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            bedrock: aws_sdk_bedrock::Client::new(&config),
            runtime,
            names,
            logging: false,
        }
    }

    fn bucket_exists(&self) -> bool {
        let head = self.s3.head_bucket().bucket(&self.names.bucket).send();
        self.runtime.block_on(head).is_ok()
    }

    fn log_group_retention(&self) -> Option<Option<i32>> {
        let describe = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&self.names.log_group)
            .send();
        let found = self.runtime.block_on(describe).expect("DescribeLogGroups");
        found
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(self.names.log_group.as_str()))
            .map(|g| g.retention_in_days())
    }

    fn role_tags(&self) -> Option<Vec<(String, String)>> {
        let get = self.iam.get_role().role_name(&self.names.role).send();
        let role = self.runtime.block_on(get).ok()?.role?;
        Some(
            role.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        )
    }

    fn logging_configured(&self) -> bool {
        let get = self
            .bedrock
            .get_model_invocation_logging_configuration()
            .send();
        let config = self
            .runtime
            .block_on(get)
            .expect("GetModelInvocationLoggingConfiguration");
        config.logging_config().is_some()
    }
}

impl Drop for Account {
    /// Deletes whatever of the run is left, whether bedform deleted it or not.
    fn drop(&mut self) {
        let names = &self.names;
        self.runtime.block_on(async {
            if self.logging {
                let _ = self
                    .bedrock
                    .delete_model_invocation_logging_configuration()
                    .send()
                    .await;
            }
            if let Ok(policies) = self
                .iam
                .list_role_policies()
                .role_name(&names.role)
                .send()
                .await
            {
                for policy in policies.policy_names() {
                    let _ = self
                        .iam
                        .delete_role_policy()
                        .role_name(&names.role)
                        .policy_name(policy)
                        .send()
                        .await;
                }
                let _ = self.iam.delete_role().role_name(&names.role).send().await;
            }
            let _ = self
                .logs
                .delete_log_group()
                .log_group_name(&names.log_group)
                .send()
                .await;
            if let Ok(objects) = self.s3.list_objects_v2().bucket(&names.bucket).send().await {
                for object in objects.contents() {
                    if let Some(key) = object.key() {
                        let _ = self
                            .s3
                            .delete_object()
                            .bucket(&names.bucket)
                            .key(key)
                            .send()
                            .await;
                    }
                }
                let _ = self.s3.delete_bucket().bucket(&names.bucket).send().await;
            }
        });
    }
}

fn write_stack(dir: &Path, names: &Names, team: &str, resources: bool, logging: Option<&str>) {
    let mut text = format!(
        "apiVersion: bedform/v1
kind: Stack
metadata: {{name: acceptance}}
spec:
  region: {region}
  accountId: \"{account}\"
  tags: {{team: {team}}}
",
        region = names.region,
        account = names.account,
    );
    if resources {
        text.push_str(&format!(
            "---
apiVersion: bedform/v1
kind: Bucket
metadata: {{name: data}}
spec:
  bucketName: {bucket}
  allowBedrockLogDelivery: true
  deletionPolicy: delete
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {{name: logs}}
spec:
  logGroupName: {log_group}
  retentionDays: 1
  deletionPolicy: delete
---
apiVersion: bedform/v1
kind: IamRole
metadata: {{name: logging-role}}
spec:
  roleName: {role}
  assumedBy: bedrock
  inlinePolicies:
    write-logs:
      Version: \"2012-10-17\"
      Statement:
        - Effect: Allow
          Action: [logs:CreateLogStream, logs:PutLogEvents]
          Resource: \"${{logs.arn}}:*\"
",
            bucket = names.bucket,
            log_group = names.log_group,
            role = names.role,
        ));
    }
    if let Some(logging) = logging {
        text.push_str(&format!(
            "---
apiVersion: bedform/v1
kind: InvocationLogging
metadata: {{name: logging}}
spec:
{logging}"
        ));
    }
    std::fs::write(dir.join("stack.yaml"), text).expect("the manifest is written");
}

const LOGGING_ON: &str = "  cloudWatch: {logGroup: {ref: logs}, role: {ref: logging-role}}
  s3: {bucket: {ref: data}, keyPrefix: invocation-logs/}
  deliver: [text]
";

/// Runs bedform, failing the test with its output unless it exits with `code`.
fn bedform(dir: &Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.code,
        code,
        "bedform {}:\n{}\n{}",
        args.join(" "),
        out.stdout,
        out.stderr
    );
    out.stdout
}

#[test]
fn a_stack_is_created_settles_changes_in_place_and_is_deleted() {
    if skip("a_stack_is_created_settles_changes_in_place_and_is_deleted") {
        return;
    }
    let mut account = Account::connect();
    let logging = enabled("BEDFORM_ACCEPTANCE_LOGGING") && !account.logging_configured();
    if enabled("BEDFORM_ACCEPTANCE_LOGGING") && !logging {
        println!("invocation logging is configured in this region already: left alone");
    }
    let dir = tempfile::tempdir().expect("a folder");
    let on = logging.then_some(LOGGING_ON);
    write_stack(dir.path(), &account.names, "ml", true, on);

    bedform(dir.path(), &["validate", "."], 0);
    let planned = bedform(dir.path(), &["plan", ".", "--out", "plan.json"], 0);
    common::assert_contains(&planned, &account.names.bucket);
    account.logging = logging;
    bedform(
        dir.path(),
        &["apply", "--plan", "plan.json", "--auto-approve"],
        0,
    );
    assert!(account.bucket_exists(), "the bucket was created");
    assert_eq!(account.log_group_retention(), Some(Some(1)));
    let tags = account.role_tags().expect("the role was created");
    assert!(tags.contains(&("team".into(), "ml".into())), "{tags:?}");
    assert!(
        tags.iter()
            .any(|(k, v)| k == "bedform:stack" && v == "acceptance"),
        "{tags:?}"
    );
    if logging {
        assert!(account.logging_configured(), "logging was turned on");
    }

    // Settled: nothing to do.
    bedform(dir.path(), &["plan", ".", "--detailed-exitcode"], 0);

    // A stack tag changes everything in place.
    write_stack(dir.path(), &account.names, "platform", true, on);
    let planned = bedform(dir.path(), &["plan", ".", "--detailed-exitcode"], 2);
    assert!(!planned.contains("replace"), "{planned}");
    bedform(dir.path(), &["apply", ".", "--auto-approve"], 0);
    let tags = account.role_tags().expect("the role is still there");
    assert!(
        tags.contains(&("team".into(), "platform".into())),
        "{tags:?}"
    );
    bedform(dir.path(), &["plan", ".", "--detailed-exitcode"], 0);

    // Removed from the manifests: deleted (deletionPolicy: delete), logging off.
    let off = logging.then_some("  state: absent\n");
    write_stack(dir.path(), &account.names, "platform", false, off);
    bedform(dir.path(), &["apply", ".", "--auto-approve"], 0);
    assert!(!account.bucket_exists(), "the bucket was deleted");
    assert_eq!(
        account.log_group_retention(),
        None,
        "the log group was deleted"
    );
    assert_eq!(account.role_tags(), None, "the role was deleted");
    if logging {
        assert!(!account.logging_configured(), "logging was turned off");
    }
}

#[test]
fn the_account_reads_and_model_lists_work() {
    if skip("the_account_reads_and_model_lists_work") {
        return;
    }
    let account = Account::connect();
    let dir = tempfile::tempdir().expect("a folder");
    write_stack(dir.path(), &account.names, "ml", false, None);
    // A stack of nothing plans nothing in any account: every list and read the
    // plan makes is allowed and answered.
    bedform(dir.path(), &["plan", ".", "--detailed-exitcode"], 0);
    let status = run(dir.path(), ["status", "."]);
    assert!(status.code == 0, "{}\n{}", status.stdout, status.stderr);
}
