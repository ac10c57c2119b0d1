//! `LogDelivery`: a knowledge base's vended logs delivered to a log group or a
//! bucket, as CloudWatch Logs' delivery source, delivery destination and
//! delivery: made together, tags changed in place, anything else remade with a
//! warning, and deleted in the right order. On the sandbox and against moto,
//! which implements the delivery APIs.

mod common;
mod support;

use bedform::plan::Action;
use common::{Account, change, edit, fast_clock};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: kb}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: kb-log-group}
spec:
  logGroupName: /bedrock/knowledge-bases/support
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: kb-archive}
spec:
  bucketName: acme-kb-archive
---
apiVersion: bedform/v1
kind: LogDelivery
metadata: {name: kb-logs}
spec:
  source: {resourceArn: "arn:aws:bedrock:us-east-1:123456789012:knowledge-base/KB12345ABC", logType: APPLICATION_LOGS}
  destination: {logGroup: {ref: kb-log-group}}
  tags: {team: search}
"#;

#[tokio::test]
async fn made_together_retagged_in_place_remade_for_a_new_destination() {
    let account = Account::new(fast_clock(0.2, 0.1));
    let plan = account.plan(STACK).await;
    assert_eq!(change(&plan, "LogDelivery/kb-logs").action, Action::Create);
    account.apply_plan(&plan, false).await;
    assert!(!account.plan(STACK).await.has_changes());

    let retagged = edit(STACK, "tags: {team: search}", "tags: {team: platform}");
    let plan = account.plan(&retagged).await;
    assert_eq!(change(&plan, "LogDelivery/kb-logs").action, Action::Update);
    account.apply_plan(&plan, false).await;

    let archived = edit(
        &retagged,
        "{logGroup: {ref: kb-log-group}}",
        "{bucket: {ref: kb-archive}}",
    );
    let plan = account.plan(&archived).await;
    let c = change(&plan, "LogDelivery/kb-logs");
    assert_eq!(c.action, Action::Replace);
    assert!(
        c.warnings.iter().any(|w| w.contains("not delivered")),
        "{c:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert!(!account.plan(&archived).await.has_changes());
}

#[test]
fn a_bad_delivery_is_refused_offline() {
    let dir = TempDir::new().unwrap();
    for (text, expected) in [
        (
            edit(
                STACK,
                "{logGroup: {ref: kb-log-group}}",
                "{logGroup: {ref: kb-log-group}, firehoseArn: \"arn:aws:firehose:us-east-1:123456789012:deliverystream/x\"}",
            ),
            "`destination` takes exactly one of",
        ),
        (
            edit(
                STACK,
                "logType: APPLICATION_LOGS",
                "logType: APPLICATION LOGS",
            ),
            "`source.logType`",
        ),
        (
            edit(
                STACK,
                "metadata: {name: kb-logs}\nspec:\n",
                "metadata: {name: kb-logs}\nspec:\n  deliveryName: kb.logs\n",
            ),
            "`deliveryName` `kb.logs`",
        ),
    ] {
        std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
        let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
        common::assert_contains(&out.stderr, expected);
        common::assert_contains(&out.stderr, "stack.yaml:");
    }
}

#[test]
fn log_delivery_against_moto() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let deliveries = || {
        rt.block_on(logs.describe_deliveries().send())
            .unwrap()
            .deliveries()
            .iter()
            .map(|d| d.delivery_source_name().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(deliveries(), ["kb-logs"]);
    let source = rt
        .block_on(logs.get_delivery_source().name("kb-logs").send())
        .unwrap()
        .delivery_source
        .expect("a source");
    assert_eq!(source.log_type(), Some("APPLICATION_LOGS"));
    assert_eq!(
        source
            .tags()
            .and_then(|t| t.get("bedform:address"))
            .map(String::as_str),
        Some("LogDelivery/kb-logs")
    );

    // A new destination: the three are made again.
    std::fs::write(
        dir.path().join("stack.yaml"),
        edit(
            STACK,
            "{logGroup: {ref: kb-log-group}}",
            "{bucket: {ref: kb-archive}}",
        ),
    )
    .unwrap();
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "1 to replace");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let destination = rt
        .block_on(logs.get_delivery_destination().name("kb-logs").send())
        .unwrap()
        .delivery_destination
        .expect("a destination");
    assert_eq!(
        destination
            .delivery_destination_configuration()
            .map(|c| c.destination_resource_arn()),
        Some("arn:aws:s3:::acme-kb-archive")
    );

    // No longer declared: delivery, destination and source deleted.
    let documents: Vec<&str> = STACK.split("\n---\n").collect();
    std::fs::write(
        dir.path().join("stack.yaml"),
        documents[..documents.len() - 1].join("\n---\n"),
    )
    .unwrap();
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    assert!(deliveries().is_empty());
    assert!(
        rt.block_on(logs.get_delivery_source().name("kb-logs").send())
            .is_err()
    );
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
}
