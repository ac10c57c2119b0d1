//! The sandbox holds to AWS's semantics, through the same `Cloud` trait the engine
//! uses: name uniqueness, idempotency tokens, state transitions on a scaled clock,
//! IAM propagation delay, the job quota, agreements, commitments, non-empty buckets,
//! and a file it never clobbers.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use bedform::apply::progress::Progress;
use bedform::apply::{Outcome, apply};
use bedform::cloud::sandbox::{Sandbox, SandboxError, Timing};
use bedform::cloud::{Cloud, ErrorClass};
use bedform::manifest::{load, validate};
use bedform::plan::{Action, Op, Plan, PlanOptions, plan};
use common::{ACCOUNT, Account, REGION, apply_options, change, fast_clock, outcome_of, quickstart};
use serde_json::{Map, Value, json};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/trainer";

fn timing() -> Timing {
    // Long enough that "still training" holds on a loaded machine.
    fast_clock(1.0, 0.5)
}

fn attrs(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn create(kind: &str, name: &str, a: Value, token: Option<&str>) -> Op {
    Op::Create {
        kind: kind.into(),
        name: name.into(),
        attrs: attrs(a),
        tags: BTreeMap::from([("bedform:stack".to_string(), "s".to_string())]),
        client_request_token: token.map(str::to_string),
    }
}

fn delete(kind: &str, name: &str, empty_first: bool) -> Op {
    Op::Delete {
        kind: kind.into(),
        name: name.into(),
        empty_first,
    }
}

fn job_attrs(base: &str, teacher: &str) -> Value {
    json!({
        "customizationType": "DISTILLATION",
        "baseModel": base,
        "teacher": {"model": teacher, "maxResponseLength": 1000},
        "trainingData": {"s3Uri": "s3://train-bucket/prompts.jsonl"},
        "outputS3Uri": "s3://train-bucket/output/",
        "roleArn": ROLE_ARN,
        "customModelName": "student-model",
    })
}

fn nova_job() -> Value {
    job_attrs("amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0")
}

/// One model unit of `model`.
fn throughput(model: &str, commitment: &str) -> Value {
    json!({"model": model, "modelUnits": 1, "commitment": commitment})
}

/// Creates the throughput `pt`.
async fn create_throughput(cloud: &Sandbox, model: &str, commitment: &str) {
    cloud
        .execute(&create(
            "ProvisionedThroughput",
            "pt",
            throughput(model, commitment),
            None,
        ))
        .await
        .expect("create the throughput");
}

/// Starts a job under each of `names`, each training its own model.
async fn start_jobs(cloud: &Sandbox, names: [&str; 2]) {
    for name in names {
        let mut a = nova_job();
        a["customModelName"] = json!(format!("{name}-model"));
        cloud
            .execute(&create("CustomizationJob", name, a, None))
            .await
            .expect("within quota");
    }
}

/// The bucket and role a job needs.
async fn prepare_training(account: &Account) {
    let cloud = &account.sandbox;
    cloud
        .execute(&create("Bucket", "train-bucket", json!({}), None))
        .await
        .expect("bucket");
    cloud
        .execute(&create("IamRole", "trainer", json!({"path": "/"}), None))
        .await
        .expect("role");
}

async fn sleep(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

#[tokio::test]
async fn names_are_unique() {
    let account = Account::new(timing());
    let cloud = &account.sandbox;
    cloud
        .execute(&create("Bucket", "b-one", json!({}), None))
        .await
        .expect("first create");
    let second = cloud
        .execute(&create("Bucket", "b-one", json!({}), None))
        .await
        .expect_err("second create of the same name");
    assert_eq!(second.class, ErrorClass::Conflict);
    assert!(
        second.message.contains("BucketAlreadyOwnedByYou"),
        "{second}"
    );
    assert!(
        second.operation.contains("b-one"),
        "errors name their object: {second}"
    );
    cloud
        .execute(&create("IamRole", "r", json!({}), None))
        .await
        .expect("role");
    let again = cloud
        .execute(&create("IamRole", "r", json!({}), None))
        .await
        .expect_err("role twice");
    assert_eq!(again.class, ErrorClass::Conflict);
    let observed = account.observed().await;
    assert_eq!(observed.of_kind("Bucket").count(), 1);
}

#[tokio::test]
async fn client_request_tokens_make_creates_idempotent() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    let op = create("CustomizationJob", "job-a", nova_job(), Some("tok-1"));
    cloud.execute(&op).await.expect("first");
    cloud
        .execute(&op)
        .await
        .expect("the same request again returns the original");
    let observed = account.observed().await;
    assert_eq!(observed.of_kind("CustomizationJob").count(), 1);

    let other = create("CustomizationJob", "job-b", nova_job(), Some("tok-1"));
    let e = cloud
        .execute(&other)
        .await
        .expect_err("token reused for another job");
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(!account.exists("CustomizationJob", "job-b").await);

    // Throughput too: a retried purchase buys once.
    let buy = create(
        "ProvisionedThroughput",
        "pt",
        throughput("amazon.nova-lite-v1:0", "none"),
        Some("tok-pt"),
    );
    cloud.execute(&buy).await.expect("buy");
    cloud.execute(&buy).await.expect("buy again");
    let observed = account.observed().await;
    assert_eq!(observed.of_kind("ProvisionedThroughput").count(), 1);
}

#[tokio::test]
async fn a_job_completes_on_the_scaled_clock_and_produces_its_model() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    cloud
        .execute(&create("CustomizationJob", "job-a", nova_job(), Some("t")))
        .await
        .expect("create");
    assert_eq!(
        account.status("CustomizationJob", "job-a").await.as_deref(),
        Some("InProgress")
    );
    assert!(!account.exists("CustomModel", "student-model").await);
    sleep(1.2).await;
    assert_eq!(
        account.status("CustomizationJob", "job-a").await.as_deref(),
        Some("Completed")
    );
    let model = cloud
        .get("CustomModel", "student-model")
        .await
        .expect("get")
        .expect("the model exists once the job completes");
    assert_eq!(model.fact_str("baseModel"), Some("amazon.nova-lite-v1:0"));
    assert_eq!(model.fact_str("jobName"), Some("job-a"));
    assert_eq!(
        model.tag("bedform:stack"),
        Some("s"),
        "the model carries the job's tags"
    );
}

