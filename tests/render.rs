//! The three renderings of a plan, as snapshots, plus the properties a reviewer
//! relies on whatever the wording: a legend of only the symbols used, an exact
//! closing count, a warning for every destructive or costly change, sensitive values
//! hidden, and JSON that is the plan itself.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use bedform::model::{DesiredResource, ObservedResource};
use bedform::plan::{Action, Plan, PlanOptions, plan};
use bedform::render::{Format, render};
use common::{change, desired_from, empty_account, model_access, owned_by, quickstart, unowned};
use serde_json::{Map, json};

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(true);
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z",
        "[timestamp]",
    );
    settings.add_filter(
        r#""bedform_version": "[^"]*""#,
        r#""bedform_version": "[version]""#,
    );
    // Hashes of every observed field: deterministic (tests/plan.rs checks that),
    // but they would churn with any change to the observed model. Which objects
    // were fingerprinted stays visible.
    settings.add_filter(
        r#"("[A-Za-z]+/[^"]*": )"[0-9a-f]{64}""#,
        r#"$1"[fingerprint]""#,
    );
    // Manifests written to a temporary folder.
    settings.add_filter(
        r#""source": "[^"]*/([^/"]+:\d+)""#,
        r#""source": "[tmp]/$1""#,
    );
    settings
}

fn quickstart_plan() -> Plan {
    plan(&quickstart(), &empty_account(), &PlanOptions::default())
}

// ------------------------------------------------- a plan with every change

/// What the account was built from.
const BEFORE: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec:
  region: us-east-1
  accountId: "123456789012"
  tags: {team: ml}
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: logs}
spec:
  logGroupName: /demo/invocations
  retentionDays: 30
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: steady}
spec:
  logGroupName: /demo/steady
  retentionDays: 30
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: role}
spec:
  roleName: demo-role
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: reader}
spec:
  roleName: demo-reader
  assumedBy: bedrock
  inlinePolicies:
    read:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: s3:GetObject
          Resource: "arn:aws:s3:::demo-data/*"
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: old-role}
spec:
  roleName: demo-old-role
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: archive}
spec:
  bucketName: demo-archive
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
kind: CustomizationJob
metadata: {name: legacy}
spec:
  type: distillation
  baseModel: amazon.nova-micro-v1:0
  teacher: {model: amazon.nova-pro-v1:0, maxResponseLength: 500}
  trainingData: {s3Uri: "s3://demo-data/legacy.jsonl"}
  output: {s3Uri: "s3://demo-data/output/"}
  role: {ref: role}
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: serving}
spec:
  model: {ref: job}
  modelUnits: 1
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: bulk}
spec:
  model: amazon.nova-lite-v1:0
  modelUnits: 1
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: committed}
spec:
  model: amazon.nova-pro-v1:0
  modelUnits: 1
  commitment: oneMonth
"#;

/// The manifests under review.
const AFTER: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec:
  region: us-east-1
  accountId: "123456789012"
  tags: {team: ml}
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: logs}
spec:
  logGroupName: /demo/invocations
  retentionDays: 30
---
apiVersion: bedform/v1
kind: LogGroup
metadata: {name: steady}
spec:
  logGroupName: /demo/steady
  retentionDays: 30
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: role}
spec:
  roleName: demo-role
  path: /service-role/
  assumedBy: bedrock
---
apiVersion: bedform/v1
kind: IamRole
metadata: {name: reader}
spec:
  roleName: demo-reader
  assumedBy: bedrock
  inlinePolicies:
    read:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject]
          Resource: "arn:aws:s3:::demo-data/*"
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: fresh}
spec:
  bucketName: demo-fresh
---
apiVersion: bedform/v1
kind: Bucket
metadata: {name: taken}
spec:
  bucketName: demo-taken
---
apiVersion: bedform/v1
kind: ModelAccess
metadata: {name: access}
spec:
  models: [anthropic.claude-3-5-haiku-20241022-v1:0]
  useCaseForm: {file: use-case.json}
---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: job}
spec:
  type: distillation
  baseModel: amazon.nova-lite-v1:0
  teacher: {model: amazon.nova-pro-v1:0, maxResponseLength: 2000}
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
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: bulk}
spec:
  model: amazon.nova-lite-v1:0
  modelUnits: 2
---
apiVersion: bedform/v1
kind: ProvisionedThroughput
metadata: {name: reserved}
spec:
  model: anthropic.claude-v2:1
  modelUnits: 1
  commitment: sixMonths
"#;

/// Secret-ish content of the use-case form, which must never be printed.
const FORM: &str = r#"{"companyName": "Acme Confidential", "intendedUsers": "0"}"#;

/// How a resource applied from `declared` looks in the account.
fn as_applied(declared: &DesiredResource, stack: &str) -> ObservedResource {
    ObservedResource {
        kind: declared.address.kind.clone(),
        aws_name: declared.aws_name.clone(),
        arn: None,
        attrs: declared.attrs.clone(),
        tags: declared.tags_with_ownership(stack),
        status: None,
        status_message: None,
        facts: Map::new(),
    }
}

