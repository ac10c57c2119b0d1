//! `CustomModelDeployment`: a custom model served on demand. On the sandbox with a
//! fast clock: distil, deploy, retrain and swap the new model in place; replace
//! for what the API cannot update; delete what is no longer declared. Over the
//! wire, through the SDK to the stub of the moto proxy (moto has no deployments):
//! the requests, tokens, tags, paging, the swap and the smoke check.

mod common;
mod support;

use bedform::apply::Outcome;
use bedform::cloud::sandbox::Timing;
use bedform::plan::{Action, Op, Plan};
use common::{Account, acting, change, changes, edit, fast_clock, outcome_of, runtime};
use serde_json::json;
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: data}
spec:
  bucketName: demo-data
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: role}
spec:
  roleName: demo-role
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: job}
spec:
  type: distillation
  baseModel: amazon.nova-lite-v1:0
  teacher: {model: amazon.nova-pro-v1:0, maxResponseLength: 1000}
  trainingData: {s3Uri: "s3://demo-data/prompts.jsonl"}
  output: {s3Uri: "s3://demo-data/output/"}
  role: {ref: role}
---
apiVersion: bedform/v1
kind: CustomModelDeployment
metadata: {name: serving}
spec:
  model: {ref: job}
  deploymentName: support-bot
  description: served on demand
"#;

fn fast() -> Timing {
    fast_clock(0.2, 0.1)
}

fn model_of(account_plan: &Plan) -> String {
    account_plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "CustomizationJob/job" && c.retrains)
        .and_then(|c| {
            c.ops.iter().find_map(|op| match op {
                Op::Create { attrs, .. } => attrs
                    .get("customModelName")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                _ => None,
            })
        })
        .expect("a job that trains a model")
}

#[tokio::test]
async fn distil_deploy_retrain_and_swap_in_place() {
    let account = Account::new(fast());
    let first = account.plan(STACK).await;
    let create = change(&first, "CustomModelDeployment/serving");
    assert_eq!(create.action, Action::Create);
    // Created once the job has trained its model, with a deterministic token.
    let wait = create.waits_on.as_ref().expect("waits on the job");
    assert_eq!(wait.address.to_string(), "CustomizationJob/job");
    let token = match &create.ops[..] {
        [
            Op::Create {
                client_request_token: Some(token),
                ..
            },
        ] => token.clone(),
        other => panic!("one create with a token: {other:#?}"),
    };
    assert!(token.starts_with("bedform-"), "{token}");
    let again = account.plan(STACK).await;
    assert!(matches!(
        &change(&again, "CustomModelDeployment/serving").ops[..],
        [Op::Create { client_request_token: Some(t), .. }] if *t == token
    ));
    assert!(
        create
            .warnings
            .iter()
            .any(|w| w.contains("a new on-demand deployment")
                && w.contains("billed per token")
                && w.contains("no hourly charge")),
        "{create:#?}"
    );
    let trained = model_of(&first);

    let report = account.apply_plan(&first, true).await;
    assert_eq!(
        outcome_of(&report, "CustomModelDeployment/serving"),
        &Outcome::Done
    );
    assert_eq!(
        account
            .status("CustomModelDeployment", "support-bot")
            .await
            .as_deref(),
        Some("Active")
    );
    let observed = account.observed().await;
    let deployed = observed
        .find("CustomModelDeployment", "support-bot")
        .expect("deployed");
    let arn = deployed.arn.clone().expect("an ARN");
    assert_eq!(
        deployed.attrs.get("model"),
        Some(&json!(format!("custom-model/{trained}")))
    );
    assert!(acting(&account.plan(STACK).await).is_empty());

    // Retrain: the deployment keeps serving the old model until the new one is
    // trained, then is pointed at it in place; the old model goes after that.
    let retrain = edit(STACK, "maxResponseLength: 1000", "maxResponseLength: 2000");
    let plan = account.plan(&retrain).await;
    let retrained = model_of(&plan);
    let swap = change(&plan, "CustomModelDeployment/serving");
    assert_eq!(swap.action, Action::Wait, "{swap:#?}");
    assert!(
        matches!(&swap.ops[..], [Op::Update { name, fields, .. }] if name == "support-bot" && fields == &["model"]),
        "{:#?}",
        swap.ops
    );
    assert_eq!(
        swap.waits_on.as_ref().map(|w| w.name.clone()),
        Some(retrained.clone())
    );
    let old = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "CustomizationJob" && c.aws_name == trained)
        .expect("the superseded model is planned");
    assert_eq!(old.action, Action::Delete, "{old:#?}");
    assert!(
        old.depends_on
            .iter()
            .any(|a| a.to_string() == "CustomModelDeployment/serving"),
        "{old:#?}"
    );
    account.apply_plan(&plan, true).await;
    let observed = account.observed().await;
    let swapped = observed
        .find("CustomModelDeployment", "support-bot")
        .expect("still deployed");
    assert_eq!(swapped.arn.as_deref(), Some(arn.as_str()), "the same ARN");
    assert_eq!(
        swapped.attrs.get("model"),
        Some(&json!(format!("custom-model/{retrained}")))
    );
    assert!(!account.exists("CustomModel", &trained).await);
    assert!(acting(&account.plan(&retrain).await).is_empty());
}