#[tokio::test]
async fn a_stopped_job_does_not_complete() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    cloud
        .execute(&create("CustomizationJob", "job-a", nova_job(), None))
        .await
        .expect("create");
    cloud
        .execute(&Op::StopJob {
            name: "job-a".into(),
        })
        .await
        .expect("stop");
    sleep(1.2).await;
    assert_eq!(
        account.status("CustomizationJob", "job-a").await.as_deref(),
        Some("Stopped")
    );
    assert!(!account.exists("CustomModel", "student-model").await);
}

#[tokio::test]
async fn throughput_goes_from_creating_to_in_service() {
    let account = Account::new(timing());
    let cloud = &account.sandbox;
    create_throughput(cloud, "amazon.nova-lite-v1:0", "none").await;
    assert_eq!(
        account
            .status("ProvisionedThroughput", "pt")
            .await
            .as_deref(),
        Some("Creating")
    );
    sleep(0.7).await;
    assert_eq!(
        account
            .status("ProvisionedThroughput", "pt")
            .await
            .as_deref(),
        Some("InService")
    );
    // Units cannot be updated in place.
    let e = cloud
        .execute(&Op::Update {
            kind: "ProvisionedThroughput".into(),
            name: "pt".into(),
            attrs: attrs(
                json!({"model": "amazon.nova-lite-v1:0", "modelUnits": 2, "commitment": "none"}),
            ),
            tags: BTreeMap::new(),
            fields: vec!["modelUnits".into()],
            current_name: None,
        })
        .await
        .expect_err("units are not updatable");
    assert_eq!(e.class, ErrorClass::Validation);
}