fn every_change_plan() -> Plan {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("use-case.json"), FORM).expect("form");
    let before = desired_from("before.yaml", BEFORE);
    let after = desired_from(&dir.path().join("after.yaml").to_string_lossy(), AFTER);
    let mut observed = empty_account();
    for declared in &before.resources {
        let mut o = as_applied(declared, "demo");
        match declared.address.to_string().as_str() {
            // Changed outside bedform.
            "LogGroup/logs" => {
                o.attrs.insert("retentionDays".into(), json!(7));
            }
            "CustomizationJob/job" => {
                o.status = Some("Completed".into());
                let model = declared.attr_str("customModelName").expect("model name");
                let mut m = as_applied(declared, "demo");
                m.kind = "CustomModel".into();
                m.aws_name = model.into();
                m.attrs = Map::new();
                m.facts
                    .insert("baseModel".into(), json!("amazon.nova-lite-v1:0"));
                m.status = Some("Active".into());
                observed.resources.push(m);
            }
            "CustomizationJob/legacy" => {
                o.status = Some("InProgress".into());
                o.facts.insert("stage".into(), json!("Training"));
            }
            "ProvisionedThroughput/committed" => {
                o.status = Some("InService".into());
                o.facts.insert(
                    "commitmentExpirationTime".into(),
                    json!("2026-02-14T09:30:00Z"),
                );
            }
            address if address.starts_with("ProvisionedThroughput/") => {
                o.status = Some("InService".into());
            }
            _ => {}
        }
        observed.resources.push(o);
    }
    // A bucket with the declared name that someone else made.
    observed.resources.push(unowned("Bucket", "demo-taken"));
    // Another stack's bucket: never in this plan.
    observed.resources.push(owned_by(
        "Bucket",
        "demo-neighbour",
        "neighbour",
        "Bucket/data",
    ));
    observed
        .resources
        .push(model_access(&["anthropic.claude-3-5-haiku-20241022-v1:0"]));
    plan(&after, &observed, &PlanOptions::default())
}

fn actions(plan: &Plan) -> BTreeSet<Action> {
    plan.changes.iter().map(|c| c.action).collect()
}

#[test]
fn the_every_change_plan_has_every_change() {
    let plan = every_change_plan();
    let found = actions(&plan);
    for action in [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::Delete,
        Action::Stop,
        Action::Forget,
        Action::Wait,
        Action::Refused,
        Action::Unmanaged,
        Action::NoOp,
    ] {
        assert!(
            found.contains(&action),
            "{action:?} missing from {:#?}",
            plan.changes
        );
    }
    assert!(plan.changes.iter().any(|c| c.drift));
    assert!(plan.changes.iter().any(|c| c.purchase.is_some()));
    assert!(plan.changes.iter().any(|c| c.retrains));
    let replaces: BTreeSet<bool> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace && !c.retrains)
        .map(|c| c.create_before_destroy)
        .collect();
    assert_eq!(
        replaces,
        BTreeSet::from([false, true]),
        "both replacement orders"
    );
    assert!(!plan.changes.iter().any(|c| c.aws_name == "demo-neighbour"));
}

// ------------------------------------------------------------------ snapshots

/// Snapshots the three renderings of `plan` as `{name}_human`, `{name}_markdown` and
/// `{name}_json`.
fn assert_renderings(name: &str, plan: Plan) {
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(format!("{name}_human"), render(&plan, Format::Human, false));
        insta::assert_snapshot!(
            format!("{name}_markdown"),
            render(&plan, Format::Markdown, false)
        );
        insta::assert_snapshot!(format!("{name}_json"), render(&plan, Format::Json, false));
    });
}

#[test]
fn quickstart_renderings() {
    assert_renderings("quickstart", quickstart_plan());
}

#[test]
fn every_change_renderings() {
    assert_renderings("every_change", every_change_plan());
}

// ----------------------------------------------------------------- properties

/// The symbols the human legend lists, each once.
fn legend(text: &str) -> BTreeSet<String> {
    let listed: Vec<String> = text
        .lines()
        .skip_while(|l| *l != "Symbols:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "a symbol listed twice: {listed:?}"
    );
    unique
}

#[test]
fn the_legend_lists_exactly_the_symbols_used() {
    for plan in [quickstart_plan(), every_change_plan()] {
        let text = render(&plan, Format::Human, false);
        let used: BTreeSet<String> = plan
            .changes
            .iter()
            .filter(|c| c.is_change())
            .map(|c| c.action.symbol(c.create_before_destroy).to_string())
            .collect();
        assert_eq!(legend(&text), used, "{text}");
        // Every change block starts with a symbol from the legend.
        for c in plan.changes.iter().filter(|c| c.is_change()) {
            let mut head = format!(
                "{:>3} {}",
                c.action.symbol(c.create_before_destroy),
                c.address
            );
            if !c.fields.is_empty() {
                head.push_str(" {");
            }
            assert!(text.lines().any(|l| l == head), "no `{head}` in\n{text}");
        }
    }
    let quickstart = legend(&render(&quickstart_plan(), Format::Human, false));
    assert_eq!(quickstart, BTreeSet::from(["+".to_string()]));
}

#[test]
fn the_closing_count_is_exact() {
    let text = render(&quickstart_plan(), Format::Human, false);
    assert_eq!(
        text.lines().last(),
        Some("Plan: 7 to create, 0 to update, 0 to replace, 0 to delete.")
    );
    let plan = every_change_plan();
    let text = render(&plan, Format::Human, false);
    let line = "Plan: 2 to create, 3 to update, 3 to replace, 2 to delete, 1 to stop, 1 to release, 1 waiting, 1 refused, 1 not managed.";
    assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    assert!(render(&plan, Format::Markdown, false).contains(&format!("**{line}**")));
    // A plan that cannot be applied says so last.
    assert!(
        text.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("Error: this plan cannot be applied: 2 change(s)")),
        "{text}"
    );
    assert!(text.contains("Purchase: ProvisionedThroughput/reserved buys 1 model unit(s) of anthropic.claude-v2:1 with a sixMonths commitment"));
}

