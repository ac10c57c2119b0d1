//! `CustomizationJob` `type: reinforcementFineTuning`: a Lambda grader and RFT's
//! own hyper-parameters, checked offline against the API's rules, trained on the
//! sandbox as the other types are (create-once names, retrain, swap), and sent to
//! moto as `rftConfig` (read at the proxy: moto keeps no customization config).

mod common;
mod support;

use bedform::cloud::sandbox::Timing;
use bedform::plan::{Action, Op};
use common::{Account, change, edit, fast_clock};
use serde_json::json;
use support::Moto;
use tempfile::TempDir;

const GRADER: &str = "arn:aws:lambda:us-east-1:123456789012:function:grade";

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: rft}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: data}
spec:
  bucketName: rft-data
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: role}
spec:
  roleName: rft-role
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: reinforce}
spec:
  type: reinforcementFineTuning
  baseModel: amazon.nova-lite-v1:0:300k
  grader: {lambda: "arn:aws:lambda:us-east-1:123456789012:function:grade"}
  hyperParameters: {epochCount: 2, batchSize: 64, learningRate: 0.00001, reasoningEffort: medium}
  trainingData: {s3Uri: "s3://rft-data/prompts.jsonl"}
  output: {s3Uri: "s3://rft-data/out/"}
  role: {ref: role}
---
apiVersion: bedform/v1
kind: CustomModelDeployment
metadata: {name: serving}
spec:
  model: {ref: reinforce}
"#;

/// The errors `validate` prints for `text`, or none.
fn problems(text: &str) -> String {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    common::run(dir.path(), ["validate", "stack.yaml"]).stderr
}

#[test]
fn the_types_fields_are_checked_against_each_other() {
    assert_eq!(problems(STACK), "", "the stack is valid");
    let cases = [
        (
            edit(STACK, &format!("  grader: {{lambda: \"{GRADER}\"}}\n"), ""),
            "`type: reinforcementFineTuning` needs a `grader`",
        ),
        (
            edit(STACK, "type: reinforcementFineTuning", "type: fineTuning"),
            "`grader` is only used with `type: reinforcementFineTuning`",
        ),
        (
            edit(STACK, "type: reinforcementFineTuning", "type: fineTuning"),
            "hyper-parameter `reasoningEffort` is a reinforcementFineTuning hyper-parameter",
        ),
        (
            edit(STACK, "batchSize: 64", "learningRateWarmupSteps: 4"),
            "hyper-parameter `learningRateWarmupSteps` is not a reinforcementFineTuning hyper-parameter",
        ),
        (
            edit(STACK, "batchSize: 64", "batchSize: 8"),
            "hyper-parameter `batchSize` must be a whole number from 16 to 512",
        ),
        (
            edit(STACK, "reasoningEffort: medium", "reasoningEffort: extreme"),
            "hyper-parameter `reasoningEffort` must be `low`, `medium` or `high`",
        ),
        (
            edit(STACK, "learningRate: 0.00001", "learningRate: 0.01"),
            "hyper-parameter `learningRate` must be a number from 0.0000001 to 0.001",
        ),
        (
            edit(
                STACK,
                GRADER,
                "arn:aws:lambda:us-east-1:123456789012:layer:grade",
            ),
            "`grader.lambda`: is not a Lambda function ARN",
        ),
        (
            edit(
                STACK,
                "  role: {ref: role}\n---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
                "  role: {ref: role}\n  teacher: {model: amazon.nova-pro-v1:0}\n---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
            ),
            "`teacher` is only used with `type: distillation`",
        ),
    ];
    for (text, expected) in cases {
        let found = problems(&text);
        assert!(found.contains(expected), "no `{expected}` in:\n{found}");
        assert!(found.contains("stack.yaml:"), "{found}");
    }
    // A placeholder stands for a grader ARN that is known only once resolved.
    let placeholder = edit(
        STACK,
        GRADER,
        "arn:aws:lambda:${region}:${account}:function:grade",
    );
    assert_eq!(problems(&placeholder), "");
}

#[tokio::test]
async fn rft_trains_once_retrains_on_a_change_and_is_swapped_in_place() {
    let account = Account::new(Timing {
        ..fast_clock(0.2, 0.1)
    });
    let plan = account.plan(STACK).await;
    let job = change(&plan, "CustomizationJob/reinforce");
    assert_eq!(job.action, Action::Create);
    let (name, attrs, token) = match &job.ops[..] {
        [
            Op::Create {
                name,
                attrs,
                client_request_token: Some(token),
                ..
            },
        ] => (name.clone(), attrs.clone(), token.clone()),
        other => panic!("one create with a token: {other:#?}"),
    };
    assert!(name.starts_with("reinforce-"), "{name}");
    assert!(token.starts_with("bedform-"), "{token}");
    assert_eq!(attrs["customizationType"], "REINFORCEMENT_FINE_TUNING");
    assert_eq!(attrs["graderLambdaArn"], GRADER);
    assert_eq!(
        attrs["hyperParameters"],
        json!({"batchSize": "64", "epochCount": "2", "learningRate": "0.00001", "reasoningEffort": "medium"})
    );
    account.apply_plan(&plan, true).await;
    assert_eq!(
        account.status("CustomizationJob", &name).await.as_deref(),
        Some("Completed")
    );
    let settled = account.plan(STACK).await;
    assert!(!settled.has_changes(), "{settled:#?}");

    // Another grader is another training: a new job under a new name, and the
    // deployment waits for its model, then swaps in place.
    let regraded = edit(STACK, "function:grade", "function:grade-v2");
    let plan = account.plan(&regraded).await;
    let retrain = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "CustomizationJob/reinforce" && c.retrains)
        .expect("a retrain");
    assert_ne!(retrain.aws_name, name);
    assert_eq!(
        change(&plan, "CustomModelDeployment/serving").action,
        Action::Wait
    );
    account.apply_plan(&plan, true).await;
    assert!(!account.plan(&regraded).await.has_changes());
}

#[test]
fn the_create_request_carries_the_rft_config() {
    let moto = Moto::start();
    let create = "bedrock:POST /model-customization-jobs";
    moto.record_requests(&[create]);
    let dir = TempDir::new().unwrap();
    // Only the job (and what it needs): moto has no deployments.
    let documents: Vec<&str> = STACK.split("\n---\n").collect();
    let text = documents[..documents.len() - 1].join("\n---\n");
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    let out = common::run_with(
        dir.path(),
        &moto.env(),
        ["apply", "--auto-approve", "stack.yaml"],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let sent = moto.requests(create);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let sent = &sent[0];
    assert_eq!(sent["customizationType"], "REINFORCEMENT_FINE_TUNING");
    let rft = &sent["customizationConfig"]["rftConfig"];
    assert_eq!(rft["graderConfig"]["lambdaGrader"]["lambdaArn"], GRADER);
    // RFT's hyper-parameters are typed members of rftConfig, not the job's
    // string map. The learning rate is the API's 32-bit float, which the SDK
    // writes out widened.
    let hyper = &rft["hyperParameters"];
    assert_eq!(hyper["epochCount"], 2, "{sent:#}");
    assert_eq!(hyper["batchSize"], 64, "{sent:#}");
    assert_eq!(hyper["reasoningEffort"], "medium", "{sent:#}");
    assert_eq!(
        hyper["learningRate"].as_f64().map(|r| r as f32),
        Some(0.00001_f32)
    );
    assert_eq!(hyper.as_object().map(|h| h.len()), Some(4), "{sent:#}");
    assert!(sent.get("hyperParameters").is_none(), "{sent:#}");
    assert!(
        sent["clientRequestToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("bedform-"))
    );
}