#[tokio::test]
async fn a_new_role_is_not_assumable_until_it_propagates() {
    let account = Account::new(Timing {
        iam_propagation_seconds: 0.4,
        ..timing()
    });
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    let op = create("CustomizationJob", "job-a", nova_job(), Some("t"));
    let e = cloud.execute(&op).await.expect_err("role too new");
    assert_eq!(e.class, ErrorClass::IamPropagation);
    assert!(
        e.message.contains("Could not assume provided IAM role"),
        "{e}"
    );
    assert!(e.class.is_retryable());
    sleep(0.5).await;
    cloud
        .execute(&op)
        .await
        .expect("assumable after propagation");

    // A role that does not exist is not a propagation delay.
    let mut missing = nova_job();
    missing["roleArn"] = json!("arn:aws:iam::123456789012:role/nobody");
    let e = cloud
        .execute(&create("CustomizationJob", "job-b", missing, None))
        .await
        .expect_err("no such role");
    assert_eq!(e.class, ErrorClass::Validation);
}

#[tokio::test]
async fn apply_retries_iam_propagation_until_the_role_is_assumable() {
    let account = Account::new(Timing {
        iam_propagation_seconds: 0.3,
        ..timing()
    });
    let p = account.plan_stack(&quickstart()).await;
    let report = account.apply_plan(&p, false).await;
    let logging = outcome_of(&report, "InvocationLogging/invocation-logging");
    assert_eq!(logging, &Outcome::Done);
}

#[tokio::test]
async fn the_job_quota_queues_instead_of_failing() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    // Two jobs fill the account's quota.
    start_jobs(cloud, ["job-a", "job-b"]).await;
    let e = cloud
        .execute(&create("CustomizationJob", "job-c", nova_job(), None))
        .await
        .expect_err("over quota");
    assert_eq!(e.class, ErrorClass::QuotaExceeded);
    assert!(!e.class.is_retryable());

    // Through apply: queued, not failed.
    let job = create("CustomizationJob", "job-c", nova_job(), Some("tok-c"));
    let p = one_change_plan(Action::Create, "CustomizationJob", "job-c", vec![job]);
    let report = apply(cloud, &p, &apply_options(false), &Progress::quiet()).await;
    assert!(
        matches!(report.results[0].outcome, Outcome::Queued { .. }),
        "{report:#?}"
    );
    assert!(!report.failed());
    assert!(!account.exists("CustomizationJob", "job-c").await);

    // Once the others finish, a later apply starts it.
    sleep(1.2).await;
    let report = apply(cloud, &p, &apply_options(false), &Progress::quiet()).await;
    assert!(
        matches!(&report.results[0].outcome, Outcome::Converging { status } if status == "InProgress"),
        "{report:#?}"
    );
}

#[tokio::test]
async fn marketplace_models_need_an_agreement() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let sonnet = "anthropic.claude-3-5-sonnet-20241022-v2:0";
    let op = create(
        "CustomizationJob",
        "claude-job",
        job_attrs(haiku, sonnet),
        None,
    );
    let e = cloud.execute(&op).await.expect_err("no agreement yet");
    assert_eq!(e.class, ErrorClass::AccessDenied);
    assert!(e.message.contains("anthropic"), "{e}");

    // Agreement for the student only: the teacher is still refused.
    let agree = |models: &[&str]| Op::Update {
        kind: "ModelAccess".into(),
        name: "model-access".into(),
        attrs: attrs(json!({
            "createAgreements": models.iter().map(|m| json!({"model": m, "offerType": "public"})).collect::<Vec<_>>()
        })),
        tags: BTreeMap::new(),
        fields: vec!["agreements".into()],
        current_name: None,
    };
    cloud.execute(&agree(&[haiku])).await.expect("agreement");
    let e = cloud
        .execute(&op)
        .await
        .expect_err("teacher has no agreement");
    assert_eq!(e.class, ErrorClass::AccessDenied);
    assert!(e.message.contains(sonnet), "{e}");
    cloud.execute(&agree(&[sonnet])).await.expect("agreement");
    cloud.execute(&op).await.expect("both agreed");

    let observed = account.observed().await;
    let access = observed
        .find("ModelAccess", "model-access")
        .expect("agreements are observed");
    assert_eq!(
        access.attrs.get("agreements"),
        Some(&json!([sonnet, haiku])),
        "sorted"
    );
}