#[test]
fn no_changes_is_said_plainly() {
    let empty = desired_from(
        "stack.yaml",
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: demo}\nspec: {region: us-east-1}\n",
    );
    let plan = plan(&empty, &empty_account(), &PlanOptions::default());
    let human = render(&plan, Format::Human, false);
    assert!(human.contains("No changes."), "{human}");
    assert!(!human.contains("Symbols:"));
    assert!(render(&plan, Format::Markdown, false).contains("**No changes.**"));
}

/// A plan that only warns (a job that failed, nothing to send) says so under its
/// own heading: no empty legend, no "will perform" with nothing to perform, no
/// empty details block in the comment.
#[test]
fn a_plan_of_warnings_only_prints_no_empty_sections() {
    let change = bedform::plan::Change::new(
        bedform::model::Address::new("CustomizationJob", "distilled"),
        "distilled-1a2b3c4d",
        Action::NoOp,
    )
    .warn("the job did not complete; run plan/apply with --retry-failed to train again under a new name");
    let mut plan = plan(&quickstart(), &empty_account(), &PlanOptions::default());
    plan.changes = vec![change];
    plan.summary = bedform::plan::Summary::of(&plan.changes);
    let human = render(&plan, Format::Human, false);
    assert!(!human.contains("Symbols:"), "{human}");
    assert!(!human.contains("will perform"), "{human}");
    assert!(human.contains("Needs attention"), "{human}");
    assert!(human.contains("--retry-failed"), "{human}");
    let markdown = render(&plan, Format::Markdown, false);
    assert!(!markdown.contains("<details>"), "{markdown}");
    assert!(markdown.contains("--retry-failed"), "{markdown}");
}

#[test]
fn markdown_warns_about_every_destructive_or_costly_change() {
    let plan = every_change_plan();
    let text = render(&plan, Format::Markdown, false);
    let warnings: Vec<&str> = text.lines().filter(|l| l.starts_with("> - ")).collect();
    assert!(text.contains("> [!WARNING]"), "{text}");
    for c in &plan.changes {
        let needs = matches!(c.action, Action::Delete | Action::Replace) || c.retrains;
        if needs {
            let marker = format!("**{}**", c.address);
            assert!(
                warnings.iter().any(|w| w.contains(&marker)),
                "no warning for {} ({:?}) in\n{text}",
                c.address,
                c.action
            );
        }
        if let Some(purchase) = &c.purchase {
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains(&format!("**{}**", c.address))
                        && w.contains(&purchase.commitment)
                        && w.contains("--allow-commitment")),
                "no purchase warning for {} in\n{text}",
                c.address
            );
        }
    }
    assert!(text.contains("<details>") && text.contains("</details>"));
    assert!(text.contains("#### Changed outside bedform"));
    assert!(text.contains("- `LogGroup/logs`: `retentionDays`"));
}

#[test]
fn sensitive_fields_are_never_printed() {
    let plan = every_change_plan();
    // The form is sent.
    let access = change(&plan, "ModelAccess/access");
    assert!(
        access
            .fields
            .iter()
            .any(|f| f.path == "useCaseForm" && f.sensitive)
    );
    for format in [Format::Human, Format::Markdown] {
        let text = render(&plan, format, false);
        let line = text
            .lines()
            .find(|l| l.contains("useCaseForm"))
            .unwrap_or_else(|| panic!("no useCaseForm line in\n{text}"));
        assert!(line.contains("(sensitive)"), "{line}");
        assert!(
            !text.contains("Acme Confidential"),
            "{format:?} shows the form:\n{text}"
        );
    }
}

#[test]
fn json_is_the_plan() {
    for plan in [quickstart_plan(), every_change_plan()] {
        let text = render(&plan, Format::Json, false);
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(
            value["format_version"],
            json!(bedform::plan::FORMAT_VERSION)
        );
        let back: Plan = serde_json::from_str(&text).expect("reads back as a plan");
        // The plan itself, but for what the API marks sensitive (the use-case form
        // of every_change_plan), which only the private saved plan keeps.
        assert_eq!(value, bedform::render::redacted(&plan));
        let masked = text.matches("(sensitive)").count();
        assert_eq!(back == plan, masked == 0, "{masked} values masked");
        // And the other renderings of the read-back plan are the same text.
        for format in [Format::Human, Format::Markdown] {
            assert_eq!(render(&back, format, false), render(&plan, format, false));
        }
    }
}

#[test]
fn color_is_only_escape_codes() {
    let plan = every_change_plan();
    let colored = render(&plan, Format::Human, true);
    assert!(colored.contains("\x1b["));
    let stripped = regex_lite_strip(&colored);
    assert_eq!(stripped, render(&plan, Format::Human, false));
}

