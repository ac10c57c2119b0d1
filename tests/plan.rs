//! The planner, kind by kind and semantics by semantics. Observed state comes from
//! applying manifests to a sandbox with a fast clock (so it has the shape the real
//! adapter reports), edited by hand where a test needs what the sandbox cannot do
//! (drift, failed jobs, objects owned by someone else).

mod common;

use std::path::Path;

use bedform::apply::Outcome;
use bedform::cloud::Cloud;
use bedform::cloud::sandbox::Timing;
use bedform::model::{
    ObservedAccount, ObservedResource, TAG_PREVENT_DESTROY, TAG_SPEC_HASH, TAG_STACK,
};
use bedform::plan::{Action, Change, FieldDiff, Op, Plan, PlanOptions, plan};
use common::{
    Account, change, changes, desired, desired_from, empty_account, fast_clock, model_access,
    outcome_of, owned_by, unowned,
};
use serde_json::{Value, json};

const STACK: &str = "demo";

/// Every kind, wired together as a real stack would be. `scratch` holds no data
/// (jobs write their output to `data`), so it can be renamed and removed freely.
const BASE: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec:
  region: us-east-1
  accountId: "123456789012"
  tags: {team: ml}
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: data}
spec:
  bucketName: demo-data
  allowBedrockLogDelivery: true
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: scratch}
spec:
  bucketName: demo-scratch
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: logs}
spec:
  logGroupName: /demo/invocations
  retentionDays: 30
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: role}
spec:
  roleName: demo-role
  assumedBy: bedrock
  inlinePolicies:
    access:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject, s3:ListBucket]
          Resource: ["${data.arn}", "${data.arn}/*"]
        - Effect: Allow
          Action: [logs:CreateLogStream, logs:PutLogEvents]
          Resource: "${logs.arn}:*"
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: spare-role}
spec:
  roleName: demo-spare
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: InvocationLogging
metadata: {name: logging}
spec:
  cloudWatch:
    logGroup: {ref: logs}
    role: {ref: role}
  s3:
    bucket: {ref: data}
    keyPrefix: invocation-logs/
  deliver: [text]
---
apiVersion: bedform/v1
kind: ModelAccess
metadata: {name: access}
spec:
  models: [anthropic.claude-3-5-haiku-20241022-v1:0]
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
kind: ProvisionedThroughput
metadata: {name: serving}
spec:
  model: {ref: job}
  modelUnits: 1
  commitment: none
"#;

/// Replaces the one occurrence of `from`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur exactly once in the manifest"
    );
    text.replacen(from, to, 1)
}

/// The manifest without the documents whose text contains any of `markers`.
fn without(text: &str, markers: &[&str]) -> String {
    let documents: Vec<&str> = text.split("\n---\n").collect();
    for marker in markers {
        assert!(
            documents.iter().any(|doc| doc.contains(marker)),
            "no document contains `{marker}`"
        );
    }
    documents
        .into_iter()
        .filter(|doc| !markers.iter().any(|m| doc.contains(m)))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

fn fast() -> Timing {
    fast_clock(0.2, 0.1)
}

/// The one change for `address` that does something.
fn acting_change<'a>(plan: &'a Plan, address: &str) -> &'a Change {
    let found: Vec<&Change> = changes(plan, address)
        .into_iter()
        .filter(|c| c.is_change())
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one change for {address}, found {found:#?}"
    );
    found[0]
}

fn field<'a>(change: &'a Change, path: &str) -> &'a FieldDiff {
    change
        .fields
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{} has no field `{path}`: {change:#?}", change.address))
}

fn paths(change: &Change) -> Vec<&str> {
    change.fields.iter().map(|f| f.path.as_str()).collect()
}

/// Changes that do something (not no-ops).
fn acting(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| c.is_change())
        .map(|c| format!("{:?} {} ({})", c.action, c.address, c.aws_name))
        .collect()
}

/// Why `change` is planned as it is (empty when it gives no reason).
fn reason(change: &Change) -> &str {
    change.reason.as_deref().unwrap_or("")
}

/// `change` is refused: it does nothing, and its reason mentions `because`.
fn assert_refused(change: &Change, because: &str) {
    assert_eq!(change.action, Action::Refused, "{change:#?}");
    assert!(change.ops.is_empty(), "{change:#?}");
    assert!(
        reason(change).contains(because),
        "{}: the reason {:?} does not mention `{because}`",
        change.address,
        change.reason
    );
}

fn assert_no_changes(plan: &Plan) {
    assert!(
        !plan.has_changes() && acting(plan).is_empty(),
        "expected no changes, got {:#?}",
        acting(plan)
    );
}

fn observed_mut<'a>(
    observed: &'a mut ObservedAccount,
    kind: &str,
    name: &str,
) -> &'a mut ObservedResource {
    observed
        .resources
        .iter_mut()
        .find(|r| r.kind == kind && r.aws_name == name)
        .unwrap_or_else(|| panic!("no observed {kind} {name}"))
}

fn job_name(plan: &Plan) -> String {
    plan.changes
        .iter()
        .find(|c| c.address.to_string() == "CustomizationJob/job" && c.action != Action::Stop)
        .map(|c| c.aws_name.clone())
        .expect("a job change")
}