#[tokio::test]
async fn what_cannot_be_updated_replaces_and_says_the_arn_changes() {
    let account = Account::new(fast());
    account.apply(STACK).await;
    let arn_of = |observed: &bedform::model::ObservedAccount, name: &str| {
        observed
            .find("CustomModelDeployment", name)
            .and_then(|d| d.arn.clone())
    };
    let before = arn_of(&account.observed().await, "support-bot").expect("deployed");

    // A new name: the new deployment first, then the old one goes.
    let renamed = edit(
        STACK,
        "deploymentName: support-bot",
        "deploymentName: support-bot-2",
    );
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "CustomModelDeployment/serving");
    assert_eq!(c.action, Action::Replace);
    assert!(c.create_before_destroy);
    assert!(c.warnings.iter().any(|w| w.contains("new ARN")), "{c:#?}");
    assert!(matches!(
        &c.ops[..],
        [Op::Create { name: new, .. }, Op::Delete { name: old, .. }] if new == "support-bot-2" && old == "support-bot"
    ));
    account.apply_plan(&plan, true).await;
    let observed = account.observed().await;
    assert!(
        observed
            .find("CustomModelDeployment", "support-bot")
            .is_none()
    );
    let after = arn_of(&observed, "support-bot-2").expect("the new one");
    assert_ne!(before, after);
    assert!(acting(&account.plan(&renamed).await).is_empty());

    // A new description: the name is taken, so the old one goes first, and the
    // plan says requests fail meanwhile.
    let described = edit(
        &renamed,
        "description: served on demand",
        "description: support traffic",
    );
    let plan = account.plan(&described).await;
    let c = change(&plan, "CustomModelDeployment/serving");
    assert_eq!(c.action, Action::Replace);
    assert!(!c.create_before_destroy);
    assert!(
        c.fields
            .iter()
            .any(|f| f.path == "description" && f.forces_replacement)
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("requests fail")),
        "{c:#?}"
    );
    account.apply_plan(&plan, true).await;
    assert!(acting(&account.plan(&described).await).is_empty());

    // `preventDestroy` refuses the replacement.
    let guarded = edit(
        &described,
        "description: support traffic",
        "description: other\n  preventDestroy: true",
    );
    let plan = account.plan(&guarded).await;
    assert_eq!(
        change(&plan, "CustomModelDeployment/serving").action,
        Action::Refused
    );

    // No longer declared: deleted, and the plan says it stops serving.
    let documents: Vec<&str> = described.split("\n---\n").collect();
    let without = documents[..documents.len() - 1].join("\n---\n");
    let plan = account.plan(&without).await;
    let gone = changes(&plan, "CustomModelDeployment/serving");
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].action, Action::Delete);
    assert!(
        gone[0].warnings.iter().any(|w| w.contains("stops serving")),
        "{:#?}",
        gone[0]
    );
    account.apply_plan(&plan, false).await;
    assert!(
        !account
            .exists("CustomModelDeployment", "support-bot-2")
            .await
    );
}