/// Removes ANSI SGR sequences (`ESC [ ... m`).
fn regex_lite_strip(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ------------------------------------------------------ permissions and size

#[test]
fn every_permission_change_is_warned_with_a_readable_diff() {
    let plan = every_change_plan();
    let text = render(&plan, Format::Markdown, false);
    let warning = text
        .lines()
        .find(|l| l.starts_with("> - 🔐 **IamRole/reader**"))
        .unwrap_or_else(|| panic!("no permission warning in\n{text}"));
    assert!(warning.contains("`inlinePolicies`"), "{warning}");
    // The diff sits above the fold, line by line, with the added action alone on a
    // `+` line and the removed form on a `-` line.
    let above_fold = text.split("<details>").next().unwrap_or_default();
    let section = above_fold
        .split("#### Permission changes")
        .nth(1)
        .unwrap_or_else(|| panic!("no permission section above the fold in\n{text}"));
    assert!(
        section.contains("**IamRole/reader** (demo-reader)"),
        "{section}"
    );
    assert!(
        section.contains("\n-         \"Action\": \"s3:GetObject\",\n"),
        "{section}"
    );
    assert!(
        section.contains("\n+           \"s3:PutObject\"\n"),
        "{section}"
    );
    // Roles whose policies do not change are not in it.
    assert!(!section.contains("IamRole/role"), "{section}");
    // A new role's trust and permission policies are shown too (quickstart).
    let quickstart = render(&quickstart_plan(), Format::Markdown, false);
    for address in ["IamRole/distillation-role", "IamRole/logging-role"] {
        assert!(
            quickstart.contains(&format!("> - 🔐 **{address}** changes who may do what: `inlinePolicies`, `trustPolicy` (diff below)")),
            "no warning for {address} in\n{quickstart}"
        );
    }
    assert!(
        quickstart.contains("+       \"Principal\": {"),
        "{quickstart}"
    );
}

/// A plan with `count` new log groups with long names, so its comment is large.
fn large_plan(count: usize) -> Plan {
    let mut text = String::from(
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {name: big}\nspec: {region: us-east-1, accountId: \"123456789012\"}\n",
    );
    for i in 0..count {
        text.push_str(&format!(
            "---\napiVersion: bedform/v1\nkind: LogGroup\nmetadata: {{name: logs-{i}}}\nspec:\n  logGroupName: /big/invocations/{}-{i}\n  retentionDays: 30\n  deletionPolicy: delete\n",
            "x".repeat(120)
        ));
    }
    let mut desired = desired_from("big.yaml", &text);
    let mut observed = empty_account();
    // Half of them exist already, owned and removed from the manifests: deletes,
    // whose warnings must all survive the cut.
    let removed: Vec<DesiredResource> = desired.resources.drain(count / 2..).collect();
    for gone in &removed {
        observed.resources.push(as_applied(gone, "big"));
    }
    plan(&desired, &observed, &PlanOptions::default())
}

#[test]
fn a_comment_too_long_for_a_pull_request_is_cut_and_says_so() {
    use bedform::render::markdown::{COMMENT_LIMIT, render_within};
    let plan = large_plan(600);
    let whole = render_within(&plan, usize::MAX);
    assert!(whole.len() > COMMENT_LIMIT, "the test plan is too small");
    assert!(!whole.contains("Cut to fit"));
    let text = render(&plan, Format::Markdown, false);
    assert!(text.len() <= COMMENT_LIMIT, "{} bytes", text.len());
    assert!(text.chars().count() <= COMMENT_LIMIT);
    // What a reviewer must see is all there: the count and every warning.
    assert!(text.contains(&bedform::render::summary_line(&plan.summary)));
    let deletes = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .count();
    assert_eq!(deletes, 300);
    assert_eq!(text.matches("> - 🗑️ **LogGroup/").count(), deletes);
    // The note says what was cut, and the fences still close.
    let shown = text.matches("\n# LogGroup/").count();
    assert!(
        shown > 0 && shown < plan.changes.len(),
        "{shown} details shown"
    );
    let note = format!(
        "the last {} of {} change details",
        plan.changes.len() - shown,
        plan.changes.len()
    );
    assert!(
        text.contains(&note),
        "no `{note}` in the tail:\n{}",
        &text[text.len() - 600..]
    );
    assert!(text.contains(&format!("the first {shown} shown")));
    assert_eq!(text.matches("```").count() % 2, 0, "unclosed code fence");
    assert!(text.trim_end().ends_with("or the saved plan file."));
    // What is cut is cut for want of room: the comment fills the limit but for
    // the room kept for framing and the note, and one more entry.
    let longest_entry = whole.split("\n# ").map(str::len).skip(1).max().unwrap_or(0);
    assert!(
        text.len() + 1_000 + longest_entry >= COMMENT_LIMIT,
        "{} bytes of {COMMENT_LIMIT}: room was left unused",
        text.len()
    );
    // Any limit is kept, down to one too small for the details at all.
    for limit in [20_000, 5_000] {
        let cut = render_within(&plan, limit);
        assert!(cut.len() <= limit, "{} > {limit}", cut.len());
        assert!(cut.contains("Cut to fit"));
    }
}

#[test]
fn a_cut_comment_never_points_at_a_diff_it_left_out() {
    use bedform::render::markdown::render_within;
    // The quickstart creates roles: permission warnings, their diffs, details.
    let plan = quickstart_plan();
    let whole = render_within(&plan, usize::MAX);
    assert!(whole.contains("(diff below)"), "{whole}");
    let mut cut_diffs = 0;
    let mut no_details = 0;
    // From the floor of --max-length to the whole comment.
    for limit in (2_000..whole.len() + 100).step_by(50) {
        let text = render_within(&plan, limit);
        assert!(text.len() <= limit, "{} > {limit}", text.len());
        assert_eq!(
            text.matches("```").count() % 2,
            0,
            "{limit}: unclosed fence"
        );
        // No empty diff block, no "the first 0 shown".
        assert!(
            !text.contains("```diff\n```"),
            "{limit}: empty block:\n{text}"
        );
        assert!(!text.contains("the first 0 shown"), "{limit}:\n{text}");
        // Each warning that says "(diff below)" has its diff in the comment.
        for warning in text.lines().filter(|l| l.contains("(diff below)")) {
            let address = warning
                .split("**")
                .nth(1)
                .unwrap_or_else(|| panic!("{warning}"));
            assert!(
                text.contains(&format!("\n**{address}** (")),
                "{limit}: `{warning}` but no diff of {address}:\n{text}"
            );
        }
        // The graph is the first thing cut.
        if text.contains("Cut to fit") {
            assert!(text.contains("left out the graph"), "{limit}:\n{text}");
            assert!(!text.contains("```mermaid"), "{limit}:\n{text}");
        } else {
            assert!(
                text.contains("```mermaid"),
                "{limit}: no graph, nothing cut"
            );
        }
        if text.contains("(diff cut)") {
            cut_diffs += 1;
            assert!(text.contains("permission diffs"), "{limit}:\n{text}");
        }
        if !text.contains("<details>") {
            no_details += 1;
            assert!(text.contains("change details"), "{limit}: cut unsaid");
        }
    }
    assert!(cut_diffs > 0, "no limit cut a permission diff");
    assert!(no_details > 0, "no limit left out every detail");
}

// ----------------------------------------------------------------------- cost

fn throughput_plan(model: &str, units: u64, commitment: &str, options: &PlanOptions) -> Plan {
    let text = format!(
        "apiVersion: bedform/v1\nkind: Stack\nmetadata: {{name: demo}}\nspec: {{region: us-east-1, accountId: \"123456789012\"}}\n---\napiVersion: bedform/v1\nkind: ProvisionedThroughput\nmetadata: {{name: serving}}\nspec:\n  model: {model}\n  modelUnits: {units}\n  commitment: {commitment}\n"
    );
    plan(&desired_from("pt.yaml", &text), &empty_account(), options)
}

#[test]
fn a_purchase_shows_its_hourly_price_and_term_total_in_every_format() {
    // 2 units × $63.00 (one month of Claude 2.1 in us-east-1) × 730 hours.
    let plan = throughput_plan(
        "anthropic.claude-v2:1",
        2,
        "oneMonth",
        &PlanOptions::default(),
    );
    let cost = change(&plan, "ProvisionedThroughput/serving")
        .cost
        .clone()
        .expect("a cost");
    assert_eq!(cost.usd_per_unit_hour, Some(63.0));
    assert_eq!(cost.usd_per_hour, Some(126.0));
    assert_eq!(cost.term_hours, Some(730));
    assert_eq!(cost.usd_term_total, Some(91_980.0));
    assert!(
        cost.source
            .contains("https://aws.amazon.com/bedrock/pricing/"),
        "{}",
        cost.source
    );
    let human = render(&plan, Format::Human, false);
    assert!(
        human.contains("ProvisionedThroughput/serving: 2 × anthropic.claude-v2:1, one-month commitment: $63.00 per unit-hour = $126.00 per hour, $91,980.00 for the whole term (730 hours)"),
        "{human}"
    );
    let markdown = render(&plan, Format::Markdown, false);
    assert!(
        markdown.contains("| `ProvisionedThroughput/serving` | `anthropic.claude-v2:1` | 2 | one-month commitment (730 h) | $63.00 | $126.00 | $91,980.00 |"),
        "{markdown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&render(&plan, Format::Json, false)).expect("json");
    let serving = json["changes"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["address"] == "ProvisionedThroughput/serving")
        })
        .expect("the change");
    assert_eq!(serving["cost"]["usd_term_total"], json!(91_980.0));
    assert_eq!(serving["cost"]["usd_per_unit_hour"], json!(63.0));
}

#[test]
fn an_unknown_price_is_said_unknown_never_guessed() {
    let plan = throughput_plan(
        "amazon.nova-pro-v1:0",
        1,
        "sixMonths",
        &PlanOptions::default(),
    );
    let cost = change(&plan, "ProvisionedThroughput/serving")
        .cost
        .clone()
        .expect("a cost");
    assert_eq!(cost.usd_per_unit_hour, None);
    assert_eq!(cost.usd_term_total, None);
    assert!(
        cost.source.starts_with(
            "unknown: no six-month commitment price for `amazon.nova-pro-v1:0` in us-east-1"
        ),
        "{}",
        cost.source
    );
    for format in [Format::Human, Format::Markdown] {
        let text = render(&plan, format, false);
        let section = text
            .split("Cost of provisioned throughput (USD)")
            .nth(1)
            .unwrap_or_else(|| panic!("no cost section in\n{text}"));
        assert!(section.contains("unknown"), "{section}");
        assert!(!section.contains('$'), "a price was printed:\n{section}");
    }
}

#[test]
fn the_users_price_table_comes_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("prices.yaml");
    std::fs::write(
        &file,
        "source: our negotiated rates\ndate: \"2026-10-01\"\nprices:\n  - {model: amazon.nova-pro-v1:0, region: us-east-1, sixMonths: 10.5}\n  - {model: anthropic.claude-v2:1, region: \"*\", oneMonth: 50}\n",
    )
    .expect("write");
    let options = PlanOptions {
        prices: bedform::pricing::Prices::with_user_file(&file).expect("a valid table"),
        ..PlanOptions::default()
    };
    let nova = throughput_plan("amazon.nova-pro-v1:0", 1, "sixMonths", &options);
    let cost = change(&nova, "ProvisionedThroughput/serving")
        .cost
        .clone()
        .expect("cost");
    assert_eq!(cost.usd_term_total, Some(45_990.0));
    assert!(
        cost.source
            .contains("our negotiated rates, as of 2026-10-01"),
        "{}",
        cost.source
    );
    // The user's figure wins over bedform's own for the same model.
    let claude = throughput_plan("anthropic.claude-v2:1", 1, "oneMonth", &options);
    let cost = change(&claude, "ProvisionedThroughput/serving")
        .cost
        .clone()
        .expect("cost");
    assert_eq!(cost.usd_per_unit_hour, Some(50.0));
    // Terms the user's table leaves out still come from bedform's.
    let six = throughput_plan("anthropic.claude-v2:1", 1, "sixMonths", &options);
    let cost = change(&six, "ProvisionedThroughput/serving")
        .cost
        .clone()
        .expect("cost");
    assert_eq!(cost.usd_per_unit_hour, Some(35.0));
    // A broken table is an error that names the file, not a silent fallback.
    std::fs::write(
        &file,
        "source: x\ndate: y\nprices:\n  - {model: m, region: r, oneMonth: -3}\n",
    )
    .expect("write");
    let err = bedform::pricing::Prices::with_user_file(&file)
        .expect_err("negative price")
        .to_string();
    assert!(
        err.contains("prices.yaml") && err.contains("positive"),
        "{err}"
    );
}