fn create_op(change: &Change) -> (&str, Option<&str>) {
    change
        .ops
        .iter()
        .find_map(|op| match op {
            Op::Create {
                name,
                client_request_token,
                ..
            } => Some((name.as_str(), client_request_token.as_deref())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{} has no create op", change.address))
}

// ---------------------------------------------------------------- whole stack

#[tokio::test]
async fn an_empty_account_creates_everything_and_an_applied_stack_has_no_changes() {
    let account = Account::new(fast());
    let plan = account.plan(BASE).await;
    for address in [
        "Bucket/data",
        "Bucket/scratch",
        "LogGroup/logs",
        "IamRole/role",
        "IamRole/spare-role",
        "InvocationLogging/logging",
        "CustomizationJob/job",
        "ProvisionedThroughput/serving",
    ] {
        let c = change(&plan, address);
        assert_eq!(c.action, Action::Create, "{address}");
        assert!(
            c.fields
                .iter()
                .all(|f| f.before.is_none() && f.after.is_some())
        );
        assert!(!c.drift);
    }
    // The account-wide agreement list exists already: a missing agreement is an update.
    let access = change(&plan, "ModelAccess/access");
    assert_eq!(access.action, Action::Update);
    assert_eq!(
        field(access, "agreements").after,
        Some(json!(["anthropic.claude-3-5-haiku-20241022-v1:0"]))
    );
    let bucket = change(&plan, "Bucket/data");
    assert_eq!(bucket.aws_name, "demo-data");
    assert_eq!(field(bucket, "tags").after, Some(json!({"team": "ml"})));
    assert!(field(bucket, "policy").after.is_some());
    // The throughput waits for the model the job trains.
    let serving = change(&plan, "ProvisionedThroughput/serving");
    let wait = serving.waits_on.as_ref().expect("waits on the job");
    assert_eq!(wait.address.to_string(), "CustomizationJob/job");
    assert_eq!(wait.kind, "CustomModel");
    assert_eq!(
        field(serving, "model").after,
        Some(json!(format!("custom-model/{}", wait.name)))
    );
    assert!(serving.purchase.is_none());
    let job = change(&plan, "CustomizationJob/job");
    assert!(job.retrains);
    assert_eq!(plan.summary.create, 8);
    assert_eq!(plan.summary.update, 1);

    account.apply(BASE).await;
    assert_no_changes(&account.plan(BASE).await);
}

// --------------------------------------------------------------------- Bucket

#[tokio::test]
async fn bucket_update_replace_and_release() {
    let account = Account::new(fast());
    account.apply(BASE).await;

    // In place.
    let versioned = edit(
        BASE,
        "bucketName: demo-scratch\n",
        "bucketName: demo-scratch\n  versioning: true\n",
    );
    let plan = account.plan(&versioned).await;
    let c = change(&plan, "Bucket/scratch");
    assert_eq!(c.action, Action::Update);
    assert!(!c.drift);
    assert_eq!(paths(c), ["versioning"]);
    let f = field(c, "versioning");
    assert_eq!(
        (f.before.clone(), f.after.clone()),
        (Some(json!(false)), Some(json!(true)))
    );
    assert!(!f.forces_replacement);
    assert_eq!(acting(&plan).len(), 1, "{:#?}", acting(&plan));

    // A new name is a new bucket: created first, then the old one deleted.
    let renamed = edit(
        BASE,
        "bucketName: demo-scratch",
        "bucketName: demo-scratch-2",
    );
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "Bucket/scratch");
    assert_eq!(c.action, Action::Replace);
    assert!(c.create_before_destroy);
    assert_eq!(c.aws_name, "demo-scratch-2");
    // Named as the manifest writes it.
    let f = field(c, "bucketName");
    assert!(f.forces_replacement);
    assert_eq!(f.before, Some(json!("demo-scratch")));
    assert_eq!(f.after, Some(json!("demo-scratch-2")));
    assert!(reason(c).contains("name"));
    assert!(
        matches!(&c.ops[..], [Op::Create { name: n, .. }, Op::Delete { name: o, empty_first: false, .. }] if n == "demo-scratch-2" && o == "demo-scratch")
    );
    account.apply_plan(&plan, true).await;
    assert_no_changes(&account.plan(&renamed).await);

    // A rename that would delete objects is refused without `deletionPolicy: delete`.
    account
        .sandbox
        .put_objects("demo-scratch-2", 2)
        .expect("put");
    let plan = account
        .plan(&edit(&renamed, "demo-scratch-2", "demo-scratch-3"))
        .await;
    assert_refused(change(&plan, "Bucket/scratch"), "2 objects");

    // Removed from the manifests with objects in it: released, not deleted.
    let plan = account.plan(&without(&renamed, &["name: scratch"])).await;
    let c = change(&plan, "Bucket/scratch");
    assert_eq!(c.action, Action::Forget);
    assert!(!c.deletes_data);
    assert!(reason(c).contains("no longer declared"));
    match &c.ops[..] {
        [Op::Untag { name, keys, .. }] => {
            assert_eq!(name, "demo-scratch-2");
            assert!(keys.contains(&TAG_STACK.to_string()));
            assert!(keys.iter().all(|k| k.starts_with("bedform:")));
        }
        other => panic!("expected one untag, got {other:?}"),
    }
    account.apply_plan(&plan, true).await;
    let observed = account.observed().await;
    let kept = observed
        .find("Bucket", "demo-scratch-2")
        .expect("bucket is kept");
    assert!(kept.tag(TAG_STACK).is_none());
    assert_eq!(kept.tag("team"), Some("ml"));
    assert_no_changes(&account.plan(&without(&renamed, &["name: scratch"])).await);
}

#[tokio::test]
async fn bucket_with_deletion_policy_delete_is_emptied_and_deleted() {
    let account = Account::new(fast());
    let text = edit(
        BASE,
        "bucketName: demo-scratch\n",
        "bucketName: demo-scratch\n  deletionPolicy: delete\n",
    );
    account.apply(&text).await;
    account.sandbox.put_objects("demo-scratch", 3).expect("put");
    let removed = without(&text, &["name: scratch"]);
    let plan = account.plan(&removed).await;
    let c = change(&plan, "Bucket/scratch");
    assert_eq!(c.action, Action::Delete);
    assert!(c.deletes_data);
    assert!(
        c.warnings.iter().any(|w| w.contains("3 objects")),
        "{:?}",
        c.warnings
    );
    assert!(
        matches!(&c.ops[..], [Op::Delete { name, empty_first: true, .. }] if name == "demo-scratch")
    );
    account.apply_plan(&plan, true).await;
    assert!(
        account
            .observed()
            .await
            .find("Bucket", "demo-scratch")
            .is_none()
    );
    assert_no_changes(&account.plan(&removed).await);
}

// ------------------------------------------------------------------- LogGroup

#[tokio::test]
async fn log_group_update_drift_rename_and_removal() {
    let account = Account::new(fast());
    account.apply(BASE).await;

    // Manifest edit: not drift.
    let longer = edit(BASE, "retentionDays: 30", "retentionDays: 60");
    let plan = account.plan(&longer).await;
    let c = change(&plan, "LogGroup/logs");
    assert_eq!(c.action, Action::Update);
    assert!(!c.drift);
    let f = field(c, "retentionDays");
    assert_eq!(
        (f.before.clone(), f.after.clone()),
        (Some(json!(30)), Some(json!(60)))
    );
    assert!(!f.forces_replacement);
    assert_eq!(plan.summary.drift, 0);

    // Same manifest, account changed behind bedform's back: drift.
    let mut observed = account.observed().await;
    observed_mut(&mut observed, "LogGroup", "/demo/invocations")
        .attrs
        .insert("retentionDays".into(), json!(7));
    let plan = plan_of(BASE, &observed);
    let c = change(&plan, "LogGroup/logs");
    assert_eq!(c.action, Action::Update);
    assert!(c.drift);
    let f = field(c, "retentionDays");
    assert_eq!(
        (f.before.clone(), f.after.clone()),
        (Some(json!(7)), Some(json!(30)))
    );
    assert!(c.notes.iter().any(|n| n.contains("outside bedform")));
    assert_eq!(plan.summary.drift, 1);
    // Tag drift counts too.
    let mut observed = account.observed().await;
    observed_mut(&mut observed, "LogGroup", "/demo/invocations")
        .tags
        .insert("team".into(), "someone-else".into());
    let c = plan_of(BASE, &observed);
    let c = change(&c, "LogGroup/logs");
    assert!(c.drift);
    assert_eq!(paths(c), ["tags"]);

    // A new name replaces it; the role that names its ARN follows in place.
    let renamed = edit(
        BASE,
        "logGroupName: /demo/invocations",
        "logGroupName: /demo/calls",
    );
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "LogGroup/logs");
    assert_eq!(c.action, Action::Replace);
    assert!(field(c, "logGroupName").forces_replacement);
    assert_eq!(change(&plan, "IamRole/role").action, Action::Update);
    assert_eq!(
        change(&plan, "InvocationLogging/logging").action,
        Action::Update
    );

    // Removed (default deletionPolicy: retain): released.
    let mut text = BASE.to_string();
    text.push_str(
        "---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {name: audit}\nspec:\n  logGroupName: /demo/audit\n  deletionPolicy: delete\n",
    );
    account.apply(&text).await;
    let plan = account.plan(&without(&text, &["name: audit"])).await;
    let c = change(&plan, "LogGroup/audit");
    assert_eq!(c.action, Action::Delete);
    assert!(!c.deletes_data, "the group is empty");
    assert!(matches!(&c.ops[..], [Op::Delete { name, .. }] if name == "/demo/audit"));
}

fn plan_of(text: &str, observed: &ObservedAccount) -> Plan {
    plan(&desired(text), observed, &PlanOptions::default())
}

// -------------------------------------------------------------------- IamRole

#[tokio::test]
async fn iam_role_update_replace_delete_and_policy_normalisation() {
    let account = Account::new(fast());
    account.apply(BASE).await;

    // Inline policies are authoritative: one added in place.
    let more = edit(
        BASE,
        "  roleName: demo-spare\n  assumedBy: bedrock\n",
        "  roleName: demo-spare\n  assumedBy: bedrock\n  inlinePolicies:\n    read:\n      Version: \"2012-10-17\"\n      Statement: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]\n",
    );
    let plan = account.plan(&more).await;
    let c = change(&plan, "IamRole/spare-role");
    assert_eq!(c.action, Action::Update);
    assert_eq!(paths(c), ["inlinePolicies"]);
    let f = field(c, "inlinePolicies");
    assert_eq!(f.before, Some(json!({})));
    assert!(f.after.as_ref().is_some_and(|v| v.get("read").is_some()));
    assert!(!f.forces_replacement);

    // The same policy written another way is no change at all.
    let reordered = edit(
        BASE,
        r#"        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject, s3:ListBucket]
          Resource: ["${data.arn}", "${data.arn}/*"]
        - Effect: Allow
          Action: [logs:CreateLogStream, logs:PutLogEvents]
          Resource: "${logs.arn}:*"
"#,
        r#"        - Effect: Allow
          Action: [logs:PutLogEvents, logs:CreateLogStream]
          Resource: ["${logs.arn}:*"]
        - Resource: ["${data.arn}/*", "${data.arn}"]
          Effect: Allow
          Action: [s3:ListBucket, s3:PutObject, s3:GetObject]
"#,
    );
    let plan = account.plan(&reordered).await;
    assert_no_changes(&plan);
    assert_eq!(change(&plan, "IamRole/role").action, Action::NoOp);

    // A new path is a new role (same name: deleted, then created).
    let moved = edit(
        BASE,
        "  roleName: demo-spare\n",
        "  roleName: demo-spare\n  path: /service-role/\n",
    );
    let plan = account.plan(&moved).await;
    let c = change(&plan, "IamRole/spare-role");
    assert_eq!(c.action, Action::Replace);
    assert!(!c.create_before_destroy);
    let f = field(c, "path");
    assert!(f.forces_replacement);
    assert_eq!(
        (f.before.clone(), f.after.clone()),
        (Some(json!("/")), Some(json!("/service-role/")))
    );
    assert!(reason(c).contains("`path`"));
    assert!(matches!(&c.ops[..], [Op::Delete { .. }, Op::Create { .. }]));

    // Removed from the manifests: deleted (roles hold no data).
    let plan = account.plan(&without(BASE, &["name: spare-role"])).await;
    let c = change(&plan, "IamRole/spare-role");
    assert_eq!(c.action, Action::Delete);
    assert_eq!(c.aws_name, "demo-spare");
    assert_eq!(c.reason.as_deref(), Some("it is no longer declared"));
    assert!(
        matches!(&c.ops[..], [Op::Delete { kind, name, .. }] if kind == "IamRole" && name == "demo-spare")
    );
    assert_eq!(acting(&plan).len(), 1, "{:#?}", acting(&plan));
}

/// Applies `plan` with `--wait`, failing what is sent to objects of kind `failing`;
/// returns the report and the operations sent, in order.
async fn apply_recorded(
    account: &Account,
    plan: &Plan,
    failing: Option<&'static str>,
) -> (bedform::apply::ApplyReport, Vec<String>) {
    let mut recording = Paced::new(account, "", 0, 0);
    recording.failing = failing;
    let report = bedform::apply::apply(
        &recording,
        plan,
        &common::apply_options(true),
        &bedform::apply::progress::Progress::quiet(),
    )
    .await;
    let events = recording.events.into_inner().unwrap();
    let sent = events
        .iter()
        .filter_map(|e| e.strip_prefix("start "))
        .map(str::to_string)
        .collect();
    (report, sent)
}

#[tokio::test]
async fn a_renamed_role_is_deleted_only_after_its_users_name_the_new_one() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let renamed = edit(BASE, "roleName: demo-role", "roleName: demo-role-2");
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "IamRole/role");
    assert_eq!(c.action, Action::Replace);
    assert!(c.create_before_destroy);
    assert_eq!(
        change(&plan, "InvocationLogging/logging").action,
        Action::Update
    );

    let (report, sent) = apply_recorded(&account, &plan, None).await;
    assert!(!report.failed(), "{report:#?}");
    let at = |op: &str| {
        sent.iter()
            .position(|s| s == op)
            .unwrap_or_else(|| panic!("`{op}` was not sent: {sent:#?}"))
    };
    let created = at("create IamRole demo-role-2");
    let repointed = at("update InvocationLogging model-invocation-logging");
    let deleted = at("delete IamRole demo-role");
    assert!(created < repointed && repointed < deleted, "{sent:#?}");
    // The report shows the replacement whole, both operations under one change.
    let role = report
        .results
        .iter()
        .find(|r| r.address.to_string() == "IamRole/role")
        .expect("the role's result");
    assert_eq!(role.outcome, Outcome::Done);
    assert_eq!(
        role.done,
        ["create IamRole demo-role-2", "delete IamRole demo-role"]
    );
    assert!(!account.exists("IamRole", "demo-role").await);
    assert_no_changes(&account.plan(&renamed).await);
}