#[tokio::test]
async fn state_absent_deletes_and_a_bad_spec_is_refused_offline() {
    let account = Account::new(fast());
    account.apply(STACK).await;
    let absent = edit(
        STACK,
        "  description: served on demand\n",
        "  description: served on demand\n  state: absent\n",
    );
    let plan = account.plan(&absent).await;
    assert_eq!(
        change(&plan, "CustomModelDeployment/serving").action,
        Action::Delete
    );
    account.apply_plan(&plan, false).await;
    assert!(!account.exists("CustomModelDeployment", "support-bot").await);

    let dir = TempDir::new().unwrap();
    let bad = edit(
        STACK,
        "  model: {ref: job}\n",
        "  model: amazon.nova-lite-v1:0\n",
    );
    let bad = edit(
        &bad,
        "deploymentName: support-bot",
        "deploymentName: support--bot",
    );
    std::fs::write(dir.path().join("stack.yaml"), bad).unwrap();
    let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
    common::assert_contains(&out.stderr, "a deployment serves a custom model");
    common::assert_contains(&out.stderr, "`deploymentName` `support--bot`");
    common::assert_contains(&out.stderr, "stack.yaml:");
}

// ------------------------------------------------------------- over the wire

const SERVING: &str =
    "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: serving}\nspec:\n  region: us-east-1\n";

/// Custom model ARNs shaped as AWS's (the stub holds the model to its pattern).
const MODEL_A: &str =
    "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/abcdefgh0001";
const MODEL_B: &str =
    "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-lite-v1:0:300k/abcdefgh0002";

fn deployment(name: &str, model: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: bedform/v1\nkind: CustomModelDeployment\nmetadata: {{name: {name}}}\nspec:\n  model: \"{model}\"\n{extra}"
    )
}

fn bedform(moto: &Moto, dir: &std::path::Path, args: &[&str]) -> common::Output {
    common::run_with(dir, &moto.env(), args)
}