#[test]
fn the_shipped_price_table_says_where_its_figures_come_from() {
    let table = bedform::pricing::builtin();
    assert!(table.source.starts_with("https://"), "{}", table.source);
    assert!(!table.date.is_empty());
    assert!(table.prices.len() >= 20);
    // No entry prices a model the pricing page did not.
    assert!(
        !table
            .prices
            .iter()
            .any(|e| e.model.starts_with("amazon.nova"))
    );
}

// ------------------------------------------- a hostile plan as GitHub draws it

/// What a pull request's author (or a message from AWS that echoes one) could put
/// into a plan's strings to rewrite the review comment.
const PAYLOADS: &[&str] = &[
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=alert('xss-img')>",
    "</code></pre><b>xss-bold</b>",
    "\n```\n\n# xss-heading\n\n```diff\n",
    "`` ` ``` xss-ticks",
    "[xss-link](https://evil.example/link)",
    "https://evil.example/autolink www.evil.example",
    "@xss-mention-octocat",
    "| xss | table |\n|---|---|",
    "**xss-strong** _xss-em_ ~~xss-strike~~",
    "<!-- xss-comment --> &lt;xss-entity&gt;",
];

/// Every string of the plan (names, reasons, messages, values) with the payload,
/// but for the members that are enums or versions and must still read back.
fn poison(value: &mut serde_json::Value, payload: &str) {
    // Field paths are bedform's own names for manifest fields, not text from them.
    const KEEP: &[&str] = &[
        "action",
        "format_version",
        "bedform_version",
        "kind",
        "op",
        "path",
    ];
    match value {
        serde_json::Value::String(text) => text.push_str(payload),
        serde_json::Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if !KEEP.contains(&key.as_str()) {
                    poison(member, payload);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| poison(v, payload)),
        _ => {}
    }
}