#[tokio::test]
async fn a_renamed_role_whose_user_failed_is_kept_for_a_later_apply() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let renamed = edit(BASE, "roleName: demo-role", "roleName: demo-role-2");
    let plan = account.plan(&renamed).await;
    let (report, sent) = apply_recorded(&account, &plan, Some("InvocationLogging")).await;
    assert!(report.failed());
    assert!(
        !sent.iter().any(|s| s == "delete IamRole demo-role"),
        "{sent:#?}"
    );
    // The logging still names the old role, which is still there.
    assert!(account.exists("IamRole", "demo-role").await);
    match &outcome_of(&report, "IamRole/role") {
        Outcome::Pending { reason } => {
            assert!(reason.contains("delete IamRole demo-role"), "{reason}");
            assert!(reason.contains("InvocationLogging/logging"), "{reason}");
        }
        other => panic!("{other:#?}"),
    }
    // The next plan points the logging at the new role, then finishes the replacement.
    let again = account.plan(&renamed).await;
    assert_eq!(
        change(&again, "InvocationLogging/logging").action,
        Action::Update
    );
    let leftover = acting_change(&again, "IamRole/role");
    assert_eq!(
        (leftover.action, leftover.aws_name.as_str()),
        (Action::Delete, "demo-role")
    );
    account.apply_plan(&again, true).await;
    assert!(!account.exists("IamRole", "demo-role").await);
    assert_no_changes(&account.plan(&renamed).await);
}

// ---------------------------------------------------------- InvocationLogging

#[tokio::test]
async fn invocation_logging_update_absent_and_omission() {
    let account = Account::new(fast());
    account.apply(BASE).await;

    let video = edit(BASE, "deliver: [text]", "deliver: [text, video]");
    let plan = account.plan(&video).await;
    let c = change(&plan, "InvocationLogging/logging");
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.aws_name, "model-invocation-logging");
    assert_eq!(paths(c), ["videoDataDeliveryEnabled"]);
    let f = field(c, "videoDataDeliveryEnabled");
    assert_eq!(
        (f.before.clone(), f.after.clone()),
        (Some(json!(false)), Some(json!(true)))
    );
    assert!(!c.drift);

    // Omitted: left alone, not even mentioned.
    let omitted = without(BASE, &["kind: InvocationLogging"]);
    let plan = account.plan(&omitted).await;
    assert!(
        plan.changes
            .iter()
            .all(|c| c.address.kind != "InvocationLogging"
                && c.aws_name != "model-invocation-logging"),
        "{:#?}",
        plan.changes
    );
    assert_no_changes(&plan);

    // `state: absent` removes it.
    let absent = edit(
        BASE,
        "  deliver: [text]\n",
        "  deliver: [text]\n  state: absent\n",
    );
    let plan = account.plan(&absent).await;
    let c = change(&plan, "InvocationLogging/logging");
    assert_eq!(c.action, Action::Delete);
    assert!(reason(c).contains("state: absent"));
    assert!(matches!(&c.ops[..], [Op::Delete { kind, .. }] if kind == "InvocationLogging"));
    account.apply_plan(&plan, true).await;
    let plan = account.plan(&absent).await;
    assert_eq!(
        change(&plan, "InvocationLogging/logging").action,
        Action::NoOp
    );
    assert_no_changes(&plan);
}

// ---------------------------------------------------------------- ModelAccess