#[tokio::test]
async fn a_committed_throughput_cannot_be_deleted_before_expiry() {
    let account = Account::new(Timing {
        commitment_month_seconds: 0.5,
        ..timing()
    });
    let cloud = &account.sandbox;
    create_throughput(cloud, "amazon.nova-lite-v1:0", "oneMonth").await;
    let observed = cloud
        .get("ProvisionedThroughput", "pt")
        .await
        .expect("get")
        .expect("exists");
    assert!(observed.fact_str("commitmentExpirationTime").is_some());
    let e = cloud
        .execute(&delete("ProvisionedThroughput", "pt", false))
        .await
        .expect_err("committed");
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(account.exists("ProvisionedThroughput", "pt").await);
    // Expiry is kept at whole seconds, rounded up: wait past it.
    sleep(1.6).await;
    cloud
        .execute(&delete("ProvisionedThroughput", "pt", false))
        .await
        .expect("deletable after expiry");
    assert!(!account.exists("ProvisionedThroughput", "pt").await);
}

#[tokio::test]
async fn a_bucket_with_objects_is_deleted_only_when_emptied_first() {
    let account = Account::new(timing());
    let cloud = &account.sandbox;
    cloud
        .execute(&create("Bucket", "full", json!({}), None))
        .await
        .expect("bucket");
    account.sandbox.put_objects("full", 5).expect("put");
    let e = cloud
        .execute(&delete("Bucket", "full", false))
        .await
        .expect_err("not empty");
    assert_eq!(e.class, ErrorClass::Conflict);
    assert!(e.message.contains("BucketNotEmpty"), "{e}");
    cloud
        .execute(&delete("Bucket", "full", true))
        .await
        .expect("emptied, then deleted");
    assert!(!account.exists("Bucket", "full").await);
    // Deleting what is gone is done (a re-run after a crash).
    cloud
        .execute(&delete("Bucket", "full", false))
        .await
        .expect("idempotent delete");
}

#[tokio::test]
async fn a_served_custom_model_cannot_be_deleted() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    cloud
        .execute(&create("CustomizationJob", "job-a", nova_job(), None))
        .await
        .expect("job");
    sleep(1.2).await;
    create_throughput(cloud, "custom-model/student-model", "none").await;
    let e = cloud
        .execute(&delete("CustomModel", "student-model", false))
        .await
        .expect_err("served");
    assert_eq!(e.class, ErrorClass::Conflict);
}

#[tokio::test]
async fn a_corrupt_sandbox_file_is_an_error_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sandbox.json");
    let bytes = b"{\"format\": 1, \"accountId\": \"123456789012\", \"regi".to_vec();
    std::fs::write(&path, &bytes).expect("write");
    let e = match Sandbox::open(&path, ACCOUNT, REGION) {
        Ok(_) => panic!("a corrupt file must not open"),
        Err(e) => e,
    };
    assert!(matches!(e, SandboxError::Corrupt { .. }), "{e}");
    assert!(e.to_string().contains("untouched"), "{e}");
    assert_eq!(std::fs::read(&path).expect("read"), bytes);

    // Another region's sandbox is not silently reused either.
    let account = Account::new(timing());
    account
        .sandbox
        .caller_account()
        .await
        .expect("saves the file");
    let before = std::fs::read(account.path()).expect("read");
    match Sandbox::open(&account.path(), ACCOUNT, "eu-west-1") {
        Ok(_) => panic!("another region's sandbox must not open"),
        Err(e) => assert!(matches!(e, SandboxError::Region { .. }), "{e}"),
    }
    assert_eq!(std::fs::read(account.path()).expect("read"), before);
}

