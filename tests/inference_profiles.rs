//! `InferenceProfile`: application inference profiles. Created with a
//! deterministic token and the model they copy, tags updated in place, anything
//! else a replacement whose new ARN the plan warns about, the description masked
//! as the API marks it sensitive. On the sandbox and over the wire through the
//! SDK to the stub of the moto proxy (moto has no inference profiles).

mod common;
mod support;

use bedform::plan::{Action, Op};
use common::{Account, acting, change, edit, fast_clock};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: profiles}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: InferenceProfile
metadata: {name: support-app}
spec:
  model: us.amazon.nova-pro-v1:0
  description: support bot traffic
  tags: {app: support}
  check: {prompt: "Say OK", expect: "OK"}
"#;

/// The listings of the kinds whose objects are found by name in a listing of the
/// region, as the proxy counts them.
const LISTINGS: &[&str] = &[
    LIST_PROFILES,
    "bedrock:GET /provisioned-model-throughputs",
    "bedrock:GET /guardrails",
    "bedrock:GET /model-customization/custom-model-deployments",
    "bedrock:GET /imported-models",
    "bedrock:GET /model-import-jobs",
    "logs:DescribeDeliverySources",
];
const LIST_PROFILES: &str = "bedrock:GET /inference-profiles";

#[tokio::test]
async fn tags_change_in_place_and_everything_else_replaces() {
    let account = Account::new(fast_clock(0.2, 0.1));
    let plan = account.plan(STACK).await;
    let create = change(&plan, "InferenceProfile/support-app");
    assert_eq!(create.action, Action::Create);
    assert!(matches!(
        &create.ops[..],
        [Op::Create { client_request_token: Some(t), .. }] if t.starts_with("bedform-")
    ));
    // The API marks the description sensitive.
    assert!(
        create
            .fields
            .iter()
            .any(|f| f.path == "description" && f.sensitive),
        "{create:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert!(acting(&account.plan(STACK).await).is_empty());

    let retagged = edit(STACK, "tags: {app: support}", "tags: {app: helpdesk}");
    let plan = account.plan(&retagged).await;
    assert_eq!(
        change(&plan, "InferenceProfile/support-app").action,
        Action::Update
    );
    account.apply_plan(&plan, false).await;
    assert!(acting(&account.plan(&retagged).await).is_empty());

    let other = edit(
        &retagged,
        "us.amazon.nova-pro-v1:0",
        "amazon.nova-lite-v1:0",
    );
    let plan = account.plan(&other).await;
    let c = change(&plan, "InferenceProfile/support-app");
    assert_eq!(c.action, Action::Replace);
    assert!(c.warnings.iter().any(|w| w.contains("new ARN")), "{c:#?}");
    account.apply_plan(&plan, false).await;
    assert!(acting(&account.plan(&other).await).is_empty());
}

#[test]
fn names_descriptions_and_models_are_checked_offline() {
    let dir = TempDir::new().unwrap();
    for (text, expected) in [
        (
            edit(
                STACK,
                "metadata: {name: support-app}\nspec:\n",
                "metadata: {name: support-app}\nspec:\n  inferenceProfileName: \"support  app\"\n",
            ),
            "`inferenceProfileName` `support  app`",
        ),
        (
            edit(STACK, "support bot traffic", "support bot, traffic!"),
            "`description` may hold only",
        ),
        (
            edit(
                STACK,
                "us.amazon.nova-pro-v1:0",
                "arn:aws:bedrock:us-east-1:123456789012:custom-model/x",
            ),
            "is not a foundation model or system inference profile",
        ),
    ] {
        std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
        let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
        common::assert_contains(&out.stderr, expected);
        common::assert_contains(&out.stderr, "stack.yaml:");
    }
}

#[test]
fn inference_profiles_over_the_wire() {
    let moto = Moto::start();
    let create = "bedrock:POST /inference-profiles";
    let index = "tagging:GetResources";
    moto.record_requests(&[create, index]);
    moto.set_converse("OK through the profile", 0, None);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let applied = run(&["apply", "--auto-approve", "--wait", "stack.yaml"]).expect(0);
    common::assert_contains(&applied.stdout, "InferenceProfile/support-app: passed in ");
    // The plan never shows the description, and the account matches.
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    assert!(
        !plan.stdout.contains("support bot traffic"),
        "{}",
        plan.stdout
    );

    let sent = moto.requests(create);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0];
    assert_eq!(body["inferenceProfileName"], "support-app");
    assert_eq!(
        body["modelSource"]["copyFrom"],
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
    );
    assert!(
        body["clientRequestToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("bedform-"))
    );
    // Apply waited until the tagging index listed the new profile by its ARN.
    let asked: Vec<serde_json::Value> = moto
        .requests(index)
        .into_iter()
        .filter(|r| r.get("ResourceARNList").is_some())
        .collect();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert!(
        asked[0]["ResourceARNList"][0]
            .as_str()
            .is_some_and(|arn| arn.contains(":application-inference-profile/")),
        "{asked:#?}"
    );
    let conversations = moto.conversations();
    assert_eq!(conversations.len(), 1, "{conversations:#?}");
    assert!(
        conversations[0]["modelId"]
            .as_str()
            .is_some_and(|m| m.contains(":application-inference-profile/")),
        "{conversations:#?}"
    );

    // A new tag: in place; a new description: replaced.
    let retagged = edit(STACK, "tags: {app: support}", "tags: {app: helpdesk}");
    std::fs::write(dir.path().join("stack.yaml"), &retagged).unwrap();
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "0 to create, 1 to update, 0 to replace");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let described = edit(&retagged, "support bot traffic", "helpdesk traffic");
    std::fs::write(dir.path().join("stack.yaml"), &described).unwrap();
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "1 to replace");
    common::assert_contains(&plan.stdout, "new ARN");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    // Removed from the stack: found through the tagging index, then listed, and
    // deleted.
    std::fs::write(
        dir.path().join("stack.yaml"),
        STACK.split("\n---\n").next().unwrap(),
    )
    .unwrap();
    moto.reset_counts();
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(
        &plan.stdout,
        "0 to create, 0 to update, 0 to replace, 1 to delete",
    );
    assert_eq!(
        moto.counts().get(LIST_PROFILES),
        Some(&1),
        "{:#?}",
        moto.counts()
    );
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    // A stack that owns none of the kinds found by listing the region lists none.
    moto.reset_counts();
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let counts = moto.counts();
    for list in LISTINGS {
        assert_eq!(counts.get(*list), None, "{list}: {counts:#?}");
    }
    assert_eq!(counts.get(index), Some(&1), "{counts:#?}");
    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let left = rt
        .block_on(bedrock.list_inference_profiles().send())
        .unwrap()
        .inference_profile_summaries()
        .len();
    assert_eq!(left, 0);
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