/// The HTML with the content of every code span and code block removed: what is
/// left is what GitHub would read as Markdown, HTML, links and mentions.
fn outside_code(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<code") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</code>") {
            Some(end) => rest = &rest[start + end + "</code>".len()..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn a_hostile_plan_stays_inside_its_code_in_github_markdown() {
    let mut options = comrak::Options::default();
    options.extension.autolink = true;
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.tasklist = true;
    // GitHub lets HTML through before sanitising it: so must the check.
    options.render.r#unsafe = true;
    for payload in PAYLOADS {
        let mut value = serde_json::to_value(every_change_plan()).unwrap();
        poison(&mut value, payload);
        let mut hostile: Plan = serde_json::from_value(value).unwrap();
        // The model ids and figures stay parseable; names and messages carry it all.
        hostile.summary = every_change_plan().summary;
        let markdown = render(&hostile, Format::Markdown, false);
        let html = comrak::markdown_to_html(&markdown, &options);
        let exposed = outside_code(&html);
        for marker in [
            "xss-script",
            "xss-img",
            "xss-bold",
            "xss-heading",
            "xss-ticks",
            "xss-link",
            "evil.example",
            "xss-mention",
            "xss-strong",
            "xss-em",
            "xss-strike",
            "xss-comment",
            "xss-entity",
            "xss",
        ] {
            if let Some(at) = exposed.find(marker) {
                let from = exposed.floor_char_boundary(at.saturating_sub(300));
                let to = exposed.floor_char_boundary((at + 400).min(exposed.len()));
                panic!(
                    "payload {payload:?}: `{marker}` outside code: …{}…",
                    &exposed[from..to]
                );
            }
        }
        // Only the comment's own links, lists and blocks: no new ones.
        let clean = comrak::markdown_to_html(
            &render(&every_change_plan(), Format::Markdown, false),
            &options,
        );
        for tag in [
            "<a ", "<pre", "<h1", "<h2", "<h3", "<h4", "<table", "<details", "<li",
        ] {
            assert_eq!(
                html.matches(tag).count(),
                clean.matches(tag).count(),
                "payload {payload:?}: the number of `{tag}` changed\n{markdown}"
            );
        }
    }
}

/// A fine-tuning job, to change one hyper-parameter of.
const TUNED: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: demo}
spec: {region: us-east-1}
---
apiVersion: bedform/v1
kind: CustomizationJob
metadata: {name: tuned}
spec:
  type: fineTuning
  baseModel: amazon.nova-lite-v1:0
  trainingData: {s3Uri: "s3://demo-data/train.jsonl"}
  output: {s3Uri: "s3://demo-data/output/"}
  role: "arn:aws:iam::123456789012:role/trainer"
  hyperParameters: {epochCount: 2, learningRate: 0.0001}
  tags: {team: ml}
"#;

#[test]
fn forces_replacement_sits_beside_the_leaf_that_forces_it() {
    let before = desired_from("before.yaml", TUNED);
    let after = desired_from(
        "after.yaml",
        &TUNED
            .replace("learningRate: 0.0001", "learningRate: 0.0002")
            .replace("team: ml", "team: research"),
    );
    let mut observed = empty_account();
    for declared in &before.resources {
        let mut job = as_applied(declared, "demo");
        job.status = Some("Completed".into());
        observed.resources.push(job);
    }
    let plan = plan(&after, &observed, &PlanOptions::default());
    for format in [Format::Human, Format::Markdown] {
        let text = render(&plan, format, false);
        let lines: Vec<&str> = text.lines().collect();
        let parent = lines
            .iter()
            .position(|l| l.trim_start_matches(['~', '!', ' ']) == "hyperParameters:")
            .unwrap_or_else(|| panic!("no `hyperParameters:` line in\n{text}"));
        let leaf = lines[parent + 1];
        assert!(
            leaf.contains("learningRate: \"0.0001\" -> \"0.0002\"   # forces replacement"),
            "{leaf}\n{text}"
        );
        assert!(
            lines[parent + 2].contains("(1 unchanged entry not shown)"),
            "{text}"
        );
        // Only training fields force a new job: the tag beside it does not.
        assert_eq!(text.matches("# forces replacement").count(), 1, "{text}");
    }
}

// ---------------------------------------------------------------------- graph

/// A Mermaid flowchart as bedform writes it, checked line by line against the
/// subset of Mermaid's grammar it uses: `flowchart LR`, nodes `ID["label"]`
/// with an optional `:::class`, edges `ID --> ID` between declared nodes, one
/// `subgraph ID ["label"]` ... `end`, and `classDef NAME fill:#hex,stroke:#hex`
/// for every class used. A label holds only letters, digits, ` /.-_:+~(),`,
/// `<br/>` and `#NNN;` entities, so it cannot end its quotes or carry markup.
/// Returns the nodes' labels (entities decoded) and the edges.
fn parse_mermaid(text: &str) -> (BTreeMap<String, String>, Vec<(String, String)>) {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"), "{text}");
    let node = regex::Regex::new(r#"^\s*([nl][0-9]+)\["([^"]*)"\](?::::([a-z]+))?$"#).unwrap();
    let edge = regex::Regex::new(r"^\s*(n[0-9]+) --> (n[0-9]+)$").unwrap();
    let subgraph = regex::Regex::new(r#"^\s*subgraph [a-z]+ \["[A-Za-z ]+"\]$"#).unwrap();
    let class_def =
        regex::Regex::new(r"^\s*classDef ([a-z]+) fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6}$").unwrap();
    let label = regex::Regex::new(r"^(?:[A-Za-z0-9 /.\-_:+~(),]|<br/>|#[0-9]+;)*$").unwrap();
    let entity = regex::Regex::new(r"#([0-9]+);").unwrap();
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    let mut used = BTreeSet::new();
    let mut defined = BTreeSet::new();
    let mut open = 0;
    for line in lines {
        if let Some(m) = node.captures(line) {
            let text = &m[2];
            assert!(label.is_match(text), "label `{text}` is not escaped");
            let decoded = entity.replace_all(text, |c: &regex::Captures| {
                char::from_u32(c[1].parse().unwrap()).unwrap().to_string()
            });
            assert!(
                nodes
                    .insert(m[1].to_string(), decoded.into_owned())
                    .is_none(),
                "{} twice",
                &m[1]
            );
            if let Some(class) = m.get(3) {
                used.insert(class.as_str().to_string());
            }
        } else if let Some(m) = edge.captures(line) {
            edges.push((m[1].to_string(), m[2].to_string()));
        } else if subgraph.is_match(line) {
            open += 1;
        } else if line.trim() == "end" {
            open -= 1;
            assert!(open >= 0, "`end` without a subgraph");
        } else if let Some(m) = class_def.captures(line) {
            defined.insert(m[1].to_string());
        } else {
            panic!("not a line of the flowchart: `{line}`\n{text}");
        }
    }
    assert_eq!(open, 0, "unclosed subgraph");
    for (a, b) in &edges {
        assert!(
            nodes.contains_key(a) && nodes.contains_key(b),
            "{a} --> {b}"
        );
    }
    assert!(
        used.is_subset(&defined),
        "classes {used:?}, defined {defined:?}"
    );
    (nodes, edges)
}

#[test]
fn the_graph_has_a_node_per_resource_and_an_edge_per_reference() {
    use bedform::render::graph::Graph;
    let desired = quickstart();
    let graph = Graph::of_stack(&desired);
    let (nodes, edges) = parse_mermaid(&graph.mermaid());
    assert_eq!(nodes.len(), desired.resources.len());
    let references: usize = desired.resources.iter().map(|r| r.depends_on.len()).sum();
    assert!(references > 0);
    assert_eq!(edges.len(), references);
    // Each edge goes from the resource that refers to the one it names.
    let label = |id: &str| nodes[id].split("<br/>").next().unwrap().to_string();
    for resource in &desired.resources {
        for used in &resource.depends_on {
            assert!(
                edges
                    .iter()
                    .any(|(a, b)| label(a) == resource.address.to_string()
                        && label(b) == used.to_string()),
                "no edge {} --> {used}",
                resource.address
            );
        }
        let id = nodes
            .iter()
            .find(|(_, l)| **l == format!("{}<br/>{}", resource.address, resource.aws_name))
            .unwrap_or_else(|| panic!("no node of {}", resource.address));
        let _ = id;
    }
    // Offline: no actions, no legend.
    assert!(!graph.mermaid().contains("Legend"));
}

#[test]
fn with_a_plan_each_node_shows_its_action_and_the_legend_lists_those_drawn() {
    use bedform::render::graph::Graph;
    let plan = every_change_plan();
    let graph = Graph::of_plan(&plan);
    let (nodes, _) = parse_mermaid(&graph.mermaid());
    // One node per AWS object, showing its action: a retrained job and the
    // superseded model it deletes are two nodes of one address.
    for change in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let symbol = change.action.symbol(change.create_before_destroy);
        let label = format!("{symbol} {}<br/>{}", change.address, change.aws_name);
        assert!(
            nodes.values().any(|l| *l == label),
            "no node `{label}`: {nodes:#?}"
        );
    }
    let legend_lines: Vec<&String> = nodes
        .iter()
        .filter(|(id, _)| id.starts_with('l'))
        .map(|(_, l)| l)
        .collect();
    let unique: BTreeSet<&&String> = legend_lines.iter().collect();
    assert_eq!(unique.len(), legend_lines.len(), "{legend_lines:?}");
    let legend: Vec<&String> = nodes
        .iter()
        .filter(|(id, _)| id.starts_with('l'))
        .map(|(_, l)| l)
        .collect();
    for action in actions(&plan) {
        let drawn = legend.iter().any(|l| {
            l.starts_with(&format!("{} ", action.symbol(false)))
                || l.starts_with(&format!("{} ", action.symbol(true)))
        });
        assert!(drawn, "{action:?} is not in the legend {legend:?}");
    }
    // The graph of what changes keeps the changed nodes and their neighbours only.
    let around = graph.around_changes();
    assert!(around.nodes.len() <= graph.nodes.len());
    for node in &around.nodes {
        let changed = node.action.is_some_and(|p| p.action != Action::NoOp);
        let index = around.nodes.iter().position(|n| n == node).unwrap();
        let neighbour = around.edges.iter().any(|(a, b)| {
            let other = if *a == index {
                *b
            } else if *b == index {
                *a
            } else {
                return false;
            };
            around.nodes[other]
                .action
                .is_some_and(|p| p.action != Action::NoOp)
        });
        assert!(changed || neighbour, "{} is neither", node.address);
    }
}

#[test]
fn dot_output_is_graphviz_that_dot_renders() {
    use bedform::render::graph::Graph;
    let dot = Graph::of_plan(&every_change_plan()).dot();
    assert!(dot.starts_with("digraph bedform {\n") && dot.ends_with("}\n"));
    // Every label is escaped: no quote or backslash inside it but `\n`.
    for line in dot.lines().filter(|l| l.contains("label=\"")) {
        let label = line
            .split("label=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            label.replace("\\n", "").chars().all(|c| c != '\\'),
            "{line}"
        );
    }
    let Ok(mut child) = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("skipped: Graphviz (`dot`) is not installed; the DOT output was not rendered");
        return;
    };
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot refused it: {}\n{dot}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("LogGroup/logs"), "the labels are drawn");
}

#[test]
fn a_hostile_name_stays_inside_its_graph_label() {
    use bedform::render::graph::Graph;
    let mut plan = quickstart_plan();
    let payload = "x\"] ``` <img src=x onerror=alert(1)> [link](https://e.example) #1; end";
    plan.changes[0].aws_name = payload.to_string();
    plan.changes[0].address.name = payload.to_string();
    let mermaid = Graph::of_plan(&plan).mermaid();
    let (nodes, _) = parse_mermaid(&mermaid);
    assert!(nodes.values().any(|l| l.contains(payload)), "{nodes:#?}");
    let dot = Graph::of_plan(&plan).dot();
    assert!(!dot.contains("<img") && !dot.contains("```"), "{dot}");
    // In the markdown plan, the graph block is one code block GitHub draws.
    let markdown = render(&plan, Format::Markdown, false);
    let block = markdown
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the graph block");
    parse_mermaid(&format!("{block}\n"));
}
