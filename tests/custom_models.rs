//! `CustomModel` declared on its own (`CreateCustomModel`): a model brought in
//! from S3 or a SageMaker model package, made once under a name that carries the
//! source's hash, served by a deployment that waits for it, replaced by a new
//! model when the source changes (the deployment swapped in place, the old model
//! deleted once nothing serves it). On the sandbox, and over the wire through the
//! SDK to the stub of the moto proxy (moto has no CreateCustomModel).

mod common;
mod support;

use bedform::plan::{Action, Op, Plan};
use common::{Account, change, changes, edit, fast_clock};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: checkpoints}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: models}
spec:
  bucketName: acme-models
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: import-role}
spec:
  roleName: import-role
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: CustomModel
metadata: {name: nova-checkpoint}
spec:
  source: {s3Uri: "s3://acme-models/nova-lite-sft/"}
  role: {ref: import-role}
---
apiVersion: bedform/v1
kind: CustomModelDeployment
metadata: {name: serving}
spec:
  model: {ref: nova-checkpoint}
  check: {prompt: "Say OK", expect: "OK"}
"#;

const V2: &str = "s3://acme-models/nova-lite-sft-v2/";

fn acting(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| format!("{} {} {:?}", c.address, c.aws_name, c.action))
        .collect()
}

fn problems(text: &str) -> String {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
    common::run(dir.path(), ["validate", "stack.yaml"]).stderr
}

#[test]
fn the_source_role_and_key_are_checked_offline() {
    assert_eq!(problems(STACK), "");
    let package =
        "modelPackageArn: \"arn:aws:sagemaker:us-east-1:123456789012:model-package/nova/1\"";
    let cases = [
        (
            edit(
                STACK,
                "{s3Uri: \"s3://acme-models/nova-lite-sft/\"}",
                &format!("{{s3Uri: \"s3://acme-models/x/\", {package}}}"),
            ),
            "`source` takes exactly one of `s3Uri` and `modelPackageArn`",
        ),
        (
            edit(
                STACK,
                "  role: {ref: import-role}\n---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
                "---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
            ),
            "a model from S3 needs a `role`",
        ),
        (
            edit(
                STACK,
                "s3Uri: \"s3://acme-models/nova-lite-sft/\"",
                "modelPackageArn: \"arn:aws:sagemaker:us-east-1:123456789012:model/nova\"",
            ),
            "`source.modelPackageArn` is not a SageMaker model package ARN",
        ),
        (
            edit(
                STACK,
                "  role: {ref: import-role}\n---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
                "  role: {ref: import-role}\n  kmsKeyId: alias/models\n---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
            ),
            "`kmsKeyId` is not a KMS key ARN",
        ),
    ];
    for (text, expected) in cases {
        let found = problems(&text);
        assert!(found.contains(expected), "no `{expected}` in:\n{found}");
        assert!(found.contains("stack.yaml:"), "{found}");
    }
    // A model package needs no role.
    let from_package = edit(
        &edit(STACK, "s3Uri: \"s3://acme-models/nova-lite-sft/\"", package),
        "  role: {ref: import-role}\n---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
        "---\napiVersion: bedform/v1\nkind: CustomModelDeployment",
    );
    assert_eq!(problems(&from_package), "");
}