#[tokio::test]
async fn state_persists_across_reopening() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    account.sandbox.put_objects("train-bucket", 2).expect("put");
    account
        .sandbox
        .execute(&create(
            "CustomizationJob",
            "job-a",
            nova_job(),
            Some("tok"),
        ))
        .await
        .expect("job");
    let path = account.path();
    let reopened = Sandbox::open(&path, "999999999999", REGION).expect("reopen");
    assert_eq!(
        reopened.caller_account().await.expect("account"),
        ACCOUNT,
        "the file's account wins"
    );
    let observed = reopened
        .observe(&bedform::cloud::Scope::default())
        .await
        .expect("observe");
    assert!(observed.find("IamRole", "trainer").is_some());
    assert_eq!(
        observed
            .find("Bucket", "train-bucket")
            .and_then(|b| b.fact_u64("objectCount")),
        Some(2)
    );
    assert!(observed.find("CustomizationJob", "job-a").is_some());
    // Tokens persist too: the same create after reopening is still one job.
    reopened
        .execute(&create(
            "CustomizationJob",
            "job-a",
            nova_job(),
            Some("tok"),
        ))
        .await
        .expect("same token");
    // So does the timing, and the clock keeps running while closed.
    sleep(1.2).await;
    assert!(
        reopened
            .get("CustomModel", "student-model")
            .await
            .expect("get")
            .is_some()
    );
}

// ---------------------------------------------------------------- apply level

/// A plan with one hand-written change (for driving apply directly).
fn one_change_plan(action: Action, kind: &str, name: &str, ops: Vec<Op>) -> Plan {
    let mut change =
        bedform::plan::Change::new(bedform::model::Address::new(kind, name), name, action);
    change.ops = ops;
    Plan {
        format_version: bedform::plan::FORMAT_VERSION.into(),
        bedform_version: "test".into(),
        stack: "s".into(),
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        observed_fingerprints: Default::default(),
        scope: Default::default(),
        lock: None,
        summary: bedform::plan::Summary::of(std::slice::from_ref(&change)),
        changes: vec![change],
    }
}

#[tokio::test]
async fn the_quickstart_converges_over_applies_without_waiting() {
    let account = Account::new(timing());
    let desired = quickstart();

    let first = account.plan_stack(&desired).await;
    let report = account.apply_plan(&first, false).await;
    assert!(
        matches!(outcome_of(&report, "CustomizationJob/support-distilled"), Outcome::Converging { status } if status == "InProgress")
    );
    assert!(
        matches!(outcome_of(&report, "ProvisionedThroughput/support-bot"), Outcome::Pending { reason } if reason.contains("support-distilled")),
        "{report:#?}"
    );
    assert_eq!(outcome_of(&report, "Bucket/training-data"), &Outcome::Done);
    assert!(
        account
            .observed()
            .await
            .of_kind("ProvisionedThroughput")
            .next()
            .is_none()
    );

    // While the job trains, the plan still shows the throughput waiting.
    let second = account.plan_stack(&desired).await;
    let serving = change(&second, "ProvisionedThroughput/support-bot");
    assert!(serving.waits_on.is_some());

    sleep(1.2).await;
    let third = account.plan_stack(&desired).await;
    let acting: Vec<String> = third
        .changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(acting, ["ProvisionedThroughput/support-bot"]);
    let report = account.apply_plan(&third, false).await;
    assert!(
        matches!(outcome_of(&report, "ProvisionedThroughput/support-bot"), Outcome::Converging { status } if status == "Creating"),
        "{report:#?}"
    );

    let last = account.plan_stack(&desired).await;
    assert!(!last.has_changes(), "{:#?}", last.changes);
}

