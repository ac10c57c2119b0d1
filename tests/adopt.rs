//! `bedform import` and `bedform export` against the sandbox, through the binary:
//! objects made outside the stack are adopted only when asked, with the tags
//! shown first, and an exported account plans with no changes once adopted.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bedform::cloud::Cloud;
use bedform::model::{TAG_ADDRESS, TAG_SPEC_HASH, TAG_STACK};
use bedform::plan::Op;
use common::{Account, assert_contains, copy_example, fast_clock, run, runtime};
use serde_json::{Map, json};

const STACK: &str =
    "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: adopter}\nspec:\n  region: us-east-1\n";

const DOCS: &str = "---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: invocation-logs}
spec:
  logGroupName: /bedrock/invocations
  retentionDays: 30
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: logging-role}
spec:
  roleName: bedrock-logging
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: InvocationLogging
metadata: {name: invocation-logging}
spec:
  cloudWatch:
    logGroup: {ref: invocation-logs}
    role: {ref: logging-role}
  deliver: [text]
";

/// Creates an object directly in the sandbox, as someone outside the stack would.
fn create(
    account: &Account,
    kind: &str,
    name: &str,
    attrs: Map<String, serde_json::Value>,
    tags: &[(&str, &str)],
) {
    let tags: BTreeMap<String, String> = tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    runtime()
        .block_on(account.sandbox.execute(&Op::Create {
            kind: kind.into(),
            name: name.into(),
            attrs,
            tags,
            client_request_token: None,
        }))
        .expect("create");
}

fn tags_of(account: &Account, kind: &str, name: &str) -> BTreeMap<String, String> {
    runtime()
        .block_on(account.sandbox.get(kind, name))
        .expect("get")
        .expect("the object exists")
        .tags
}

fn role_attrs() -> Map<String, serde_json::Value> {
    let trust = bedform::policy::normalise(&bedform::kinds::iam_role::bedrock_trust_policy(
        "us-east-1",
        common::ACCOUNT,
    ));
    Map::from_iter([
        ("path".to_string(), json!("/")),
        ("trustPolicy".to_string(), trust),
        ("inlinePolicies".to_string(), json!({})),
        ("managedPolicyArns".to_string(), json!([])),
        ("maxSessionDuration".to_string(), json!(3600)),
    ])
}

fn setup(retention: u32) -> (Account, tempfile::TempDir) {
    let account = Account::new(fast_clock(1.0, 1.0));
    create(
        &account,
        "LogGroup",
        "/bedrock/invocations",
        Map::from_iter([("retentionDays".to_string(), json!(retention))]),
        &[("team", "ml")],
    );
    create(&account, "IamRole", "bedrock-logging", role_attrs(), &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), format!("{STACK}{DOCS}")).unwrap();
    (account, dir)
}

fn bedform(account: &Account, dir: &Path, args: &[&str]) -> common::Output {
    let sandbox = account.path();
    let mut all = vec!["--sandbox-file", sandbox.to_str().unwrap()];
    all.extend_from_slice(args);
    run(dir, all)
}