#[tokio::test]
async fn model_access_adds_keeps_and_cancels_agreements() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    assert_no_changes(&account.plan(BASE).await);

    // Swapping the model adds the new agreement and keeps the old one.
    let swapped = edit(
        BASE,
        "models: [anthropic.claude-3-5-haiku-20241022-v1:0]",
        "models: [anthropic.claude-3-haiku-20240307-v1:0]",
    );
    let plan = account.plan(&swapped).await;
    let c = change(&plan, "ModelAccess/access");
    assert_eq!(c.action, Action::Update);
    let f = field(c, "agreements");
    assert_eq!(f.before, None);
    assert_eq!(
        f.after,
        Some(json!(["anthropic.claude-3-haiku-20240307-v1:0"]))
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("anthropic.claude-3-5-haiku-20241022-v1:0") && n.contains("kept")),
        "{:?}",
        c.notes
    );
    assert!(!c.ops.iter().any(
        |op| matches!(op, Op::Update { attrs, .. } if attrs.contains_key("deleteAgreements"))
    ));

    // Only removing it: a no-op with the note.
    let none = edit(
        BASE,
        "models: [anthropic.claude-3-5-haiku-20241022-v1:0]",
        "models: []",
    );
    let plan = account.plan(&none).await;
    let c = change(&plan, "ModelAccess/access");
    assert_eq!(c.action, Action::NoOp);
    assert!(c.notes.iter().any(|n| n.contains("agreement is kept")));

    // `state: absent` cancels the agreements of the listed models.
    let absent = edit(
        BASE,
        "models: [anthropic.claude-3-5-haiku-20241022-v1:0]",
        "models: [anthropic.claude-3-5-haiku-20241022-v1:0]\n  state: absent",
    );
    let plan = account.plan(&absent).await;
    let c = change(&plan, "ModelAccess/access");
    assert_eq!(c.action, Action::Delete);
    assert_eq!(
        field(c, "agreements").before,
        Some(json!(["anthropic.claude-3-5-haiku-20241022-v1:0"]))
    );
    account.apply_plan(&plan, true).await;
    let plan = account.plan(&absent).await;
    assert_eq!(change(&plan, "ModelAccess/access").action, Action::NoOp);
}

#[test]
fn model_access_use_case_form_is_sensitive_and_never_resent() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("form.json"),
        r#"{"companyName": "Acme", "intendedUsers": "support agents"}"#,
    )
    .expect("write form");
    let text = edit(
        BASE,
        "models: [anthropic.claude-3-5-haiku-20241022-v1:0]",
        "models: [anthropic.claude-3-5-haiku-20241022-v1:0]\n  useCaseForm: {file: form.json}",
    );
    let desired = desired_from(&dir.path().join("m.yaml").to_string_lossy(), &text);
    let mut observed = empty_account();
    let c = plan(&desired, &observed, &PlanOptions::default());
    let c = change(&c, "ModelAccess/access");
    let f = field(c, "useCaseForm");
    assert!(f.sensitive);
    assert_eq!(c.action, Action::Update);

    // A different form on file: a warning, nothing sent.
    let mut access = model_access(&["anthropic.claude-3-5-haiku-20241022-v1:0"]);
    access
        .attrs
        .insert("useCaseForm".into(), json!({"companyName": "Other"}));
    observed.resources.push(access);
    let p = plan(&desired, &observed, &PlanOptions::default());
    let c = change(&p, "ModelAccess/access");
    assert_eq!(c.action, Action::NoOp);
    assert!(c.ops.is_empty());
    assert!(c.warnings.iter().any(|w| w.contains("use-case form")));
}

// ----------------------------------------------------------- CustomizationJob

const MAX_1000: &str = "maxResponseLength: 1000";
const MAX_2000: &str = "maxResponseLength: 2000";

#[tokio::test]
async fn job_spec_change_is_a_new_job_and_stops_the_running_one() {
    let account = Account::new(Timing {
        job_seconds: 60.0,
        ..fast()
    });
    let no_serving = without(BASE, &["kind: ProvisionedThroughput"]);
    let first = account.plan(&no_serving).await;
    let old_name = job_name(&first);
    let job = change(&first, "CustomizationJob/job");
    assert_eq!(job.action, Action::Create);
    assert!(old_name.starts_with("job-") && old_name.len() == "job-".len() + 8);
    account.apply_plan(&first, false).await;

    // In progress and unchanged: a no-op showing its status.
    let plan = account.plan(&no_serving).await;
    let c = change(&plan, "CustomizationJob/job");
    assert_eq!(c.action, Action::NoOp);
    assert_eq!(c.status.as_deref(), Some("InProgress"));

    let changed = edit(&no_serving, MAX_1000, MAX_2000);
    let plan = account.plan(&changed).await;
    let all = changes(&plan, "CustomizationJob/job");
    assert_eq!(all.len(), 2, "{all:#?}");
    let stop = all
        .iter()
        .find(|c| c.action == Action::Stop)
        .expect("a stop");
    assert_eq!(stop.aws_name, old_name);
    assert_eq!(stop.status.as_deref(), Some("InProgress"));
    assert!(matches!(&stop.ops[..], [Op::StopJob { name }] if *name == old_name));
    let new = all
        .iter()
        .find(|c| c.action == Action::Replace)
        .expect("a replace");
    assert_ne!(new.aws_name, old_name);
    assert!(new.aws_name.starts_with("job-"));
    assert!(new.retrains);
    assert!(new.create_before_destroy);
    let f = field(new, "teacher");
    assert!(f.forces_replacement);
    assert_eq!(
        f.before.as_ref().and_then(|t| t.get("maxResponseLength")),
        Some(&json!(1000))
    );
    assert_eq!(
        f.after.as_ref().and_then(|t| t.get("maxResponseLength")),
        Some(&json!(2000))
    );
    assert!(reason(new).contains("training inputs changed"));
    let (name, token) = create_op(new);
    assert_eq!(name, new.aws_name);
    assert!(token.is_some());

    account.apply_plan(&plan, false).await;
    let observed = account.observed().await;
    assert_eq!(
        observed
            .find("CustomizationJob", &old_name)
            .and_then(|j| j.status.clone())
            .as_deref(),
        Some("Stopped")
    );
    assert_eq!(
        observed
            .find("CustomizationJob", &new.aws_name)
            .and_then(|j| j.status.clone())
            .as_deref(),
        Some("InProgress")
    );
    // The stopped old generation is no longer acted on.
    assert_no_changes(&account.plan(&changed).await);
}

#[tokio::test]
async fn changing_only_the_role_of_a_trained_job_does_not_retrain() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let before = account.plan(BASE).await;
    let name = job_name(&before);
    let other_role = edit(
        BASE,
        "\n  role: {ref: role}\n",
        "\n  role: {ref: spare-role}\n",
    );
    let plan = account.plan(&other_role).await;
    let c = change(&plan, "CustomizationJob/job");
    assert_eq!(c.action, Action::NoOp);
    assert_eq!(c.aws_name, name);
    assert!(c.ops.is_empty());
    assert!(
        c.notes.iter().any(|n| n.contains("roleArn")),
        "{:?}",
        c.notes
    );
    assert!(!plan.changes.iter().any(|c| c.retrains));
    // The throughput keeps serving the same model.
    assert_eq!(
        change(&plan, "ProvisionedThroughput/serving").action,
        Action::NoOp
    );
}

#[tokio::test]
async fn a_failed_job_is_shown_and_retried_only_when_asked() {
    let account = Account::new(fast());
    let no_serving = without(BASE, &["kind: ProvisionedThroughput"]);
    account.apply(&no_serving).await;
    let name = job_name(&account.plan(&no_serving).await);
    let mut observed = account.observed().await;
    let model = observed_mut(&mut observed, "CustomizationJob", &name)
        .attrs
        .get("customModelName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .expect("model name");
    observed
        .resources
        .retain(|r| !(r.kind == "CustomModel" && r.aws_name == model));
    let job = observed_mut(&mut observed, "CustomizationJob", &name);
    job.status = Some("Failed".into());
    job.status_message = Some("Training data has 3 records; at least 100 are needed".into());

    let desired = desired(&no_serving);
    let p = plan(&desired, &observed, &PlanOptions::default());
    let c = change(&p, "CustomizationJob/job");
    assert_eq!(c.action, Action::NoOp);
    assert!(c.ops.is_empty());
    assert_eq!(c.status.as_deref(), Some("Failed"));
    assert!(
        c.status_message
            .as_deref()
            .unwrap_or("")
            .contains("at least 100")
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("--retry-failed")),
        "{:?}",
        c.warnings
    );

    let retry = plan(
        &desired,
        &observed,
        &PlanOptions {
            retry_failed: true,
            ..PlanOptions::default()
        },
    );
    let c = change(&retry, "CustomizationJob/job");
    assert_eq!(c.action, Action::Create);
    assert_eq!(c.aws_name, format!("{name}-r2"));
    assert!(c.retrains);
    assert!(reason(c).contains("Failed"));
    let (op_name, token) = create_op(c);
    assert_eq!(op_name, format!("{name}-r2"));
    let first = plan_of(&no_serving, &empty_account());
    let first_token = create_op(change(&first, "CustomizationJob/job")).1;
    assert_ne!(token, first_token, "a retry has its own idempotency token");

    // The second attempt failing too plans `-r3`.
    let mut observed = observed.clone();
    let mut second = observed_mut(&mut observed, "CustomizationJob", &name).clone();
    second.aws_name = format!("{name}-r2");
    observed.resources.push(second);
    let retry = plan(
        &desired,
        &observed,
        &PlanOptions {
            retry_failed: true,
            ..PlanOptions::default()
        },
    );
    assert_eq!(
        change(&retry, "CustomizationJob/job").aws_name,
        format!("{name}-r3")
    );
}