#[tokio::test]
async fn apply_wait_follows_the_job_and_creates_the_throughput_in_one_run() {
    let account = Account::new(timing());
    let desired = quickstart();
    let first = account.plan_stack(&desired).await;
    let report = account.apply_plan(&first, true).await;
    assert_eq!(
        outcome_of(&report, "ProvisionedThroughput/support-bot"),
        &Outcome::Done
    );
    assert_eq!(
        outcome_of(&report, "CustomizationJob/support-distilled"),
        &Outcome::Done
    );
    let observed = account.observed().await;
    let throughput = observed
        .of_kind("ProvisionedThroughput")
        .next()
        .expect("created");
    assert_eq!(throughput.status.as_deref(), Some("InService"));
    let again = plan(&desired, &observed, &PlanOptions::default());
    assert!(!again.has_changes());
    // The completed job's plan names what it trained, with the ARN to call it by.
    let model = observed.of_kind("CustomModel").next().expect("trained");
    let job = change(&again, "CustomizationJob/support-distilled");
    let arn = model.arn.as_deref().expect("an ARN");
    assert!(
        job.notes
            .iter()
            .any(|n| n.contains(&format!("`{}`", model.aws_name)) && n.contains(arn)),
        "{:#?}",
        job.notes
    );
}

#[tokio::test]
async fn apply_wait_starts_a_queued_job_when_a_slot_frees() {
    let account = Account::new(timing());
    prepare_training(&account).await;
    let cloud = &account.sandbox;
    // Two jobs fill the account's quota.
    start_jobs(cloud, ["other-a", "other-b"]).await;
    let job = create("CustomizationJob", "job-c", nova_job(), Some("tok-c"));
    let p = one_change_plan(Action::Create, "CustomizationJob", "job-c", vec![job]);
    let report = apply(cloud, &p, &apply_options(true), &Progress::quiet()).await;
    assert_eq!(report.results[0].outcome, Outcome::Done, "{report:#?}");
    assert_eq!(
        account.status("CustomizationJob", "job-c").await.as_deref(),
        Some("Completed")
    );
}

#[tokio::test]
async fn a_replaced_job_is_stopped_before_its_successor_starts() {
    let account = Account::new(timing());
    let desired = quickstart();
    let cloud = &account.sandbox;
    let first = account.plan_stack(&desired).await;
    account.apply_plan(&first, false).await;
    // Another job fills the account's second slot.
    let mut other = nova_job();
    other["trainingData"] = json!({"s3Uri": "s3://acme-support-bot-training/other.jsonl"});
    other["outputS3Uri"] = json!("s3://acme-support-bot-training/other/");
    other["roleArn"] = json!("arn:aws:iam::123456789012:role/support-bot-distillation");
    cloud
        .execute(&create("CustomizationJob", "other", other, None))
        .await
        .expect("second slot");

    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir("examples/quickstart").expect("examples") {
        let entry = entry.expect("entry");
        let text = std::fs::read_to_string(entry.path()).expect("read");
        let text = text.replace("maxResponseLength: 1000", "maxResponseLength: 1500");
        std::fs::write(dir.path().join(entry.file_name()), text).expect("write");
    }
    let changed = validate(&load(&[dir.path().to_path_buf()]), Some(ACCOUNT)).expect("valid");
    let second = account.plan_stack(&changed).await;
    let report = account.apply_plan(&second, false).await;
    let job = report
        .results
        .iter()
        .find(|r| {
            r.address.to_string() == "CustomizationJob/support-distilled"
                && r.action == Action::Replace
        })
        .expect("the new job");
    assert!(
        matches!(&job.outcome, Outcome::Converging { status } if status == "InProgress"),
        "the stop frees the slot the new job needs: {report:#?}"
    );
}