#[test]
fn unowned_objects_are_refused_until_imported_then_plan_clean() {
    let (account, dir) = setup(30);
    let d = dir.path();
    // The manifests also tag the log group with `team: ml`, as it is.
    let text = std::fs::read_to_string(d.join("stack.yaml")).unwrap();
    std::fs::write(
        d.join("stack.yaml"),
        text.replace(
            "  retentionDays: 30\n",
            "  retentionDays: 30\n  tags: {team: ml}\n",
        ),
    )
    .unwrap();
    let plan = bedform(&account, d, &["plan", "stack.yaml"]).expect(1);
    assert_contains(&plan.stdout, "? LogGroup/invocation-logs");
    // The hint is the command to run, with the flags and paths of this plan.
    let hint = format!(
        "bedform --sandbox-file {} import IamRole/logging-role bedrock-logging stack.yaml",
        account.path().display()
    );
    assert_contains(&plan.stdout, &format!("adopt it with `{hint}`"));

    // Followed as printed, with no terminal and no --auto-approve: refused,
    // nothing tagged.
    let refused = run(d, hint.split(' ').skip(1)).expect(1);
    assert_contains(&refused.stdout, "+ bedform:stack = adopter");
    assert_contains(&refused.stderr, "standard input is not a terminal");
    assert!(!tags_of(&account, "IamRole", "bedrock-logging").contains_key(TAG_STACK));

    // By ARN, approved: tagged as this stack's, the hash too since it matches.
    let arn = format!("arn:aws:iam::{}:role/bedrock-logging", common::ACCOUNT);
    let imported = bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "IamRole/logging-role",
            &arn,
            "stack.yaml",
        ],
    )
    .expect(0);
    assert_contains(&imported.stdout, "It matches its document");
    let tags = tags_of(&account, "IamRole", "bedrock-logging");
    assert_eq!(tags.get(TAG_STACK).map(String::as_str), Some("adopter"));
    assert_eq!(
        tags.get(TAG_ADDRESS).map(String::as_str),
        Some("IamRole/logging-role")
    );
    assert!(tags.contains_key(TAG_SPEC_HASH));

    // Twice is a no-op that says so.
    let again = bedform(
        &account,
        d,
        &[
            "import",
            "IamRole/logging-role",
            "bedrock-logging",
            "stack.yaml",
        ],
    )
    .expect(0);
    assert_contains(&again.stdout, "already managed by this stack");

    // Invocation logging takes no tags: nothing to import, and nothing is done.
    let logging = bedform(
        &account,
        d,
        &[
            "import",
            "InvocationLogging/invocation-logging",
            "x",
            "stack.yaml",
        ],
    )
    .expect(0);
    assert_contains(&logging.stdout, "nothing to import");

    bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "LogGroup/invocation-logs",
            "/bedrock/invocations",
            "stack.yaml",
        ],
    )
    .expect(0);
    // The user's own tag is kept; only the logging configuration is left to create.
    let group = tags_of(&account, "LogGroup", "/bedrock/invocations");
    assert_eq!(group.get("team").map(String::as_str), Some("ml"));
    let plan = bedform(&account, d, &["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    assert_contains(&plan.stdout, "+ InvocationLogging/invocation-logging");
    assert_contains(&plan.stdout, "Plan: 1 to create, 0 to update");
    bedform(&account, d, &["apply", "--auto-approve", "stack.yaml"]).expect(0);
    bedform(&account, d, &["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
}

#[test]
fn an_object_that_differs_plans_its_differences_as_changes_not_drift() {
    let (account, dir) = setup(7);
    let d = dir.path();
    let imported = bedform(
        &account,
        d,
        &["import", "--all", "--auto-approve", "stack.yaml"],
    )
    .expect(0);
    assert_contains(&imported.stdout, "retentionDays: 7 -> 30");
    assert_contains(&imported.stdout, "tags: {\"team\":\"ml\"} -> {}");
    let tags = tags_of(&account, "LogGroup", "/bedrock/invocations");
    assert_eq!(tags.get(TAG_STACK).map(String::as_str), Some("adopter"));
    assert!(
        !tags.contains_key(TAG_SPEC_HASH),
        "a differing object gets no spec hash: {tags:?}"
    );
    // The role matched its document and has its hash.
    assert!(tags_of(&account, "IamRole", "bedrock-logging").contains_key(TAG_SPEC_HASH));

    let plan = bedform(&account, d, &["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    assert_contains(&plan.stdout, "~ LogGroup/invocation-logs");
    assert_contains(&plan.stdout, "retentionDays: 7 -> 30");
    assert!(
        !plan.stdout.contains("Changed outside bedform"),
        "an adopted object's differences are not drift:\n{}",
        plan.stdout
    );
    bedform(&account, d, &["apply", "--auto-approve", "stack.yaml"]).expect(0);
    bedform(&account, d, &["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
}

#[test]
fn import_refuses_what_it_must_not_take() {
    let (account, dir) = setup(30);
    let d = dir.path();
    create(
        &account,
        "IamRole",
        "theirs",
        role_attrs(),
        &[(TAG_STACK, "other"), (TAG_ADDRESS, "IamRole/theirs")],
    );
    let text = format!(
        "{STACK}{DOCS}---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: theirs}}\nspec:\n  assumedBy: bedrock\n"
    );
    std::fs::write(d.join("stack.yaml"), text).unwrap();

    let other = bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "IamRole/theirs",
            "theirs",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert_contains(&other.stderr, "belongs to stack `other`");
    assert_eq!(
        tags_of(&account, "IamRole", "theirs")
            .get(TAG_STACK)
            .map(String::as_str),
        Some("other")
    );

    let unknown = bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "IamRole/nope",
            "nope",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert_contains(&unknown.stderr, "IamRole/nope is not declared");

    let renamed = bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "IamRole/logging-role",
            "theirs",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert_contains(
        &renamed.stderr,
        "the manifests name IamRole/logging-role `bedrock-logging` in AWS, not `theirs`",
    );
    assert_contains(&renamed.stderr, "`roleName`");

    let missing = bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "LogGroup/invocation-logs",
            "/bedrock/invocations",
            "stack.yaml",
        ],
    );
    missing.expect(0);
    std::fs::write(
        d.join("stack.yaml"),
        format!("{STACK}---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: gone}}\nspec:\n  logGroupName: /not/there\n"),
    )
    .unwrap();
    let gone = bedform(
        &account,
        d,
        &[
            "import",
            "--auto-approve",
            "LogGroup/gone",
            "/not/there",
            "stack.yaml",
        ],
    )
    .expect(1);
    assert_contains(&gone.stderr, "does not exist");

    // --all leaves the other stack's role alone and says so.
    std::fs::write(
        d.join("stack.yaml"),
        format!(
            "{STACK}{DOCS}---\napiVersion: bedform/v1\nkind: IamRole\nmetadata: {{name: theirs}}\nspec:\n  assumedBy: bedrock\n"
        ),
    )
    .unwrap();
    let all = bedform(
        &account,
        d,
        &["import", "--all", "--auto-approve", "stack.yaml"],
    )
    .expect(0);
    assert_contains(
        &all.stderr,
        "not imported: IamRole `theirs` belongs to stack `other`",
    );
    assert_contains(&all.stdout, "Imported IamRole/logging-role.");
    assert_eq!(
        tags_of(&account, "IamRole", "theirs")
            .get(TAG_STACK)
            .map(String::as_str),
        Some("other")
    );
}

/// Removes every bedform tag in the account, as if it had been built by hand.
fn disown(account: &Account) {
    let rt = runtime();
    let observed = rt.block_on(account.observed());
    for object in &observed.resources {
        let keys: Vec<String> = object
            .tags
            .keys()
            .filter(|k| k.starts_with("bedform:"))
            .cloned()
            .collect();
        if !keys.is_empty() {
            rt.block_on(account.sandbox.execute(&Op::Untag {
                kind: object.kind.clone(),
                name: object.aws_name.clone(),
                keys,
            }))
            .expect("untag");
        }
    }
}

#[test]
fn export_of_the_sandbox_plans_clean_once_adopted() {
    let account = Account::new(fast_clock(0.5, 0.5));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let quickstart = copy_example(d, "quickstart");
    let q = quickstart.to_str().unwrap();
    bedform(&account, d, &["apply", "--auto-approve", "--wait", q]).expect(0);
    disown(&account);

    let exported = bedform(
        &account,
        d,
        &[
            "--region",
            "us-east-1",
            "export",
            "--stack",
            "adopted",
            "--out",
            "exported",
        ],
    )
    .expect(0);
    assert_contains(&exported.stdout, "Wrote 7 documents for stack `adopted`");
    // The next steps name the same account: the same sandbox and region.
    assert_contains(
        &exported.stdout,
        &format!(
            "bedform --sandbox-file {} --region us-east-1 import --all exported",
            account.path().display()
        ),
    );
    for file in [
        "stack.yaml",
        "iam-role.yaml",
        "customization-job.yaml",
        "provisioned-throughput.yaml",
        "invocation-logging.yaml",
        "log-group.yaml",
        "bucket.yaml",
    ] {
        assert!(d.join("exported").join(file).exists(), "{file} written");
    }
    let jobs = std::fs::read_to_string(d.join("exported/customization-job.yaml")).unwrap();
    // Named PREFIX-HASH by the quickstart, so no pinned names are needed.
    assert_contains(&jobs, "name: support-distilled\n");
    assert!(!jobs.contains("adopted:"), "{jobs}");
    let throughput =
        std::fs::read_to_string(d.join("exported/provisioned-throughput.yaml")).unwrap();
    assert_contains(&throughput, "ref: support-distilled");

    // Not yet adopted: the plan refuses rather than touching others' objects.
    bedform(&account, d, &["plan", "exported"]).expect(1);
    bedform(&account, d, &["validate", "exported"]).expect(0);
    let imported = bedform(
        &account,
        d,
        &["import", "--all", "--auto-approve", "exported"],
    )
    .expect(0);
    assert_contains(&imported.stdout, "tag CustomModel `support-distilled-");
    let clean = bedform(&account, d, &["plan", "--detailed-exitcode", "exported"]).expect(0);
    assert_contains(&clean.stdout, "No changes.");

    // Exporting again into the same folder overwrites nothing.
    let again = bedform(
        &account,
        d,
        &["--region", "us-east-1", "export", "--out", "exported"],
    )
    .expect(1);
    assert_contains(&again.stderr, "export writes only new files");

    // --kinds limits what is written; printed when no folder is given.
    let roles = bedform(
        &account,
        d,
        &["--region", "us-east-1", "export", "--kinds", "IamRole"],
    )
    .expect(0);
    let kinds: BTreeSet<&str> = roles
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["IamRole", "Stack"]),
        "{}",
        roles.stdout
    );
    bedform(
        &account,
        d,
        &["--region", "us-east-1", "export", "--kinds", "IamRoles"],
    )
    .expect(1);
}

#[test]
fn a_pinned_job_keeps_its_names_only_while_its_training_spec_is_unchanged() {
    let account = Account::new(fast_clock(0.5, 0.5));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let quickstart = copy_example(d, "quickstart");
    // A job whose model name bedform did not derive from the document's name.
    let path = quickstart.join("distillation.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "metadata: {name: support-distilled}\nspec:\n",
        "metadata: {name: support-distilled}\nspec:\n  jobName: handmade\n  customModelName: handmade-model\n",
        1,
    );
    assert_contains(&text, "jobName: handmade");
    std::fs::write(&path, text).unwrap();
    let q = quickstart.to_str().unwrap();
    bedform(&account, d, &["apply", "--auto-approve", "--wait", q]).expect(0);
    disown(&account);

    bedform(
        &account,
        d,
        &[
            "--region",
            "us-east-1",
            "export",
            "--stack",
            "adopted",
            "--out",
            "exported",
        ],
    )
    .expect(0);
    let path = d.join("exported/customization-job.yaml");
    let jobs = std::fs::read_to_string(&path).unwrap();
    assert_contains(&jobs, "adopted:");
    assert_contains(&jobs, "jobName: handmade-");
    assert_contains(&jobs, "customModelName: handmade-model-");
    bedform(
        &account,
        d,
        &["import", "--all", "--auto-approve", "exported"],
    )
    .expect(0);
    bedform(&account, d, &["plan", "--detailed-exitcode", "exported"]).expect(0);

    // A changed training spec no longer matches the pin: a new job, new names.
    std::fs::write(
        &path,
        jobs.replace("maxResponseLength: 1000", "maxResponseLength: 2000"),
    )
    .unwrap();
    let plan = bedform(&account, d, &["plan", "--detailed-exitcode", "exported"]).expect(2);
    assert_contains(&plan.stdout, "CustomizationJob/handmade");
    assert_contains(&plan.stdout, "must be replaced");
}

/// A completed job whose custom model is gone is not exported: its document
/// would train again. export says so and writes the rest.
#[test]
fn export_skips_a_job_whose_model_is_gone() {
    let account = Account::new(fast_clock(0.5, 0.5));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let quickstart = copy_example(d, "quickstart");
    let q = quickstart.to_str().unwrap();
    bedform(&account, d, &["apply", "--auto-approve", "--wait", q]).expect(0);
    let rt = runtime();
    let observed = rt
        .block_on(account.sandbox.observe(&bedform::cloud::Scope::default()))
        .expect("observe");
    let model = observed
        .of_kind("CustomModel")
        .next()
        .expect("trained")
        .aws_name
        .clone();
    let throughput = observed
        .of_kind("ProvisionedThroughput")
        .next()
        .expect("serving")
        .aws_name
        .clone();
    for (kind, name) in [
        ("ProvisionedThroughput", throughput),
        ("CustomModel", model.clone()),
    ] {
        rt.block_on(account.sandbox.execute(&Op::Delete {
            kind: kind.into(),
            name,
            empty_first: false,
        }))
        .expect("deleted outside bedform");
    }
    let exported = bedform(&account, d, &["--region", "us-east-1", "export"]).expect(0);
    assert_contains(
        &exported.stderr,
        &format!("its custom model `{model}` no longer exists"),
    );
    assert!(
        !exported.stdout.contains("kind: CustomizationJob"),
        "{}",
        exported.stdout
    );
    assert_contains(&exported.stdout, "kind: IamRole");
}