#[tokio::test]
async fn removing_a_job_stops_it_if_running_and_deletes_a_trained_model_explicitly() {
    // Running: stopped.
    let account = Account::new(Timing {
        job_seconds: 60.0,
        ..fast()
    });
    let no_serving = without(BASE, &["kind: ProvisionedThroughput"]);
    account
        .apply_plan(&account.plan(&no_serving).await, false)
        .await;
    let name = job_name(&account.plan(&no_serving).await);
    let plan = account
        .plan(&without(&no_serving, &["kind: CustomizationJob"]))
        .await;
    let c = change(&plan, "CustomizationJob/job");
    assert_eq!(c.action, Action::Stop);
    assert_eq!(c.aws_name, name);
    assert_eq!(c.reason.as_deref(), Some("it is no longer declared"));

    // Trained and served: the throughput is deleted, and the model, said so.
    let account = Account::new(fast());
    account.apply(BASE).await;
    let gone = without(
        BASE,
        &["kind: ProvisionedThroughput", "kind: CustomizationJob"],
    );
    let plan = account.plan(&gone).await;
    let serving = change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(serving.action, Action::Delete);
    assert!(serving.warnings.iter().any(|w| w.contains("stops serving")));
    let model = change(&plan, "CustomizationJob/job");
    assert_eq!(model.action, Action::Delete);
    assert!(model.deletes_data);
    assert!(matches!(&model.ops[..], [Op::Delete { kind, .. }] if kind == "CustomModel"));
    assert!(model.warnings.iter().any(|w| w.contains("custom model")));
    account.apply_plan(&plan, true).await;
    let observed = account.observed().await;
    assert_eq!(observed.of_kind("CustomModel").count(), 0);
    assert_eq!(observed.of_kind("ProvisionedThroughput").count(), 0);
    assert_no_changes(&account.plan(&gone).await);
}

// ------------------------------------------------------ ProvisionedThroughput

#[tokio::test]
async fn throughput_units_replace_first_and_rename_in_place() {
    let account = Account::new(fast());
    account.apply(BASE).await;

    // More units: a new throughput under a hashed name, then the old one goes.
    let bigger = edit(BASE, "modelUnits: 1", "modelUnits: 2");
    let plan = account.plan(&bigger).await;
    let c = change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(c.action, Action::Replace);
    assert!(c.create_before_destroy);
    let d = desired(&bigger);
    let spec_hash = &d
        .get(
            &"ProvisionedThroughput/serving"
                .to_string()
                .try_into()
                .expect("address"),
        )
        .expect("declared")
        .spec_hash;
    let hashed = format!("serving-{}", &spec_hash[..8]);
    assert_eq!(c.aws_name, hashed);
    let f = field(c, "modelUnits");
    assert!(f.forces_replacement);
    assert_eq!(
        (f.before.clone(), f.after.clone()),
        (Some(json!(1)), Some(json!(2)))
    );
    assert!(c.purchase.is_none(), "no commitment, no purchase");
    assert!(c.warnings.iter().any(|w| w.contains("billed")));
    assert!(reason(c).contains("`modelUnits`"));
    // Then it takes the declared name back, in the same apply.
    match &c.ops[..] {
        [
            Op::Create {
                name,
                client_request_token: Some(_),
                ..
            },
            Op::Delete { name: old, .. },
            Op::Update {
                name: renamed,
                current_name: Some(current),
                ..
            },
        ] => {
            assert_eq!(name, &hashed);
            assert_eq!(old, "serving");
            assert_eq!((renamed.as_str(), current), ("serving", &hashed));
        }
        other => panic!("expected create, delete, then rename, got {other:?}"),
    }
    assert!(c.notes.iter().any(|n| n.contains("takes `serving` back")));
    account.apply_plan(&plan, true).await;
    let observed = account.observed().await;
    assert!(observed.find("ProvisionedThroughput", &hashed).is_none());
    let serving = observed
        .find("ProvisionedThroughput", "serving")
        .expect("under its declared name again");
    assert_eq!(serving.attrs["modelUnits"], json!(2));
    assert_no_changes(&account.plan(&bigger).await);

    // A new name is an in-place update.
    let renamed = edit(
        &bigger,
        "  modelUnits: 2\n",
        "  modelUnits: 2\n  provisionedModelName: serving-v2\n",
    );
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(c.action, Action::Update);
    assert!(c.purchase.is_none());
    let f = field(c, "provisionedModelName");
    assert!(!f.forces_replacement);
    assert_eq!(f.before, Some(json!("serving")));
    assert_eq!(f.after, Some(json!("serving-v2")));
    assert!(
        matches!(&c.ops[..], [Op::Update { name, current_name: Some(current), .. }] if name == "serving-v2" && current == "serving")
    );
    account.apply_plan(&plan, true).await;
    assert_no_changes(&account.plan(&renamed).await);
}

#[tokio::test]
async fn commitment_is_a_purchase_and_holds_the_throughput_until_it_expires() {
    let account = Account::new(fast());
    let committed = edit(BASE, "commitment: none", "commitment: oneMonth");
    let plan = account.plan(&committed).await;
    let c = change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(c.action, Action::Create);
    let purchase = c.purchase.as_ref().expect("a purchase");
    assert_eq!(purchase.commitment, "oneMonth");
    assert_eq!(purchase.model_units, 1);
    assert!(purchase.model.starts_with("custom-model/job-"));
    account.apply_plan(&plan, true).await;
    assert_no_changes(&account.plan(&committed).await);

    // Under commitment: removing it is refused, and so is replacing it.
    let removed = without(&committed, &["kind: ProvisionedThroughput"]);
    let plan = account.plan(&removed).await;
    assert_refused(change(&plan, "ProvisionedThroughput/serving"), "commitment");
    assert_eq!(plan.blocking().count(), 1);

    let bigger = edit(&committed, "modelUnits: 1", "modelUnits: 2");
    let plan = account.plan(&bigger).await;
    let c = change(&plan, "ProvisionedThroughput/serving");
    assert_refused(c, "commitment");
    assert!(field(c, "modelUnits").forces_replacement);

    // After expiry (judged by the observation time, not a clock): deleted.
    let mut observed = account.observed().await;
    let expiry = observed
        .find("ProvisionedThroughput", "serving")
        .and_then(|t| t.fact_str("commitmentExpirationTime"))
        .expect("expiry")
        .to_string();
    observed.observed_at = "2099-01-01T00:00:00Z".into();
    assert!(expiry < observed.observed_at);
    let p = plan_of(&removed, &observed);
    let c = change(&p, "ProvisionedThroughput/serving");
    assert_eq!(c.action, Action::Delete);
    assert!(matches!(&c.ops[..], [Op::Delete { name, .. }] if name == "serving"));
}

#[tokio::test]
async fn a_commitment_added_later_replaces_with_a_purchase() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let committed = edit(BASE, "commitment: none", "commitment: sixMonths");
    let plan = account.plan(&committed).await;
    let c = change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(c.action, Action::Replace);
    assert!(field(c, "commitment").forces_replacement);
    let purchase = c.purchase.as_ref().expect("a purchase");
    assert_eq!(purchase.commitment, "sixMonths");
    assert_eq!(plan.purchases().count(), 1);
}