#[test]
fn deployments_over_the_wire() {
    let moto = Moto::start();
    moto.set_creating_seconds(0.5);
    moto.record_requests(&["bedrock:POST /model-customization/custom-model-deployments"]);
    let dir = TempDir::new().unwrap();
    let manifest = dir.path().join("stack.yaml");
    let path = manifest.to_str().unwrap();
    // Three deployments: the stub lists two per page.
    let checked = "  check: {prompt: Say OK, expect: OK}\n";
    let write = |model: &str, greeter_extra: &str| {
        let text = format!(
            "{SERVING}{}{}{}",
            deployment("greeter", model, &format!("{checked}{greeter_extra}")),
            deployment("second", MODEL_A, "  description: two\n"),
            deployment("third", MODEL_A, "  tags: {team: ml}\n"),
        );
        std::fs::write(&manifest, text).unwrap();
    };
    write(MODEL_A, "");
    moto.set_converse("OK from the deployment", 0, None);
    let applied = bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "--wait", path],
    )
    .expect(0);
    common::assert_contains(&applied.stdout, "CustomModelDeployment/greeter: passed in ");
    common::assert_contains(&applied.stdout, "Apply complete.");
    let clean = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);
    common::assert_contains(&clean.stdout, "No changes.");

    let rt = runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let get = |name: &str| {
        rt.block_on(
            bedrock
                .get_custom_model_deployment()
                .custom_model_deployment_identifier(name)
                .send(),
        )
        .unwrap()
    };
    let greeter = get("greeter");
    let arn = greeter.custom_model_deployment_arn().to_string();
    assert_eq!(greeter.model_arn(), MODEL_A);
    assert_eq!(get("second").description(), Some("two"));
    let tags = rt
        .block_on(bedrock.list_tags_for_resource().resource_arn(&arn).send())
        .unwrap();
    let tag = |key: &str| {
        tags.tags()
            .iter()
            .find(|t| t.key() == key)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("bedform:stack").as_deref(), Some("serving"));
    assert_eq!(
        tag("bedform:address").as_deref(),
        Some("CustomModelDeployment/greeter")
    );
    // Each create carried a deterministic token.
    let creates = moto.requests("bedrock:POST /model-customization/custom-model-deployments");
    assert_eq!(creates.len(), 3, "{creates:#?}");
    for create in &creates {
        let token = create["clientRequestToken"].as_str().unwrap_or_default();
        assert!(token.starts_with("bedform-"), "{create:#?}");
    }
    // The check went to the deployment's ARN through Converse.
    let sent = moto.conversations();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["modelId"], arn);
    bedform(&moto, dir.path(), &["check", path]).expect(0);

    // Another model: swapped in place, the same ARN, no replacement.
    write(MODEL_B, "");
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    common::assert_contains(
        &plan.stdout,
        "0 to create, 1 to update, 0 to replace, 0 to delete",
    );
    bedform(
        &moto,
        dir.path(),
        &["apply", "--auto-approve", "--wait", path],
    )
    .expect(0);
    let swapped = get("greeter");
    assert_eq!(swapped.custom_model_deployment_arn(), arn);
    assert_eq!(swapped.model_arn(), MODEL_B);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);

    // A tag of one's own removed: converges through UntagResource.
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("  tags: {team: ml}\n", "");
    std::fs::write(&manifest, text).unwrap();
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(0);

    // No longer declared: deleted.
    let text = format!("{SERVING}{}", deployment("greeter", MODEL_B, checked));
    std::fs::write(&manifest, text).unwrap();
    let plan = bedform(&moto, dir.path(), &["plan", "--detailed-exitcode", path]).expect(2);
    common::assert_contains(&plan.stdout, "2 to delete");
    bedform(&moto, dir.path(), &["apply", "--auto-approve", path]).expect(0);
    let left: Vec<String> = rt
        .block_on(
            bedrock
                .list_custom_model_deployments()
                .into_paginator()
                .items()
                .send()
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .map(|s| s.unwrap().custom_model_deployment_name().to_string())
        .collect();
    assert_eq!(left, ["greeter"]);
    // Nothing sent to the stub, nor answered by it, broke the service model.
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn export_writes_a_deployment_that_names_its_job() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    common::run(
        dir.path(),
        [
            "apply",
            "--sandbox",
            "--auto-approve",
            "--wait",
            "stack.yaml",
        ],
    )
    .expect(0);
    let out = common::run(
        dir.path(),
        [
            "export",
            "--sandbox",
            "--region",
            "us-east-1",
            "--kinds",
            "CustomizationJob,CustomModelDeployment",
        ],
    )
    .expect(0);
    let deployment = out
        .stdout
        .split("\n---\n")
        .find(|d| d.contains("kind: CustomModelDeployment"))
        .unwrap_or_else(|| panic!("no deployment exported:\n{}", out.stdout));
    for part in [
        "deploymentName: support-bot",
        "description: served on demand",
        "model:\n    ref: job",
    ] {
        common::assert_contains(deployment, part);
    }
}

#[test]
fn the_distill_and_serve_example_applies_and_settles() {
    let dir = TempDir::new().unwrap();
    let stack = common::copy_example(dir.path(), "distill-and-serve");
    let path = stack.to_str().unwrap();
    // The reviewer's comment says what a new deployment costs.
    let comment = common::run(
        dir.path(),
        ["plan", "--sandbox", "--format", "markdown", path],
    )
    .expect(0);
    common::assert_contains(&comment.stdout, "a new on-demand deployment of");
    common::assert_contains(&comment.stdout, "no hourly charge");
    let applied = common::run(
        dir.path(),
        ["apply", "--sandbox", "--auto-approve", "--wait", path],
    )
    .expect(0);
    common::assert_contains(&applied.stdout, "CustomModelDeployment/support-bot: done");
    common::assert_contains(&applied.stdout, "Apply complete.");
    let settled = common::run(
        dir.path(),
        ["plan", "--sandbox", "--detailed-exitcode", path],
    )
    .expect(0);
    common::assert_contains(&settled.stdout, "No changes.");
    // The README runs what the test ran.
    let readme = std::fs::read_to_string(stack.join("README.md")).unwrap();
    common::assert_contains(
        &readme,
        "bedform apply --sandbox --auto-approve --wait examples/distill-and-serve",
    );
}
