//! `ImportedModel`: open-weight models imported from S3 (`CreateModelImportJob`).
//! On the sandbox: created once under a name that carries the source's hash,
//! followed until imported, re-imported under a new name when the source changes,
//! the previous import deleted only once the new one is there. Over the wire,
//! through the SDK to the stub of the moto proxy (moto has no model import).

mod common;
mod support;

use bedform::plan::{Action, Op, Plan};
use common::{Account, change, changes, edit, fast_clock};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: imports}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: weights}
spec:
  bucketName: acme-weights
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: import-role}
spec:
  roleName: import-role
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: ImportedModel
metadata: {name: llama-legal}
spec:
  source: {s3Uri: "s3://acme-weights/llama-3.1-8b-legal/"}
  role: {ref: import-role}
  check: {prompt: "Say OK", expect: "OK"}
"#;

const V2: &str = "s3://acme-weights/llama-3.1-8b-legal-v2/";

fn acting(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| format!("{} {} {:?}", c.address, c.aws_name, c.action))
        .collect()
}

#[tokio::test]
async fn an_import_is_made_once_and_a_new_source_replaces_it_once_imported() {
    let account = Account::new(fast_clock(0.2, 0.3));
    let plan = account.plan(STACK).await;
    let create = change(&plan, "ImportedModel/llama-legal");
    assert_eq!(create.action, Action::Create);
    let first = create.aws_name.clone();
    assert!(first.starts_with("llama-legal-") && first.len() == "llama-legal-".len() + 8);
    assert!(matches!(
        &create.ops[..],
        [Op::Create { client_request_token: Some(t), .. }] if t.starts_with("bedform-")
    ));
    assert!(
        create.warnings.iter().any(|w| w.contains("a new import")
            && w.contains(
                "per Custom Model Unit-minute, not per token: bedform does not price it"
            )),
        "{create:#?}"
    );
    // Followed until the import completes.
    account.apply_plan(&plan, true).await;
    assert_eq!(
        account.status("ImportedModel", &first).await.as_deref(),
        Some("Completed")
    );
    assert!(acting(&account.plan(STACK).await).is_empty());

    // The role is used only by the import: changing it changes nothing.
    let other_role = edit(STACK, "roleName: import-role", "roleName: import-role-2");
    let plan = account.plan(&other_role).await;
    let kept = change(&plan, "ImportedModel/llama-legal");
    assert_eq!(kept.action, Action::NoOp, "{kept:#?}");
    assert!(
        kept.notes.iter().any(|n| n.contains("`roleArn` changed")),
        "{kept:#?}"
    );

    // A new source is a new import under a new name; the previous one is kept
    // until the new one is imported, then deleted.
    let moved = edit(STACK, "s3://acme-weights/llama-3.1-8b-legal/", V2);
    let plan = account.plan(&moved).await;
    let both = changes(&plan, "ImportedModel/llama-legal");
    let new = both
        .iter()
        .find(|c| c.action == Action::Create)
        .expect("a new import");
    assert_ne!(new.aws_name, first);
    assert!(
        new.warnings.iter().any(|w| w.contains("new ARN")),
        "{new:#?}"
    );
    let old = both
        .iter()
        .find(|c| c.aws_name == first)
        .expect("the old import");
    assert_eq!(old.action, Action::NoOp);
    assert!(
        old.notes.iter().any(|n| n.contains("is kept until")),
        "{old:#?}"
    );
    account.apply_plan(&plan, false).await;
    // Not imported yet: still kept.
    let plan = account.plan(&moved).await;
    let old = changes(&plan, "ImportedModel/llama-legal")
        .into_iter()
        .find(|c| c.aws_name == first)
        .expect("the old import");
    assert_eq!(old.action, Action::NoOp, "{old:#?}");
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let plan = account.plan(&moved).await;
    let old = changes(&plan, "ImportedModel/llama-legal")
        .into_iter()
        .find(|c| c.aws_name == first)
        .expect("the old import");
    assert_eq!(old.action, Action::Delete, "{old:#?}");
    assert!(
        old.warnings
            .iter()
            .any(|w| w.contains("callers that invoke its ARN")),
        "{old:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert!(!account.exists("ImportedModel", &first).await);
    assert!(acting(&account.plan(&moved).await).is_empty());

    // No longer declared: deleted.
    let documents: Vec<&str> = moved.split("\n---\n").collect();
    let without = documents[..documents.len() - 1].join("\n---\n");
    let plan = account.plan(&without).await;
    assert_eq!(
        acting(&plan)
            .iter()
            .filter(|c| c.starts_with("ImportedModel/"))
            .count(),
        1,
        "{:#?}",
        acting(&plan)
    );
    account.apply_plan(&plan, false).await;
    assert!(acting(&account.plan(&without).await).is_empty());
}

#[test]
fn a_bad_import_is_refused_offline() {
    let dir = TempDir::new().unwrap();
    let bad = edit(
        STACK,
        "s3://acme-weights/llama-3.1-8b-legal/",
        "https://acme-weights/llama/",
    );
    let bad = edit(
        &bad,
        "  role: {ref: import-role}\n  check",
        &format!(
            "  role: {{ref: import-role}}\n  importedModelName: {}\n  check",
            "x".repeat(60)
        ),
    );
    std::fs::write(dir.path().join("stack.yaml"), bad).unwrap();
    let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
    common::assert_contains(&out.stderr, "`source.s3Uri`");
    common::assert_contains(&out.stderr, "`importedModelName` prefix");
    common::assert_contains(&out.stderr, "stack.yaml:");
}

#[test]
fn imports_over_the_wire() {
    let moto = Moto::start();
    moto.set_creating_seconds(0.5);
    let create = "bedrock:POST /model-import-jobs";
    moto.record_requests(&[create]);
    moto.set_converse("OK from the import", 0, None);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let applied = run(&["apply", "--auto-approve", "--wait", "stack.yaml"]).expect(0);
    common::assert_contains(&applied.stdout, "ImportedModel/llama-legal (llama-legal-");
    common::assert_contains(&applied.stdout, "): passed in ");
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);

    let sent = moto.requests(create);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0];
    let name = body["importedModelName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(name.starts_with("llama-legal-"), "{body:#}");
    assert_eq!(body["jobName"], name.as_str());
    assert_eq!(
        body["modelDataSource"]["s3DataSource"]["s3Uri"],
        "s3://acme-weights/llama-3.1-8b-legal/"
    );
    assert!(
        body["clientRequestToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("bedform-"))
    );

    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let model = rt
        .block_on(bedrock.get_imported_model().model_identifier(&name).send())
        .unwrap();
    let arn = model.model_arn().unwrap_or_default().to_string();
    let tags = rt
        .block_on(bedrock.list_tags_for_resource().resource_arn(&arn).send())
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "bedform:address" && t.value() == "ImportedModel/llama-legal"),
        "{tags:?}"
    );
    // The check went to the imported model's ARN.
    let conversations = moto.conversations();
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert_eq!(conversations[0]["modelId"], arn.as_str());

    // A new source: imported anew, then the previous import is deleted.
    std::fs::write(
        dir.path().join("stack.yaml"),
        edit(STACK, "s3://acme-weights/llama-3.1-8b-legal/", V2),
    )
    .unwrap();
    run(&["apply", "--auto-approve", "--wait", "stack.yaml"]).expect(0);
    let plan = run(&["plan", "stack.yaml"]).expect(0);
    common::assert_contains(&plan.stdout, "1 to delete");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let left: Vec<String> = rt
        .block_on(bedrock.list_imported_models().send())
        .unwrap()
        .model_summaries()
        .iter()
        .map(|m| m.model_name().to_string())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], name);
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn export_writes_an_import_that_plans_no_new_import() {
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
            "ImportedModel",
        ],
    )
    .expect(0);
    let document = out
        .stdout
        .split("\n---\n")
        .find(|d| d.contains("kind: ImportedModel"))
        .unwrap_or_else(|| panic!("no import exported:\n{}", out.stdout));
    for part in [
        "importedModelName: llama-legal\n",
        "s3Uri: s3://acme-weights/llama-3.1-8b-legal/",
        "role: arn:aws:iam::123456789012:role/import-role",
    ] {
        common::assert_contains(document, part);
    }
    // The exported document names the same import: lowered, it is the name
    // the account holds.
    let exported = format!(
        "{}\n---\n{document}",
        STACK.split("\n---\n").next().unwrap()
    );
    let desired = common::desired(&exported);
    let lowered = desired
        .resources
        .iter()
        .find(|r| r.address.kind == "ImportedModel")
        .expect("the import");
    let planned = common::desired(STACK);
    let declared = planned
        .resources
        .iter()
        .find(|r| r.address.kind == "ImportedModel")
        .expect("the import");
    assert_eq!(lowered.aws_name, declared.aws_name);
}