#[tokio::test]
async fn retraining_swaps_the_model_in_place_once_it_is_ready() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let old_model = format!("custom-model/{}", model_of(BASE));

    let retrain = edit(BASE, MAX_1000, MAX_2000);
    let plan = account.plan(&retrain).await;
    let job = changes(&plan, "CustomizationJob/job")
        .into_iter()
        .find(|c| c.retrains)
        .expect("a new job");
    assert_eq!(job.action, Action::Replace);
    let new_model = format!("custom-model/{}", model_of(&retrain));
    assert_ne!(old_model, new_model);

    // The swap is planned now, to be sent once the model is trained.
    let serving = change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(serving.action, Action::Wait);
    assert!(
        matches!(&serving.ops[..], [Op::Update { name, fields, current_name: None, .. }] if name == "serving" && fields == &["model"]),
        "{:#?}",
        serving.ops
    );
    assert!(serving.purchase.is_none());
    let wait = serving.waits_on.as_ref().expect("waits on the job");
    assert_eq!(wait.address.to_string(), "CustomizationJob/job");
    assert_eq!(format!("custom-model/{}", wait.name), new_model);
    let f = field(serving, "model");
    assert!(!f.forces_replacement);
    assert_eq!(f.before, Some(json!(old_model)));
    assert_eq!(f.after, Some(json!(new_model)));

    // And so is the fate of the superseded model: deleted after the swap.
    let old = superseded(&plan, &old_model);
    assert_eq!(old.action, Action::Delete);
    assert!(old.deletes_data);
    assert!(reason(old).contains("supersededModel: delete"), "{old:#?}");
    // It names the models the right way round: the old one goes, for the new one.
    assert_eq!(format!("custom-model/{}", old.aws_name), old_model);
    assert!(
        reason(old).contains(&format!("superseded by `{}`", wait.name)),
        "{old:#?}"
    );
    assert_eq!(
        old.waits_on.as_ref().map(|w| w.name.as_str()),
        Some(wait.name.as_str())
    );
    assert!(
        old.depends_on
            .iter()
            .any(|a| a.to_string() == "ProvisionedThroughput/serving"),
        "{old:#?}"
    );

    // One apply --wait of the reviewed plan (as `apply --plan FILE --wait`, which
    // plans nothing again) trains, swaps and deletes, in that order.
    let report = account.apply_plan(&plan, true).await;
    assert_eq!(
        outcome_of(&report, "ProvisionedThroughput/serving"),
        &Outcome::Done
    );
    let observed = account.observed().await;
    let throughput = observed
        .find("ProvisionedThroughput", "serving")
        .expect("still serving");
    assert_eq!(throughput.attrs.get("model"), Some(&json!(new_model)));
    let old_name = old_model.trim_start_matches("custom-model/");
    assert!(!account.exists("CustomModel", old_name).await);
    assert_no_changes(&account.plan(&retrain).await);
}

#[tokio::test]
async fn a_superseded_model_is_kept_when_the_manifest_says_so() {
    let account = Account::new(fast());
    let keep = edit(
        BASE,
        "  role: {ref: role}\n---",
        "  role: {ref: role}\n  supersededModel: keep\n---",
    );
    account.apply(&keep).await;
    let old_model = format!("custom-model/{}", model_of(&keep));
    let retrain = edit(&keep, MAX_1000, MAX_2000);
    let plan = account.plan(&retrain).await;
    let old = superseded(&plan, &old_model);
    assert_eq!(old.action, Action::NoOp);
    let new_model = plan
        .changes
        .iter()
        .find_map(|c| c.waits_on.as_ref().map(|w| w.name.clone()))
        .expect("the swap waits on the new model");
    let kept = format!(
        "previous custom model `{}` is kept after `{new_model}` is trained (`supersededModel: keep`)",
        old_model.trim_start_matches("custom-model/")
    );
    assert!(old.notes.contains(&kept), "{old:#?}");
    account.apply_plan(&plan, true).await;
    let old_name = old_model.trim_start_matches("custom-model/");
    assert!(account.exists("CustomModel", old_name).await);
    // Kept for good: no later plan deletes it.
    assert_no_changes(&account.plan(&retrain).await);
    assert!(account.exists("CustomModel", old_name).await);
}

/// The change of the custom model `identity` an earlier spec trained.
fn superseded<'a>(plan: &'a Plan, identity: &str) -> &'a Change {
    plan.changes
        .iter()
        .find(|c| format!("custom-model/{}", c.aws_name) == identity)
        .unwrap_or_else(|| panic!("the old model is not shown: {:#?}", plan.changes))
}

fn model_of(text: &str) -> String {
    let d = desired(text);
    d.resources
        .iter()
        .find(|r| r.address.kind == "CustomizationJob")
        .and_then(|r| r.attr_str("customModelName"))
        .expect("custom model name")
        .to_string()
}

// ------------------------------------------------------------------ ownership

#[test]
fn objects_this_stack_does_not_own_are_never_touched() {
    let d = desired(BASE);
    let mut observed = empty_account();
    // Same name, no ownership tags.
    observed.resources.push(unowned("Bucket", "demo-data"));
    // Same name, another stack's.
    let role = d
        .resources
        .iter()
        .find(|r| r.address.to_string() == "IamRole/spare-role")
        .expect("declared");
    let mut tags = role.tags_with_ownership("other-stack");
    tags.insert(TAG_SPEC_HASH.into(), "0000".into());
    observed.resources.push(ObservedResource {
        attrs: role.attrs.clone(),
        tags,
        ..unowned("IamRole", "demo-spare")
    });
    // Another stack's, not declared here.
    observed.resources.push(owned_by(
        "Bucket",
        "other-data",
        "other-stack",
        "Bucket/data",
    ));
    let p = plan(&d, &observed, &PlanOptions::default());

    let bucket = change(&p, "Bucket/data");
    assert_eq!(bucket.action, Action::Unmanaged);
    assert!(bucket.ops.is_empty());
    assert!(reason(bucket).contains("bedform import"));
    let role = change(&p, "IamRole/spare-role");
    assert_eq!(role.action, Action::Unmanaged);
    assert!(role.ops.is_empty());
    assert!(reason(role).contains("other-stack"));
    assert_eq!(p.blocking().count(), 2);
    assert_eq!(p.summary.unmanaged, 2);
    // No operation anywhere names them, nor the undeclared one.
    for c in &p.changes {
        for op in &c.ops {
            let named = match op {
                Op::Create { kind, name, .. }
                | Op::Update { kind, name, .. }
                | Op::Delete { kind, name, .. }
                | Op::Untag { kind, name, .. } => (kind.as_str(), name.as_str()),
                Op::StopJob { name } => ("CustomizationJob", name.as_str()),
            };
            assert!(
                !matches!(
                    named,
                    ("Bucket", "demo-data" | "other-data") | ("IamRole", "demo-spare")
                ),
                "{} touches {named:?}",
                c.address
            );
        }
    }
    assert!(!p.changes.iter().any(|c| c.aws_name == "other-data"));
}

#[test]
fn a_resource_owned_by_another_address_of_this_stack_is_not_taken_over() {
    let d = desired(BASE);
    let mut observed = empty_account();
    observed.resources.push(owned_by(
        "Bucket",
        "demo-scratch",
        STACK,
        "Bucket/elsewhere",
    ));
    let p = plan(&d, &observed, &PlanOptions::default());
    let c = change(&p, "Bucket/scratch");
    assert_eq!(c.action, Action::Unmanaged);
    assert!(c.ops.is_empty());
}

// ------------------------------------------------------------- preventDestroy