/// Each listing of the region asks for the most a page may hold (1,000 for
/// Bedrock's, 50 for CloudWatch Logs', 100 resources and 500 tags for the tagging
/// index), so other teams' objects, and a large stack's own, cost as few pages as
/// the API allows.
#[test]
fn every_listing_asks_for_the_largest_page() {
    let moto = Moto::start();
    let listings: Vec<&str> = LISTINGS
        .iter()
        .copied()
        .chain([
            "bedrock:GET /model-customization-jobs",
            "bedrock:GET /custom-models",
            "logs:DescribeLogGroups",
            "tagging:GetResources",
        ])
        .collect();
    moto.record_requests(&listings);
    let dir = TempDir::new().unwrap();
    // `export` reads everything: every listing runs.
    common::run_with(dir.path(), &moto.env(), ["export"]).expect(0);
    for op in listings {
        let asked = moto.requests(op);
        assert!(!asked.is_empty(), "{op} not listed");
        for request in asked {
            // Bedrock's listings take `maxResults` in the query (a string), Logs'
            // `limit` in the JSON body.
            let page = match op.split_once(':') {
                Some(("logs", _)) => request["limit"] == 50,
                Some(("tagging", _)) => {
                    request["ResourcesPerPage"] == 100 && request["TagsPerPage"] == 500
                }
                _ => request["maxResults"] == "1000",
            };
            assert!(page, "{op}: {request}");
        }
    }
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

/// The stack applied (exit 0) while the tagging index trails the stub's fresh tags
/// by `lag` seconds, the bodies of `recorded` kept from the start.
fn applied_while_the_index_trails(lag: f64, recorded: &[&str]) -> (Moto, TempDir, common::Output) {
    let moto = Moto::start();
    moto.set_index_lag(lag);
    if !recorded.is_empty() {
        moto.record_requests(recorded);
    }
    moto.set_converse("OK through the profile", 0, None);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let applied = common::run_with(
        dir.path(),
        &moto.env(),
        ["apply", "--auto-approve", "stack.yaml"],
    )
    .expect(0);
    (moto, dir, applied)
}

/// Right after a create the tagging index may trail: apply asks it for the new
/// profile until it lists it, so a plan made at once that no longer declares the
/// profile still finds it.
#[test]
fn a_profile_dropped_right_after_its_create_is_found_though_the_index_trails() {
    let index = "tagging:GetResources";
    let (moto, dir, applied) = applied_while_the_index_trails(2.0, &[index]);
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    assert!(
        !applied.stderr.contains("tagging index"),
        "{}",
        applied.stderr
    );
    let asked = moto
        .requests(index)
        .iter()
        .filter(|r| r.get("ResourceARNList").is_some())
        .count();
    // Not listed at first, then listed: asked again.
    assert!(asked >= 2, "{asked}");
    std::fs::write(
        dir.path().join("stack.yaml"),
        STACK.split("\n---\n").next().unwrap(),
    )
    .unwrap();
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "0 to replace, 1 to delete");
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

/// An index that has not caught up when apply stops waiting for it: the profile is
/// made and the apply succeeds, but a warning says what a plan may miss meanwhile.
#[test]
fn an_index_that_never_lists_the_new_profile_is_a_warning_not_a_failure() {
    // Longer than apply waits (30 s).
    let (moto, dir, applied) = applied_while_the_index_trails(600.0, &[]);
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    common::assert_contains(
        &applied.stderr,
        "warning: inference profile support-app is made, but the tagging index has not listed it after 30 s",
    );
    // Declared, it is found by its name whatever the index says.
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    common::assert_contains(&plan.stdout, "No changes");
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn a_profile_made_elsewhere_is_adopted_without_a_replacement() {
    let moto = Moto::start();
    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    // Made by hand from a system profile: AWS returns only the regions' models.
    rt.block_on(
        bedrock
            .create_inference_profile()
            .inference_profile_name("support-app")
            .description("support bot traffic")
            .model_source(aws_sdk_bedrock::types::InferenceProfileModelSource::CopyFrom(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0"
                    .into(),
            ))
            .send(),
    )
    .unwrap();
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let index = "tagging:GetResources";
    moto.record_requests(&[index]);
    run(&["import", "--all", "--auto-approve", "stack.yaml"]).expect(0);
    // Adopted: the index was asked for it until it listed it as the stack's.
    let asked = moto
        .requests(index)
        .iter()
        .filter(|r| r.get("ResourceARNList").is_some())
        .count();
    assert_eq!(asked, 1);
    let plan = run(&["plan", "stack.yaml"]).expect(0);
    common::assert_contains(&plan.stdout, "0 to replace");
    common::assert_contains(&plan.stdout, "taken as copied from the declared `model`");
    assert!(!plan.stdout.contains("new ARN"), "{}", plan.stdout);
}
