//! `Guardrail` and `GuardrailEnforcement`: a guardrail's DRAFT updated in place
//! (renamed too), a version published per applied change and never twice for
//! one, `${NAME.version}` and `version: latest` following it, the plan's
//! warnings when a guardrail is loosened or an enforcement removed, the
//! enforcement removed only by `state: absent`, and guardrail tests through
//! ApplyGuardrail. On the sandbox and over the wire through the SDK to the stub
//! of the moto proxy (moto has no guardrails).

mod common;
mod support;

use bedform::plan::{Action, Op, Plan};
use common::{Account, acting, change, edit, fast_clock};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: guarded}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: Guardrail
metadata: {name: support-guardrail}
spec:
  guardrailName: support
  blockedInputMessaging: "Sorry, I can't help with that."
  blockedOutputsMessaging: "Sorry, I can't help with that."
  contentPolicy:
    filters:
      - {type: HATE, inputStrength: HIGH, outputStrength: HIGH}
      - {type: PROMPT_ATTACK, inputStrength: HIGH, outputStrength: NONE}
  topicPolicy:
    topics:
      - {name: investment-advice, definition: "Recommendations about stocks, bonds or funds", type: DENY}
      - {name: medical-advice, definition: "Diagnoses or treatments of illnesses"}
  wordPolicy: {managedWordLists: [{type: PROFANITY}], words: [{text: competitor}]}
  sensitiveInformationPolicy:
    piiEntities: [{type: EMAIL, action: ANONYMIZE}]
    regexes: [{name: order-id, pattern: "ORD-[0-9]{6}", action: BLOCK}]
  contextualGroundingPolicy: {filters: [{type: GROUNDING, threshold: 0.75}]}
  publishVersion: true
  tags: {team: support}
  tests:
    - {input: "Which stocks should I buy?", expect: blocked}
    - {input: "What is your refund policy?", expect: allowed}
    - {input: "Mail me at jane@example.com", expect: anonymized}
---
apiVersion: bedform/v1
kind: GuardrailEnforcement
metadata: {name: enforce-support}
spec:
  guardrail: {ref: support-guardrail}
  version: latest
"#;

/// The numbered versions the sandbox holds of guardrail `name`.
async fn versions(account: &Account, name: &str) -> Vec<String> {
    let observed = account.observed().await;
    let guardrail = observed
        .find("Guardrail", name)
        .unwrap_or_else(|| panic!("guardrail {name}"));
    bedform::kinds::guardrail::versions(guardrail)
        .into_iter()
        .map(|(n, _)| n.to_string())
        .collect()
}

/// The version a change's operation publishes, if any.
fn published(plan: &Plan, address: &str) -> Option<String> {
    change(plan, address).ops.iter().find_map(|op| match op {
        Op::Create { attrs, .. } | Op::Update { attrs, .. } => attrs
            .get("publish")
            .and_then(|p| p["version"].as_str())
            .map(str::to_string),
        _ => None,
    })
}

fn enforced_version(plan: &Plan) -> Option<String> {
    change(plan, "GuardrailEnforcement/enforce-support")
        .ops
        .iter()
        .find_map(|op| match op {
            Op::Create { attrs, .. } | Op::Update { attrs, .. } => attrs
                .get("guardrailVersion")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            _ => None,
        })
}