/// Processes that share a sandbox file (an apply and a `status --wait`, a test
/// changing the clock) take turns: every change of each lands, and none fails
/// because another moved the file under it.
#[test]
fn sandboxes_sharing_a_file_take_turns_and_lose_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".bedform/sandbox.json");
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let path = path.clone();
            std::thread::spawn(move || {
                let rt = common::runtime();
                // Its own sandbox, as another process would have.
                let sandbox = Sandbox::open(&path, ACCOUNT, REGION).unwrap();
                for i in 0..25 {
                    let create = Op::Create {
                        kind: "LogGroup".into(),
                        name: format!("/writer-{writer}/group-{i}"),
                        attrs: Map::new(),
                        tags: BTreeMap::new(),
                        client_request_token: None,
                    };
                    rt.block_on(sandbox.execute(&create)).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("a writer failed");
    }
    let state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let groups = state["objects"]["LogGroup"]
        .as_object()
        .map(|g| g.len())
        .unwrap_or(0);
    assert_eq!(groups, 100, "changes were lost");
}

/// Logging with `deliver: DELIVER` into a bucket of the stack.
fn logging_stack(deliver: &str) -> String {
    format!(
        "apiVersion: bedform/v1
kind: Stack
metadata: {{name: demo}}
spec: {{region: us-east-1, accountId: \"123456789012\"}}
---
apiVersion: bedform/v1
kind: Bucket
metadata: {{name: logs}}
spec: {{bucketName: demo-invocation-logs, allowBedrockLogDelivery: true}}
---
apiVersion: bedform/v1
kind: InvocationLogging
metadata: {{name: logging}}
spec:
  s3: {{bucket: {{ref: logs}}}}
  deliver: {deliver}
"
    )
}

/// `deliver: []` turns every flag off in place (AWS accepts a configuration that
/// delivers nothing), and the account then matches the manifests.
#[tokio::test]
async fn every_delivery_flag_is_turned_off_in_place() {
    let account = Account::new(timing());
    let report = account.apply(&logging_stack("[text, image]")).await;
    assert!(
        report.results.iter().all(|r| r.outcome == Outcome::Done),
        "{report:#?}"
    );
    let plan = account.plan(&logging_stack("[]")).await;
    let logging = change(&plan, "InvocationLogging/logging");
    assert_eq!(logging.action, Action::Update, "{logging:#?}");
    for flag in ["textDataDeliveryEnabled", "imageDataDeliveryEnabled"] {
        assert!(
            logging
                .fields
                .iter()
                .any(|f| f.path == flag && f.after == Some(json!(false))),
            "{flag}: {:#?}",
            logging.fields
        );
    }
    let report = account.apply_plan(&plan, false).await;
    assert_eq!(
        outcome_of(&report, "InvocationLogging/logging"),
        &Outcome::Done
    );
    let again = account.plan(&logging_stack("[]")).await;
    assert!(!again.has_changes(), "{again:#?}");
}

/// The sandbox reports the availability of every model a ModelAccess names, as
/// `GetFoundationModelAvailability` does: one that needs an agreement and has
/// none is not available until apply creates it.
#[tokio::test]
async fn availability_is_reported_for_every_model_model_access_names() {
    let account = Account::new(timing());
    let text = "apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec: {region: us-east-1, accountId: \"123456789012\"}
---
apiVersion: bedform/v1
kind: ModelAccess
metadata: {name: access}
spec:
  models: [anthropic.claude-3-5-haiku-20241022-v1:0, amazon.nova-pro-v1:0]
";
    let desired = common::desired(text);
    let scope = bedform::plan::scope_of(&desired);
    let availability = |observed: &bedform::model::ObservedAccount, model: &str| {
        observed
            .find("ModelAccess", "model-access")
            .and_then(|o| o.facts.get("availability"))
            .and_then(|a| a.get(model))
            .and_then(|m| m.get("agreementAvailability"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let before = account.sandbox.observe(&scope).await.expect("observe");
    assert_eq!(
        availability(&before, "anthropic.claude-3-5-haiku-20241022-v1:0").as_deref(),
        Some("NOT_AVAILABLE")
    );
    assert_eq!(
        availability(&before, "amazon.nova-pro-v1:0").as_deref(),
        Some("AVAILABLE")
    );
    account.apply(text).await;
    let after = account.sandbox.observe(&scope).await.expect("observe");
    assert_eq!(
        availability(&after, "anthropic.claude-3-5-haiku-20241022-v1:0").as_deref(),
        Some("AVAILABLE")
    );
}

/// A job stopped outside bedform is drift: the plan shows it among the changes
/// made outside bedform, with its status and AWS's message, and plans nothing
/// for it unless `--retry-failed` asks.
#[tokio::test]
async fn a_job_stopped_outside_bedform_is_drift() {
    let account = Account::new(fast_clock(600.0, 0.5));
    let desired = quickstart();
    let first = account.plan_stack(&desired).await;
    account.apply_plan(&first, false).await;
    let job = account
        .observed()
        .await
        .of_kind("CustomizationJob")
        .next()
        .expect("training")
        .aws_name
        .clone();
    account
        .sandbox
        .execute(&Op::StopJob { name: job.clone() })
        .await
        .expect("stopped from the console");
    let plan = account.plan_stack(&desired).await;
    let stopped = change(&plan, "CustomizationJob/support-distilled");
    assert!(stopped.drift, "{stopped:#?}");
    assert_eq!(stopped.action, Action::NoOp);
    assert!(stopped.ops.is_empty());
    assert_eq!(stopped.status.as_deref(), Some("Stopped"));
    let text = bedform::render::render(&plan, bedform::render::Format::Human, false);
    let outside = text
        .split("Changed outside bedform")
        .nth(1)
        .unwrap_or_else(|| panic!("no drift section in\n{text}"));
    assert!(
        outside.contains("CustomizationJob/support-distilled") && outside.contains("Stopped"),
        "{text}"
    );
}

/// A stack-tag change reaches a customization job and its custom model in place
/// (`TagResource` on both), without training again, and the plan is then clean.
#[tokio::test]
async fn tags_reach_a_job_and_its_model_without_retraining() {
    let account = Account::new(fast_clock(1.0, 0.5));
    let desired = quickstart();
    let first = account.plan_stack(&desired).await;
    account.apply_plan(&first, true).await;
    let mut retagged = desired.clone();
    retagged
        .stack
        .tags
        .insert("cost-center".into(), "ml-42".into());
    for resource in &mut retagged.resources {
        if bedform::kinds::Kind::parse(&resource.address.kind)
            .is_some_and(|k| k.facts().tags.is_some())
        {
            resource.tags.insert("cost-center".into(), "ml-42".into());
        }
    }
    let retag = account.plan_stack(&retagged).await;
    let job = change(&retag, "CustomizationJob/support-distilled");
    assert_eq!(job.action, Action::Update, "{job:#?}");
    assert!(!job.retrains);
    assert!(job.fields.iter().any(|f| f.path == "tags"), "{job:#?}");
    assert!(
        retag.changes.iter().all(|c| !c.retrains),
        "a tag change never retrains"
    );
    let report = account.apply_plan(&retag, false).await;
    assert_eq!(
        outcome_of(&report, "CustomizationJob/support-distilled"),
        &Outcome::Done
    );
    let observed = account.observed().await;
    for kind in ["CustomizationJob", "CustomModel"] {
        let object = observed.of_kind(kind).next().expect("exists");
        assert_eq!(
            object.tag("cost-center"),
            Some("ml-42"),
            "{kind}: {:?}",
            object.tags
        );
    }
    let again = plan(&retagged, &observed, &PlanOptions::default());
    assert!(!again.has_changes(), "{again:#?}");
}