#[tokio::test]
async fn prevent_destroy_refuses_deletes_and_replacements() {
    let account = Account::new(fast());
    let guarded = edit(
        BASE,
        "  roleName: demo-spare\n",
        "  roleName: demo-spare\n  preventDestroy: true\n",
    );
    let guarded = edit(
        &guarded,
        "  commitment: none\n",
        "  commitment: none\n  preventDestroy: true\n",
    );
    account.apply(&guarded).await;
    let observed = account.observed().await;
    assert_eq!(
        observed
            .find("IamRole", "demo-spare")
            .and_then(|r| r.tag(TAG_PREVENT_DESTROY)),
        Some("true")
    );

    // Replacement refused.
    let moved = edit(
        &guarded,
        "  roleName: demo-spare\n",
        "  roleName: demo-spare\n  path: /service-role/\n",
    );
    let plan = account.plan(&moved).await;
    assert_refused(change(&plan, "IamRole/spare-role"), "preventDestroy");

    let bigger = edit(&guarded, "modelUnits: 1", "modelUnits: 3");
    let plan = account.plan(&bigger).await;
    assert_refused(
        change(&plan, "ProvisionedThroughput/serving"),
        "preventDestroy",
    );

    // Removed from the manifests: the tag still guards it.
    let removed = without(
        &guarded,
        &["name: spare-role", "kind: ProvisionedThroughput"],
    );
    let plan = account.plan(&removed).await;
    for address in ["IamRole/spare-role", "ProvisionedThroughput/serving"] {
        assert_refused(change(&plan, address), "preventDestroy");
    }

    // Lifting the guard is itself a reviewed change, after which delete is allowed.
    let plan = account.plan(BASE).await;
    let c = change(&plan, "IamRole/spare-role");
    assert_eq!(c.action, Action::Update);
    assert_eq!(paths(c), ["tags"]);
    account.apply_plan(&plan, true).await;
    let plan = account.plan(&without(BASE, &["name: spare-role"])).await;
    assert_eq!(change(&plan, "IamRole/spare-role").action, Action::Delete);
}

#[tokio::test]
async fn prevent_destroy_on_a_bucket_refuses_its_rename() {
    let account = Account::new(fast());
    let guarded = edit(
        BASE,
        "bucketName: demo-scratch\n",
        "bucketName: demo-scratch\n  preventDestroy: true\n",
    );
    account.apply(&guarded).await;
    let plan = account
        .plan(&edit(
            &guarded,
            "bucketName: demo-scratch",
            "bucketName: demo-scratch-2",
        ))
        .await;
    assert_refused(change(&plan, "Bucket/scratch"), "preventDestroy");
}

// -------------------------------------------------------------- determinism

#[tokio::test]
async fn plans_are_deterministic_sorted_and_carry_stable_tokens() {
    let account = Account::new(fast());
    let no_serving = without(BASE, &["kind: ProvisionedThroughput"]);
    account.apply(&no_serving).await;
    let text = edit(BASE, MAX_1000, MAX_2000);
    let text = edit(&text, "retentionDays: 30", "retentionDays: 90");
    let observed = account.observed().await;
    let a = plan_of(&text, &observed);
    let b = plan_of(&text, &observed);
    let json_a = serde_json::to_string(&a).expect("json");
    assert_eq!(json_a, serde_json::to_string(&b).expect("json"));
    // The order observed objects are listed in does not matter.
    let mut shuffled = observed.clone();
    shuffled.resources.reverse();
    assert_eq!(
        json_a,
        serde_json::to_string(&plan_of(&text, &shuffled)).expect("json")
    );
    assert_eq!(
        a.observed_fingerprints,
        plan_of(&text, &shuffled).observed_fingerprints
    );

    let addresses: Vec<String> = a.changes.iter().map(|c| c.address.to_string()).collect();
    let mut sorted = a
        .changes
        .iter()
        .map(|c| c.address.clone())
        .collect::<Vec<_>>();
    sorted.sort();
    assert_eq!(
        addresses,
        sorted.iter().map(ToString::to_string).collect::<Vec<_>>()
    );

    // Tokens derive from what the create means.
    let job = changes(&a, "CustomizationJob/job")
        .into_iter()
        .find(|c| c.action == Action::Replace)
        .expect("new job");
    let (name, token) = create_op(job);
    let d = desired(&text);
    let declared = d
        .resources
        .iter()
        .find(|r| r.address.kind == "CustomizationJob")
        .expect("job");
    assert_eq!(
        token,
        Some(
            bedform::hash::client_request_token(
                STACK,
                "CustomizationJob/job",
                name,
                &declared.spec_hash
            )
            .as_str()
        )
    );
    let serving = change(&a, "ProvisionedThroughput/serving");
    let (_, serving_token) = create_op(serving);
    assert!(serving_token.is_some());
    let again = plan_of(&text, &empty_account());
    assert_eq!(
        create_op(change(&again, "ProvisionedThroughput/serving")).1,
        serving_token
    );
    let other = plan_of(
        &edit(&text, "modelUnits: 1", "modelUnits: 2"),
        &empty_account(),
    );
    assert_ne!(
        create_op(change(&other, "ProvisionedThroughput/serving")).1,
        serving_token
    );
}

#[test]
fn the_same_manifest_planned_from_another_folder_is_the_same_plan() {
    let moved = desired_from(
        &Path::new("elsewhere").join("demo.yaml").to_string_lossy(),
        BASE,
    );
    let mut a = plan(&moved, &empty_account(), &PlanOptions::default());
    let b = plan(&desired(BASE), &empty_account(), &PlanOptions::default());
    // Only where each change is declared differs; what it does and hashes do not.
    for change in &mut a.changes {
        let source = change
            .source
            .take()
            .expect("declared changes carry their source");
        assert!(source.starts_with("elsewhere"), "{source}");
    }
    let b_without_sources: Vec<_> = b
        .changes
        .iter()
        .cloned()
        .map(|mut c| {
            c.source = None;
            c
        })
        .collect();
    assert_eq!(a.changes, b_without_sources);
    assert_eq!(
        (a.observed_fingerprints, a.summary),
        (b.observed_fingerprints, b.summary)
    );
}

#[tokio::test]
async fn a_throughput_replacement_interrupted_after_the_create_is_resumed_not_undone() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let bigger = edit(BASE, "modelUnits: 1", "modelUnits: 2");
    let plan = account.plan(&bigger).await;
    let c = change(&plan, "ProvisionedThroughput/serving");
    let new_name = c.aws_name.clone();
    // apply dies right after AWS accepted the new throughput.
    account.sandbox.execute(&c.ops[0]).await.expect("create");
    let resumed = account.plan(&bigger).await;
    let all = changes(&resumed, "ProvisionedThroughput/serving");
    assert!(
        all.iter().all(|c| !c
            .ops
            .iter()
            .any(|op| matches!(op, Op::Delete { name, .. } if *name == new_name))),
        "the new throughput must not be deleted: {all:#?}"
    );
    let c = acting_change(&resumed, "ProvisionedThroughput/serving");
    assert_eq!(c.action, Action::Replace);
    assert_eq!(
        c.ops,
        plan_change_ops(&plan),
        "the same operations, the same token"
    );
    account.apply_plan(&resumed, true).await;
    let observed = account.observed().await;
    assert_eq!(observed.of_kind("ProvisionedThroughput").count(), 1);
    // Resumed to the end: it took the declared name back.
    assert!(observed.find("ProvisionedThroughput", &new_name).is_none());
    assert!(observed.find("ProvisionedThroughput", "serving").is_some());
    assert_no_changes(&account.plan(&bigger).await);
}

fn plan_change_ops(plan: &Plan) -> Vec<Op> {
    change(plan, "ProvisionedThroughput/serving").ops.clone()
}

#[tokio::test]
async fn a_rename_interrupted_after_the_create_finishes_with_the_delete() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let renamed = edit(
        BASE,
        "bucketName: demo-scratch",
        "bucketName: demo-scratch-2",
    );
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "Bucket/scratch");
    account.sandbox.execute(&c.ops[0]).await.expect("create");
    let resumed = account.plan(&renamed).await;
    let c = acting_change(&resumed, "Bucket/scratch");
    assert_eq!(c.action, Action::Delete, "{c:#?}");
    assert_eq!(c.aws_name, "demo-scratch");
    assert!(reason(c).contains("demo-scratch-2"), "{:?}", c.reason);
    account.apply_plan(&resumed, true).await;
    let observed = account.observed().await;
    assert!(observed.find("Bucket", "demo-scratch").is_none());
    assert_no_changes(&account.plan(&renamed).await);
}