#[tokio::test]
async fn a_model_from_s3_is_served_and_replaced_when_its_source_changes() {
    let account = Account::new(fast_clock(0.2, 0.3));
    let plan = account.plan(STACK).await;
    let model = change(&plan, "CustomModel/nova-checkpoint");
    assert_eq!(model.action, Action::Create);
    let first = model.aws_name.clone();
    assert!(first.starts_with("nova-checkpoint-"), "{first}");
    assert!(matches!(
        &model.ops[..],
        [Op::Create { client_request_token: Some(t), .. }] if t.starts_with("bedform-")
    ));
    assert!(
        model
            .warnings
            .iter()
            .any(|w| w.contains("a new custom model")),
        "{model:#?}"
    );
    // The deployment waits for the model to be created.
    let deploy = change(&plan, "CustomModelDeployment/serving");
    let wait = deploy.waits_on.as_ref().expect("waits on the model");
    assert_eq!(wait.address.to_string(), "CustomModel/nova-checkpoint");
    account.apply_plan(&plan, true).await;
    assert_eq!(
        account.status("CustomModel", &first).await.as_deref(),
        Some("Active")
    );
    assert_eq!(
        account
            .status("CustomModelDeployment", "serving")
            .await
            .as_deref(),
        Some("Active")
    );
    assert!(acting(&account.plan(STACK).await).is_empty());

    // A new source: a new model; the deployment is swapped to it once it is
    // Active; the old model is kept while it is served, then deleted.
    let moved = edit(STACK, "s3://acme-models/nova-lite-sft/", V2);
    let plan = account.plan(&moved).await;
    let models = changes(&plan, "CustomModel/nova-checkpoint");
    let new = models
        .iter()
        .find(|c| c.action == Action::Create)
        .expect("a new model");
    assert_ne!(new.aws_name, first);
    let old = models
        .iter()
        .find(|c| c.aws_name == first)
        .expect("the old model");
    assert_eq!(old.action, Action::NoOp, "{old:#?}");
    let swap = change(&plan, "CustomModelDeployment/serving");
    assert_eq!(swap.action, Action::Wait, "{swap:#?}");
    account.apply_plan(&plan, true).await;
    let observed = account.observed().await;
    let deployed = observed
        .find("CustomModelDeployment", "serving")
        .expect("deployed");
    assert_eq!(
        deployed.attrs.get("model").and_then(|m| m.as_str()),
        Some(format!("custom-model/{}", new.aws_name).as_str())
    );
    let plan = account.plan(&moved).await;
    let old = changes(&plan, "CustomModel/nova-checkpoint")
        .into_iter()
        .find(|c| c.aws_name == first)
        .expect("the old model");
    assert_eq!(old.action, Action::Delete, "{old:#?}");
    account.apply_plan(&plan, false).await;
    assert!(!account.exists("CustomModel", &first).await);
    assert!(acting(&account.plan(&moved).await).is_empty());
}

#[test]
fn custom_models_over_the_wire() {
    let moto = Moto::start();
    moto.set_creating_seconds(0.5);
    let create = "bedrock:POST /custom-models/create-custom-model";
    moto.record_requests(&[create]);
    moto.set_converse("OK from the checkpoint", 0, None);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let applied = run(&["apply", "--auto-approve", "--wait", "stack.yaml"]).expect(0);
    common::assert_contains(&applied.stdout, "CustomModelDeployment/serving: passed in ");
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let sent = moto.requests(create);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0];
    assert!(
        body["modelName"]
            .as_str()
            .is_some_and(|n| n.starts_with("nova-checkpoint-")),
        "{body:#}"
    );
    assert_eq!(
        body["modelSourceConfig"]["s3DataSource"]["s3Uri"],
        "s3://acme-models/nova-lite-sft/"
    );
    assert_eq!(
        body["roleArn"],
        "arn:aws:iam::123456789012:role/import-role"
    );
    assert!(
        body["clientRequestToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("bedform-"))
    );

    // A new source: a new model, the deployment swapped to it, then the old
    // model deleted by the next apply.
    std::fs::write(
        dir.path().join("stack.yaml"),
        edit(STACK, "s3://acme-models/nova-lite-sft/", V2),
    )
    .unwrap();
    run(&["apply", "--auto-approve", "--wait", "stack.yaml"]).expect(0);
    let plan = run(&["plan", "stack.yaml"]).expect(0);
    common::assert_contains(&plan.stdout, "1 to delete");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_job_customizes_a_declared_model_once_it_is_active() {
    let account = Account::new(fast_clock(0.2, 0.3));
    let job = r#"---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: tuned}
spec:
  type: fineTuning
  baseModel: {ref: nova-checkpoint}
  hyperParameters: {epochCount: 1}
  trainingData: {s3Uri: "s3://acme-models/train.jsonl"}
  output: {s3Uri: "s3://acme-models/out/"}
  role: {ref: import-role}
"#;
    let text = format!("{STACK}{job}");
    let plan = account.plan(&text).await;
    let model = change(&plan, "CustomModel/nova-checkpoint")
        .aws_name
        .clone();
    let training = changes(&plan, "CustomizationJob/tuned")
        .into_iter()
        .find(|c| c.retrains)
        .expect("a job");
    let wait = training.waits_on.as_ref().expect("waits on the model");
    assert_eq!(wait.address.to_string(), "CustomModel/nova-checkpoint");
    assert!(matches!(
        &training.ops[..],
        [Op::Create { attrs, .. }] if attrs["baseModel"] == format!("custom-model/{model}").as_str()
    ));
    account.apply_plan(&plan, true).await;
    assert_eq!(
        account
            .status("CustomizationJob", &training.aws_name)
            .await
            .as_deref(),
        Some("Completed")
    );
    assert!(acting(&account.plan(&text).await).is_empty());
}