#[tokio::test]
async fn each_applied_change_publishes_one_version_and_latest_follows_it() {
    let account = Account::new(fast_clock(0.2, 0.1));
    let plan = account.plan(STACK).await;
    let create = change(&plan, "Guardrail/support-guardrail");
    assert_eq!(create.action, Action::Create);
    assert!(matches!(
        &create.ops[..],
        [Op::Create { client_request_token: Some(t), .. }] if t.starts_with("bedform-")
    ));
    assert_eq!(
        published(&plan, "Guardrail/support-guardrail").as_deref(),
        Some("1")
    );
    // `latest` is the version this plan publishes.
    assert_eq!(enforced_version(&plan).as_deref(), Some("1"));
    let enforce = change(&plan, "GuardrailEnforcement/enforce-support");
    assert!(
        enforce
            .warnings
            .iter()
            .any(|w| w.contains("enforces guardrail `support` version 1 on every model invocation")),
        "{enforce:#?}"
    );
    // The messages are sensitive in the API.
    assert!(
        create
            .fields
            .iter()
            .any(|f| f.path == "blockedInputMessaging" && f.sensitive),
        "{create:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert_eq!(versions(&account, "support").await, ["1"]);
    assert!(acting(&account.plan(STACK).await).is_empty());

    // A policy change updates the DRAFT, publishes version 2 and moves the
    // enforcement to it, in one plan; the plan says what got looser.
    let looser = edit(
        STACK,
        "{type: HATE, inputStrength: HIGH, outputStrength: HIGH}",
        "{type: HATE, inputStrength: LOW, outputStrength: HIGH}",
    );
    let looser = edit(
        &looser,
        "      - {name: medical-advice, definition: \"Diagnoses or treatments of illnesses\"}\n",
        "",
    );
    let plan = account.plan(&looser).await;
    let update = change(&plan, "Guardrail/support-guardrail");
    assert_eq!(update.action, Action::Update);
    assert_eq!(
        published(&plan, "Guardrail/support-guardrail").as_deref(),
        Some("2")
    );
    let warnings = update.warnings.join("\n");
    common::assert_contains(
        &warnings,
        "loosens the guardrail: content filter `HATE`: input strength lowered from HIGH to LOW",
    );
    common::assert_contains(
        &warnings,
        "loosens the guardrail: denied topic `medical-advice` is removed",
    );
    assert_eq!(enforced_version(&plan).as_deref(), Some("2"));
    common::assert_contains(
        &change(&plan, "GuardrailEnforcement/enforce-support")
            .warnings
            .join("\n"),
        "from guardrail `support` version 1 to guardrail `support` version 2",
    );
    account.apply_plan(&plan, false).await;
    assert_eq!(versions(&account, "support").await, ["1", "2"]);
    // One change, one version: the next plan publishes nothing.
    assert!(acting(&account.plan(&looser).await).is_empty());

    // Tags alone publish nothing.
    let retagged = edit(&looser, "tags: {team: support}", "tags: {team: helpdesk}");
    let plan = account.plan(&retagged).await;
    assert_eq!(
        change(&plan, "Guardrail/support-guardrail").action,
        Action::Update
    );
    assert_eq!(published(&plan, "Guardrail/support-guardrail"), None);
    account.apply_plan(&plan, false).await;
    assert_eq!(versions(&account, "support").await, ["1", "2"]);
}

#[tokio::test]
async fn a_change_applied_without_its_version_is_published_by_the_next_plan_once() {
    let account = Account::new(fast_clock(0.2, 0.1));
    let unpublished = edit(STACK, "  publishVersion: true\n", "");
    let unpublished = edit(&unpublished, "  version: latest\n", "  version: 1\n");
    // Versions published once; then a change applied without publishing, as an
    // apply stopped between the update and the version would leave it.
    account.apply(STACK).await;
    let changed = edit(
        &unpublished,
        "words: [{text: competitor}]",
        "words: [{text: competitor}, {text: rival}]",
    );
    let report = account.apply(&changed).await;
    assert!(!report.failed(), "{report:#?}");
    assert_eq!(versions(&account, "support").await, ["1"]);
    // Publishing again: the DRAFT already holds it, so only the version is made.
    let publishing = edit(
        STACK,
        "words: [{text: competitor}]",
        "words: [{text: competitor}, {text: rival}]",
    );
    let plan = account.plan(&publishing).await;
    let c = change(&plan, "Guardrail/support-guardrail");
    assert_eq!(c.action, Action::Update);
    assert!(
        matches!(&c.ops[..], [Op::Update { fields, .. }] if fields == &["version".to_string()]),
        "{c:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert_eq!(versions(&account, "support").await, ["1", "2"]);
    assert!(acting(&account.plan(&publishing).await).is_empty());
}

#[tokio::test]
async fn a_new_name_renames_in_place_and_keeps_the_versions() {
    let account = Account::new(fast_clock(0.2, 0.1));
    account.apply(STACK).await;
    let id = |observed: &bedform::model::ObservedAccount, name: &str| {
        observed
            .find("Guardrail", name)
            .and_then(|g| g.fact_str("id").map(str::to_string))
    };
    let before = id(&account.observed().await, "support");
    let renamed = edit(STACK, "guardrailName: support", "guardrailName: helpdesk");
    let plan = account.plan(&renamed).await;
    let c = change(&plan, "Guardrail/support-guardrail");
    assert_eq!(c.action, Action::Update, "{c:#?}");
    common::assert_contains(c.reason.as_deref().unwrap_or(""), "in place");
    // The name is no content: no version for it.
    assert_eq!(published(&plan, "Guardrail/support-guardrail"), None);
    account.apply_plan(&plan, false).await;
    let after = account.observed().await;
    assert!(after.find("Guardrail", "support").is_none());
    assert_eq!(id(&after, "helpdesk"), before);
    assert_eq!(versions(&account, "helpdesk").await, ["1"]);
    assert!(acting(&account.plan(&renamed).await).is_empty());
}

#[tokio::test]
async fn the_enforcement_goes_only_by_state_absent_and_before_its_guardrail() {
    let account = Account::new(fast_clock(0.2, 0.1));
    account.apply(STACK).await;
    // Left out of the manifests: left alone.
    let without = STACK.rsplit_once("\n---\n").unwrap().0.to_string() + "\n";
    let plan = account.plan(&without).await;
    assert!(acting(&plan).is_empty(), "{:?}", acting(&plan));
    // `state: absent` removes it, with a warning, and the guardrail can go after.
    let absent = edit(
        STACK,
        "  guardrail: {ref: support-guardrail}\n  version: latest\n",
        "  state: absent\n",
    );
    let absent = edit(
        &absent,
        "metadata: {name: support-guardrail}\nspec:\n",
        "metadata: {name: support-guardrail}\nspec:\n  state: absent\n",
    );
    let plan = account.plan(&absent).await;
    let removal = change(&plan, "GuardrailEnforcement/enforce-support");
    assert_eq!(removal.action, Action::Delete);
    common::assert_contains(
        &removal.warnings.join("\n"),
        "removes the account's enforced guardrail (guardrail `support` version 1)",
    );
    let gone = change(&plan, "Guardrail/support-guardrail");
    assert_eq!(gone.action, Action::Delete);
    common::assert_contains(&gone.warnings.join("\n"), "with all its versions");
    let report = account.apply_plan(&plan, false).await;
    assert!(!report.failed(), "{report:#?}");
    let observed = account.observed().await;
    assert!(observed.find("Guardrail", "support").is_none());
    assert!(
        observed
            .find("GuardrailEnforcement", "enforced-guardrail")
            .is_none()
    );
}

#[tokio::test]
async fn latest_of_a_guardrail_that_publishes_no_version_is_refused() {
    let account = Account::new(fast_clock(0.2, 0.1));
    let unpublished = edit(STACK, "  publishVersion: true\n", "");
    let plan = account.plan(&unpublished).await;
    let c = change(&plan, "GuardrailEnforcement/enforce-support");
    assert_eq!(c.action, Action::Refused);
    common::assert_contains(
        c.reason.as_deref().unwrap_or(""),
        "`${support-guardrail.version}`: Guardrail `support-guardrail` does not set `publishVersion: true`",
    );
}

#[test]
fn guardrails_are_checked_offline() {
    let dir = TempDir::new().unwrap();
    for (text, expected) in [
        (
            edit(
                STACK,
                "guardrailName: support",
                "guardrailName: \"sup port\"",
            ),
            "`guardrailName` `sup port` is not a guardrail name",
        ),
        (
            edit(
                STACK,
                "{type: PROMPT_ATTACK, inputStrength: HIGH, outputStrength: NONE}",
                "{type: PROMPT_ATTACK, inputStrength: HIGH, outputStrength: LOW}",
            ),
            "`PROMPT_ATTACK`: `outputStrength` must be `NONE`",
        ),
        (
            edit(
                STACK,
                "{type: HATE, inputStrength: HIGH, outputStrength: HIGH}",
                "{type: PROMPT_ATTACK, inputStrength: HIGH, outputStrength: NONE}",
            ),
            "`contentPolicy.filters` names `PROMPT_ATTACK` twice",
        ),
        (
            edit(STACK, "threshold: 0.75", "threshold: 1.5"),
            "`threshold` is 1.5; it must be from 0 to 0.99",
        ),
        (
            edit(
                STACK,
                "  publishVersion: true\n",
                "  publishVersion: true\n  kmsKeyId: alias/support\n",
            ),
            "`kmsKeyId` `alias/support` is not a KMS key ARN",
        ),
        (
            edit(
                STACK,
                "  guardrail: {ref: support-guardrail}\n",
                "  guardrail: support\n",
            ),
            "`version: latest` needs `guardrail: {ref: NAME}`",
        ),
        (
            edit(STACK, "version: latest", "version: newest"),
            "`version` `newest` is neither `latest` nor a version number",
        ),
        (
            edit(STACK, "expect: allowed", "expect: passed"),
            "unknown variant `passed`",
        ),
    ] {
        std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
        let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
        common::assert_contains(&out.stderr, expected);
        common::assert_contains(&out.stderr, "stack.yaml:");
    }
    // A guardrail with no policy would let everything through.
    let bare = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: guarded}
spec: {region: us-east-1}
---
apiVersion: bedform/v1
kind: Guardrail
metadata: {name: empty}
spec: {blockedInputMessaging: no, blockedOutputsMessaging: no}
"#;
    std::fs::write(dir.path().join("stack.yaml"), bare).unwrap();
    let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
    common::assert_contains(&out.stderr, "declares no policy");
}

#[test]
fn guardrails_over_the_wire() {
    let moto = Moto::start();
    let create = "bedrock:POST /guardrails";
    moto.record_requests(&[create]);
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let applied = run(&["apply", "--auto-approve", "--wait", "stack.yaml"]).expect(0);
    common::assert_contains(
        &applied.stdout,
        "Guardrail/support-guardrail (support version 1): passed in ",
    );
    // What AWS echoes compares equal to the manifest: the plan is settled, and
    // never shows the blocked message.
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    assert!(!plan.stdout.contains("help with that"), "{}", plan.stdout);
    let sent = moto.requests(create);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0];
    assert_eq!(body["name"], "support");
    assert_eq!(
        body["contentPolicyConfig"]["filtersConfig"][0]["type"],
        "HATE"
    );
    assert_eq!(body["topicPolicyConfig"]["topicsConfig"][0]["type"], "DENY");
    assert!(
        body["clientRequestToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("bedform-"))
    );
    // The tests went to the version published, each once.
    let applications = moto.guardrail_applications();
    assert_eq!(applications.len(), 3, "{applications:#?}");
    assert!(
        applications
            .iter()
            .all(|a| a["guardrailVersion"] == "1" && a["body"]["source"] == "INPUT"),
        "{applications:#?}"
    );

    // A test the guardrail fails: `check` says which policy acted.
    let failing = edit(
        STACK,
        "{input: \"What is your refund policy?\", expect: allowed}",
        "{input: \"Should I buy stocks or bonds?\", expect: allowed}",
    );
    std::fs::write(dir.path().join("stack.yaml"), &failing).unwrap();
    let checked = run(&["check", "stack.yaml"]);
    assert_ne!(checked.code, 0, "{}", checked.stdout);
    common::assert_contains(
        &checked.stdout,
        "test 2 (\"Should I buy stocks or bonds?\"): expected allowed, but topicPolicy `investment-advice` BLOCKED it",
    );

    // A change: the DRAFT updated, version 2 published and enforced.
    let changed = edit(
        STACK,
        "words: [{text: competitor}]",
        "words: [{text: rival}]",
    );
    std::fs::write(dir.path().join("stack.yaml"), &changed).unwrap();
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "blocked word `competitor` is removed");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let enforced = rt
        .block_on(bedrock.list_enforced_guardrails_configuration().send())
        .unwrap();
    assert_eq!(
        enforced.guardrails_config()[0].guardrail_version(),
        Some("2")
    );
    let id = enforced.guardrails_config()[0]
        .guardrail_id()
        .unwrap()
        .to_string();
    // Both versions are kept.
    let listed: Vec<aws_sdk_bedrock::types::GuardrailSummary> = rt
        .block_on(
            bedrock
                .list_guardrails()
                .guardrail_identifier(&id)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .unwrap();
    let numbered: Vec<&str> = listed
        .iter()
        .map(|g| g.version())
        .filter(|v| *v != "DRAFT")
        .collect();
    assert_eq!(numbered, ["1", "2"]);

    // Both declared absent: the enforcement goes first, then the guardrail.
    let absent = edit(
        &changed,
        "  guardrail: {ref: support-guardrail}\n  version: latest\n",
        "  state: absent\n",
    );
    let absent = edit(
        &absent,
        "metadata: {name: support-guardrail}\nspec:\n",
        "metadata: {name: support-guardrail}\nspec:\n  state: absent\n",
    );
    std::fs::write(dir.path().join("stack.yaml"), &absent).unwrap();
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    let left = rt
        .block_on(bedrock.list_guardrails().send())
        .unwrap()
        .guardrails()
        .len();
    assert_eq!(left, 0);
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn the_guarded_support_bot_example_applies_and_settles() {
    let dir = TempDir::new().unwrap();
    let stack = common::copy_example(dir.path(), "guarded-support-bot");
    let path = stack.to_str().unwrap();
    // The reviewer's comment says first what the enforcement does.
    let comment = common::run(
        dir.path(),
        ["plan", "--sandbox", "--format", "markdown", path],
    )
    .expect(0);
    common::assert_contains(
        &comment.stdout,
        "🛡️ **GuardrailEnforcement/enforce-support** enforces guardrail `support` version 1",
    );
    let applied = common::run(
        dir.path(),
        ["apply", "--sandbox", "--auto-approve", "--wait", path],
    )
    .expect(0);
    common::assert_contains(
        &applied.stdout,
        "GuardrailEnforcement/enforce-support: done",
    );
    common::assert_contains(&applied.stdout, "cannot run guardrail tests");
    common::assert_contains(&applied.stdout, "Apply complete.");
    let settled = common::run(
        dir.path(),
        ["plan", "--sandbox", "--detailed-exitcode", path],
    )
    .expect(0);
    common::assert_contains(&settled.stdout, "No changes.");
    // A loosened guardrail heads the comment.
    let guardrail = stack.join("guardrail.yaml");
    let text = std::fs::read_to_string(&guardrail).unwrap();
    std::fs::write(
        &guardrail,
        edit(
            &text,
            "{type: INSULTS, inputStrength: MEDIUM, outputStrength: HIGH}",
            "{type: INSULTS, inputStrength: LOW, outputStrength: HIGH}",
        ),
    )
    .unwrap();
    let comment = common::run(
        dir.path(),
        ["plan", "--sandbox", "--format", "markdown", path],
    )
    .expect(0);
    common::assert_contains(
        &comment.stdout,
        "🛡️ **Guardrail/support-guardrail** loosens the guardrail: content filter `INSULTS`: input strength lowered from MEDIUM to LOW",
    );
    common::assert_contains(
        &comment.stdout,
        "from guardrail `support` version 1 to guardrail `support` version 2",
    );
    // The README runs what the test ran.
    let readme = std::fs::read_to_string(stack.join("README.md")).unwrap();
    common::assert_contains(
        &readme,
        "bedform apply --sandbox --auto-approve --wait examples/guarded-support-bot",
    );
}

#[test]
fn the_guarded_support_bot_example_passes_its_tests_over_the_wire() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    let stack = common::copy_example(dir.path(), "guarded-support-bot");
    let path = stack.to_str().unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let applied = run(&["apply", "--auto-approve", "--wait", path]).expect(0);
    common::assert_contains(
        &applied.stdout,
        "Guardrail/support-guardrail (support version 1): passed in ",
    );
    run(&["plan", "--detailed-exitcode", path]).expect(0);
    let checked = run(&["check", path]).expect(0);
    common::assert_contains(
        &checked.stdout,
        "Guardrail/support-guardrail (support version 1): passed",
    );
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}

#[test]
fn export_writes_the_guardrail_and_its_enforcement() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    common::run(
        dir.path(),
        ["apply", "--sandbox", "--auto-approve", "stack.yaml"],
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
            "Guardrail,GuardrailEnforcement",
        ],
    )
    .expect(0);
    let document = |kind: &str| {
        out.stdout
            .split("\n---\n")
            .find(|d| d.contains(&format!("kind: {kind}\n")))
            .unwrap_or_else(|| panic!("no {kind} exported:\n{}", out.stdout))
            .to_string()
    };
    let guardrail = document("Guardrail");
    for part in [
        "guardrailName: support",
        "publishVersion: true",
        "name: investment-advice",
        "pattern: ORD-[0-9]{6}",
        "threshold: 0.75",
    ] {
        common::assert_contains(&guardrail, part);
    }
    let enforcement = document("GuardrailEnforcement");
    common::assert_contains(&enforcement, "version: 1");
    common::assert_contains(&enforcement, "ref: support");
    // What export wrote validates.
    let exported = dir.path().join("exported");
    std::fs::create_dir(&exported).unwrap();
    std::fs::write(exported.join("stack.yaml"), &out.stdout).unwrap();
    common::run(dir.path(), ["validate", "exported"]).expect(0);
    // And it lowers to what the account holds.
    assert!(
        !out.stderr.contains("will not plan clean"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_guardrail_made_elsewhere_is_imported_then_versioned() {
    let moto = Moto::start();
    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    use aws_sdk_bedrock::types::{
        GuardrailManagedWordsConfig, GuardrailManagedWordsType, GuardrailWordPolicyConfig,
    };
    // Made by hand, with one version of its own.
    let made = rt
        .block_on(
            bedrock
                .create_guardrail()
                .name("support")
                .blocked_input_messaging("no")
                .blocked_outputs_messaging("no")
                .word_policy_config(
                    GuardrailWordPolicyConfig::builder()
                        .managed_word_lists_config(
                            GuardrailManagedWordsConfig::builder()
                                .r#type(GuardrailManagedWordsType::Profanity)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .send(),
        )
        .unwrap();
    let id = made.guardrail_id().to_string();
    // The stub makes a guardrail READY once it has been read.
    rt.block_on(bedrock.get_guardrail().guardrail_identifier(&id).send())
        .unwrap();
    rt.block_on(
        bedrock
            .create_guardrail_version()
            .guardrail_identifier(&id)
            .send(),
    )
    .unwrap();
    let stack = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: guarded}
spec: {region: us-east-1, accountId: "123456789012"}
---
apiVersion: bedform/v1
kind: Guardrail
metadata: {name: support-guardrail}
spec:
  guardrailName: support
  blockedInputMessaging: "no"
  blockedOutputsMessaging: "no"
  wordPolicy: {managedWordLists: [{type: PROFANITY, inputAction: BLOCK}]}
  publishVersion: true
"#;
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), stack).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    let plan = run(&["plan", "stack.yaml"]).expect(1);
    common::assert_contains(&plan.stdout, "not created by this stack; adopt it with");
    run(&["import", "--all", "--auto-approve", "stack.yaml"]).expect(0);
    // Its content is the declared one (a default written out means the same),
    // but its newest version was not published by bedform: version 2 is.
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "publishes version 2");
    common::assert_contains(&plan.stdout, "0 to create, 1 to update, 0 to replace");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let versions: Vec<aws_sdk_bedrock::types::GuardrailSummary> = rt
        .block_on(
            bedrock
                .list_guardrails()
                .guardrail_identifier(&id)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>(),
        )
        .unwrap();
    let numbered: Vec<&str> = versions
        .iter()
        .map(|g| g.version())
        .filter(|v| *v != "DRAFT")
        .collect();
    assert_eq!(numbered, ["1", "2"]);
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}