#[tokio::test]
async fn renaming_a_log_group_that_holds_events_needs_deletion_policy_delete() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let mut observed = account.observed().await;
    observed_mut(&mut observed, "LogGroup", "/demo/invocations")
        .facts
        .insert("storedBytes".into(), json!(2048));
    let renamed = edit(
        BASE,
        "logGroupName: /demo/invocations",
        "logGroupName: /demo/calls",
    );
    let p = plan_of(&renamed, &observed);
    assert_refused(change(&p, "LogGroup/logs"), "2048 bytes");

    let allowed = edit(
        &renamed,
        "  retentionDays: 30\n",
        "  retentionDays: 30\n  deletionPolicy: delete\n",
    );
    let p = plan_of(&allowed, &observed);
    let c = change(&p, "LogGroup/logs");
    assert_eq!(c.action, Action::Replace);
    assert!(c.deletes_data);
    assert!(
        c.warnings.iter().any(|w| w.contains("2048 bytes")),
        "{:?}",
        c.warnings
    );
}

#[tokio::test]
async fn prevent_destroy_on_a_job_keeps_superseded_models_without_blocking() {
    let account = Account::new(fast());
    let guarded = edit(
        BASE,
        "\n  role: {ref: role}\n",
        "\n  role: {ref: role}\n  preventDestroy: true\n",
    );
    account.apply(&guarded).await;
    let old_model = model_of(&guarded);
    let retrain = edit(&guarded, MAX_1000, MAX_2000);
    let plan = account.plan(&retrain).await;
    let job = acting_change(&plan, "CustomizationJob/job");
    assert_eq!(job.action, Action::Replace);
    assert!(
        job.warnings
            .iter()
            .any(|w| w.contains("previous model is kept"))
    );
    account.apply_plan(&plan, true).await;
    let swap = account.plan(&retrain).await;
    account.apply_plan(&swap, true).await;

    // Nothing serves the old model any more: kept, and the plan can still be applied.
    let plan = account.plan(&retrain).await;
    let old = plan
        .changes
        .iter()
        .find(|c| c.aws_name == old_model)
        .expect("the old model is shown");
    assert_eq!(old.action, Action::NoOp, "{old:#?}");
    assert!(
        old.notes.iter().any(|n| n.contains("preventDestroy")),
        "{old:#?}"
    );
    assert_eq!(plan.blocking().count(), 0);
    assert_no_changes(&plan);
    assert!(
        account
            .observed()
            .await
            .find("CustomModel", &old_model)
            .is_some()
    );
}

/// A retrain onto another base model cannot be swapped in place:
/// `UpdateProvisionedModelThroughput` swaps only within one base model, and the
/// replacement says so, naming both bases.
#[tokio::test]
async fn a_new_base_model_replaces_the_throughput_and_says_why() {
    let account = Account::new(fast());
    account.apply(BASE).await;
    let rebased = edit(
        BASE,
        "baseModel: amazon.nova-lite-v1:0",
        "baseModel: amazon.nova-micro-v1:0",
    );
    // Train the new model, and plan once it is ready.
    let plan = account.plan(&rebased).await;
    account.apply_plan(&plan, false).await;
    let mut plan = account.plan(&rebased).await;
    for _ in 0..50 {
        if change(&plan, "ProvisionedThroughput/serving").action != Action::Wait {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        plan = account.plan(&rebased).await;
    }
    let serving = acting_change(&plan, "ProvisionedThroughput/serving");
    assert_eq!(serving.action, Action::Replace, "{serving:#?}");
    let reason = reason(serving);
    assert!(
        reason.contains("(amazon.nova-lite-v1:0 -> amazon.nova-micro-v1:0)")
            && reason.contains("UpdateProvisionedModelThroughput"),
        "{reason}"
    );
    assert!(field(serving, "model").forces_replacement);
}

/// The sandbox, each operation on an object of kind `slow` taking `delay` (others
/// `pace`), counting the operations in flight, recording when each starts and
/// ends, and failing those sent to objects of kind `failing`.
struct Paced<'a> {
    sandbox: &'a bedform::cloud::sandbox::Sandbox,
    failing: Option<&'static str>,
    slow: &'static str,
    delay: std::time::Duration,
    pace: std::time::Duration,
    in_flight: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
    events: std::sync::Mutex<Vec<String>>,
}

impl<'a> Paced<'a> {
    fn new(account: &'a Account, slow: &'static str, delay_ms: u64, pace_ms: u64) -> Self {
        Paced {
            sandbox: &account.sandbox,
            failing: None,
            slow,
            delay: std::time::Duration::from_millis(delay_ms),
            pace: std::time::Duration::from_millis(pace_ms),
            in_flight: Default::default(),
            most: Default::default(),
            events: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl Cloud for Paced<'_> {
    async fn caller_account(&self) -> Result<String, bedform::cloud::CloudError> {
        self.sandbox.caller_account().await
    }
    async fn observe(
        &self,
        scope: &bedform::cloud::Scope,
    ) -> Result<ObservedAccount, bedform::cloud::CloudError> {
        self.sandbox.observe(scope).await
    }
    async fn get(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Option<ObservedResource>, bedform::cloud::CloudError> {
        self.sandbox.get(kind, name).await
    }
    async fn execute(&self, op: &Op) -> Result<(), bedform::cloud::CloudError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
        self.events
            .lock()
            .unwrap()
            .push(format!("start {}", op.describe()));
        let delay = if op.kind() == self.slow {
            self.delay
        } else {
            self.pace
        };
        tokio::time::sleep(delay).await;
        let sent = if self.failing == Some(op.kind()) {
            Err(bedform::cloud::CloudError::new(
                bedform::cloud::ErrorClass::Fatal,
                op.describe(),
                "refused for the test",
            ))
        } else {
            self.sandbox.execute(op).await
        };
        self.events
            .lock()
            .unwrap()
            .push(format!("end {}", op.describe()));
        self.in_flight.fetch_sub(1, SeqCst);
        sent
    }
}

fn log_groups(n: usize) -> String {
    let mut text = String::from(
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: demo}\nspec: {region: us-east-1}\n",
    );
    for i in 0..n {
        text.push_str(&format!(
            "---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: group-{i}}}\nspec: {{logGroupName: /demo/group-{i}}}\n"
        ));
    }
    text
}

#[tokio::test]
async fn apply_sends_independent_changes_at_once_up_to_its_bound() {
    let account = Account::new(fast());
    let text = log_groups(3 * bedform::apply::APPLY_CONCURRENCY);
    let plan = account.plan(&text).await;
    let paced = Paced::new(&account, "", 0, 20);
    let report = bedform::apply::apply(
        &paced,
        &plan,
        &common::apply_options(false),
        &bedform::apply::progress::Progress::quiet(),
    )
    .await;
    assert!(!report.failed(), "{report:#?}");
    let most = paced.most.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(most, bedform::apply::APPLY_CONCURRENCY);
    assert_no_changes(&account.plan(&text).await);
}

#[tokio::test]
async fn a_change_starts_when_its_dependencies_are_done_not_when_all_others_are() {
    // The role depends on the bucket (quick); the log group is slow and depends on
    // nothing. The role does not wait for the log group.
    let account = Account::new(fast());
    let text = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec: {region: us-east-1}
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: data}
spec: {bucketName: demo-order-data}
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: slow}
spec: {logGroupName: /demo/slow}
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: reader}
spec:
  assumedBy: bedrock
  inlinePolicies:
    read:
      Version: "2012-10-17"
      Statement:
        - {Effect: Allow, Action: [s3:GetObject], Resource: ["${data.arn}/*"]}
"#;
    let plan = account.plan(text).await;
    let paced = Paced::new(&account, "LogGroup", 400, 5);
    let report = bedform::apply::apply(
        &paced,
        &plan,
        &common::apply_options(false),
        &bedform::apply::progress::Progress::quiet(),
    )
    .await;
    assert!(!report.failed(), "{report:#?}");
    let events = paced.events.into_inner().unwrap();
    let at = |prefix: &str| {
        events
            .iter()
            .position(|e| e.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in {events:#?}"))
    };
    let role_starts = at("start create IamRole");
    assert!(at("end create Bucket") < role_starts, "{events:#?}");
    assert!(role_starts < at("end create LogGroup"), "{events:#?}");
}
