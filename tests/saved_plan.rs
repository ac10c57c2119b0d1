//! Saved plans are exact (issue 4): `apply --plan FILE` applies the reviewed plan
//! or refuses, changing nothing, when the account changed since (naming what
//! changed), when it is another account or region, or when the file was edited or
//! truncated. The binary end to end, each test with its own sandbox file.

mod common;

use std::path::Path;
use std::time::Duration;

use bedform::cloud::Cloud;
use bedform::cloud::sandbox::Sandbox;
use bedform::plan::Op;
use common::{ACCOUNT, Output, REGION, assert_contains, fast_clock};
use serde_json::{Map, Value, json};
use tempfile::TempDir;

const LOG_GROUP: &str = "/bedrock/model-invocations";
const ROLE: &str = "bedrock-invocation-logging";

/// A temporary folder holding example stacks, sandbox files and saved plans.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: TempDir::new().expect("temp dir"),
        }
    }

    /// `name` inside the folder, as an argument.
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// Copies an example into the folder and returns its path.
    fn example(&self, name: &str) -> String {
        common::copy_example(self.dir.path(), name)
            .to_string_lossy()
            .into_owned()
    }

    /// Runs bedform against the sandbox kept in `sandbox`.
    #[must_use]
    fn bedform(&self, sandbox: &str, args: &[&str]) -> Output {
        let sandbox = self.path(sandbox);
        let mut all = vec!["--sandbox-file", sandbox.as_str()];
        all.extend_from_slice(args);
        common::run(self.dir.path(), all)
    }
}

fn edit_file(path: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{path} has no `{from}`");
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn edit_json(path: &str, edit: impl FnOnce(&mut Value)) {
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    edit(&mut value);
    std::fs::write(path, serde_json::to_vec_pretty(&value).expect("json")).expect("write");
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

/// The objects a stale-plan refusal names, as printed.
fn named_as_stale(stderr: &str) -> Vec<String> {
    let start = stderr
        .find("(stale plan): ")
        .unwrap_or_else(|| panic!("not refused as stale:\n{stderr}"))
        + "(stale plan): ".len();
    let end = stderr[start..]
        .find(". Run plan again")
        .unwrap_or_else(|| panic!("no advice to plan again:\n{stderr}"));
    stderr[start..start + end]
        .split(", ")
        .map(str::to_string)
        .collect()
}

fn log_group_retention(sandbox: &str) -> Value {
    read_json(sandbox)["objects"]["LogGroup"][LOG_GROUP]["attrs"]["retentionDays"].clone()
}

/// The logging-only example applied, and a saved plan that changes its log group's
/// retention from 90 to 30 days.
fn applied_logging_with_a_reviewed_change(env: &Env) -> (String, String) {
    let stack = env.example("logging-only");
    env.bedform("account.json", &["apply", "--auto-approve", &stack])
        .expect(0);
    edit_file(
        &format!("{stack}/logging.yaml"),
        "retentionDays: 90",
        "retentionDays: 30",
    );
    let reviewed = env.path("reviewed.json");
    let planned = env
        .bedform("account.json", &["plan", "--out", &reviewed, &stack])
        .expect(0);
    assert_contains(&planned.stdout, "1 to update");
    (stack, reviewed)
}

#[tokio::test]
async fn a_stale_plan_names_exactly_what_changed_and_changes_nothing() {
    let env = Env::new();
    let (stack, reviewed) = applied_logging_with_a_reviewed_change(&env);
    let sandbox = env.path("account.json");

    // Behind bedform's back: a tag on the role, and someone's new bucket.
    edit_json(&sandbox, |account| {
        account["objects"]["IamRole"][ROLE]["tags"]["owner"] = json!("someone");
    });
    let cloud = Sandbox::open(Path::new(&sandbox), ACCOUNT, REGION).expect("open");
    cloud
        .execute(&Op::Create {
            kind: "Bucket".into(),
            name: "someone-elses-bucket".into(),
            attrs: Map::new(),
            tags: Default::default(),
            client_request_token: None,
        })
        .await
        .expect("create bucket");
    drop(cloud);

    let refused = env
        .bedform(
            "account.json",
            &["apply", "--plan", &reviewed, "--auto-approve"],
        )
        .expect(1);
    assert_eq!(
        named_as_stale(&refused.stderr),
        [
            "Bucket someone-elses-bucket (new)",
            &format!("IamRole {ROLE} (changed)"),
        ]
    );
    assert_contains(&refused.stderr, "nothing was changed");
    assert!(!refused.stdout.contains("Apply complete"));

    // The reviewed change was not made: a later plan still has it.
    assert_eq!(log_group_retention(&sandbox), json!(90));
    let later = env
        .bedform(
            "account.json",
            &["plan", "--detailed-exitcode", "--format", "json", &stack],
        )
        .expect(2);
    let later: bedform::plan::Plan = serde_json::from_str(&later.stdout).expect("plan");
    let log_group = common::change(&later, "LogGroup/invocation-logs");
    assert_eq!(log_group.action, bedform::plan::Action::Update);
}

#[test]
fn a_valid_saved_plan_applies_exactly_and_then_there_is_nothing_to_do() {
    let env = Env::new();
    let (stack, reviewed) = applied_logging_with_a_reviewed_change(&env);
    let applied = env
        .bedform(
            "account.json",
            &["apply", "--plan", &reviewed, "--auto-approve"],
        )
        .expect(0);
    assert_contains(&applied.stdout, "Apply complete.");
    assert_eq!(log_group_retention(&env.path("account.json")), json!(30));
    let again = env
        .bedform("account.json", &["plan", "--detailed-exitcode", &stack])
        .expect(0);
    assert_contains(&again.stdout, "No changes.");
}

/// A sandbox file holding the quickstart with its customization job training on
/// a clock of `job_seconds`, and a saved plan that changes the log group's retention.
fn quickstart_training(env: &Env, job_seconds: f64) -> (String, String, String) {
    let sandbox = env.path("account.json");
    Sandbox::open(Path::new(&sandbox), ACCOUNT, REGION)
        .expect("open")
        .set_timing(fast_clock(job_seconds, 0.5))
        .expect("timing");
    let stack = env.example("quickstart");
    env.bedform("account.json", &["apply", "--auto-approve", &stack])
        .expect(0);
    let jobs = read_json(&sandbox)["objects"]["CustomizationJob"].clone();
    let (job, state) = jobs
        .as_object()
        .and_then(|jobs| jobs.iter().next())
        .expect("a job");
    assert_eq!(state["status"], "InProgress");
    edit_file(
        &format!("{stack}/storage.yaml"),
        "retentionDays: 30",
        "retentionDays: 60",
    );
    let reviewed = env.path("reviewed.json");
    env.bedform("account.json", &["plan", "--out", &reviewed, &stack])
        .expect(0);
    (sandbox, reviewed, job.clone())
}

fn job_progress(sandbox: &str, job: &str) -> Value {
    read_json(sandbox)["objects"]["CustomizationJob"][job]["facts"]["progress"].clone()
}

#[test]
fn a_job_moving_along_does_not_make_a_plan_stale() {
    let env = Env::new();
    let (sandbox, reviewed, job) = quickstart_training(&env, 60.0);
    let planned_at = job_progress(&sandbox, &job);
    // A percentage point of a 60 s job is 0.6 s.
    std::thread::sleep(Duration::from_millis(1500));
    let applied = env
        .bedform(
            "account.json",
            &["apply", "--plan", &reviewed, "--auto-approve"],
        )
        .expect(0);
    assert_contains(&applied.stdout, "LogGroup/invocation-logs: done");
    let applied_at = job_progress(&sandbox, &job);
    assert!(
        applied_at.as_f64() > planned_at.as_f64(),
        "the job did not move: {planned_at} then {applied_at}"
    );
}

#[tokio::test]
async fn a_job_finishing_makes_a_plan_stale() {
    let env = Env::new();
    let (sandbox, reviewed, job) = quickstart_training(&env, 3.0);
    let cloud = Sandbox::open(Path::new(&sandbox), ACCOUNT, REGION).expect("open");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // Reading the account moves its clock along.
    while cloud
        .get("CustomizationJob", &job)
        .await
        .expect("get")
        .and_then(|j| j.status)
        .as_deref()
        == Some("InProgress")
    {
        assert!(std::time::Instant::now() < deadline, "the job never ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(cloud);
    let refused = env
        .bedform(
            "account.json",
            &["apply", "--plan", &reviewed, "--auto-approve"],
        )
        .expect(1);
    let stale = named_as_stale(&refused.stderr);
    assert!(
        stale.contains(&format!("CustomizationJob {job} (changed)")),
        "{stale:?}"
    );
    assert!(
        stale
            .iter()
            .any(|s| s.starts_with("CustomModel ") && s.ends_with(" (new)")),
        "{stale:?}"
    );
}

#[test]
fn another_account_is_refused_and_left_alone() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let reviewed = env.path("reviewed.json");
    env.bedform("account.json", &["plan", "--out", &reviewed, &stack])
        .expect(0);
    let sandbox = env.path("account.json");
    edit_file(&sandbox, ACCOUNT, "999999999999");
    let before = std::fs::read(&sandbox).expect("read");
    let refused = env
        .bedform(
            "account.json",
            &["apply", "--plan", &reviewed, "--auto-approve"],
        )
        .expect(1);
    assert_contains(
        &refused.stderr,
        "made for account 123456789012, but the credentials are for account 999999999999",
    );
    assert_contains(&refused.stderr, "nothing was changed");
    assert_eq!(std::fs::read(&sandbox).expect("read"), before);
}

#[test]
fn another_region_is_refused_and_left_alone() {
    let env = Env::new();
    let stack = env.example("logging-only");
    let reviewed = env.path("reviewed.json");
    env.bedform(
        "west.json",
        &["--region", "us-west-2", "plan", "--out", &reviewed, &stack],
    )
    .expect(0);
    // The same account in another region.
    env.bedform("east.json", &["plan", &stack]).expect(0);
    let east = env.path("east.json");
    let before = std::fs::read(&east).expect("read");
    let refused = env
        .bedform(
            "east.json",
            &["apply", "--plan", &reviewed, "--auto-approve"],
        )
        .expect(1);
    assert_contains(
        &refused.stderr,
        "made for region us-west-2, not us-east-1, the region of sandbox file",
    );
    assert_contains(&refused.stderr, "nothing was changed");
    assert_eq!(std::fs::read(&east).expect("read"), before);

    let refused = env
        .bedform(
            "west.json",
            &[
                "--region",
                "us-east-1",
                "apply",
                "--plan",
                &reviewed,
                "--auto-approve",
            ],
        )
        .expect(1);
    assert_contains(&refused.stderr, "made for region us-west-2, not us-east-1;");

    // In its own region the same file applies.
    env.bedform(
        "west.json",
        &["apply", "--plan", &reviewed, "--auto-approve"],
    )
    .expect(0);
    env.bedform(
        "west.json",
        &[
            "--region",
            "us-west-2",
            "plan",
            "--detailed-exitcode",
            &stack,
        ],
    )
    .expect(0);
}

/// A fresh account planned for the logging-only example, the saved plan's text,
/// and the sandbox file as it was.
fn planned_logging(env: &Env) -> (String, String, Vec<u8>) {
    let stack = env.example("logging-only");
    let reviewed = env.path("reviewed.json");
    env.bedform("account.json", &["plan", "--out", &reviewed, &stack])
        .expect(0);
    let text = std::fs::read_to_string(&reviewed).expect("read");
    let account = std::fs::read(env.path("account.json")).expect("read");
    (reviewed, text, account)
}

/// Applies `reviewed`, which must be refused with `message`, leaving the account
/// as `account` was.
fn assert_refused(env: &Env, reviewed: &str, account: &[u8], message: &str) {
    let refused = env
        .bedform(
            "account.json",
            &["apply", "--plan", reviewed, "--auto-approve"],
        )
        .expect(1);
    assert_contains(&refused.stderr, "cannot be applied");
    assert_contains(&refused.stderr, message);
    assert_contains(&refused.stderr, "nothing was changed");
    assert_eq!(
        std::fs::read(env.path("account.json")).expect("read"),
        account
    );
}

#[test]
fn an_edited_plan_file_is_refused() {
    let env = Env::new();
    let (reviewed, text, account) = planned_logging(&env);
    // One character in an operation: 90 days of logs become 30.
    let op = "\"op\": \"create\"";
    assert!(text.contains(op));
    let retention = "\"retentionDays\": 90";
    assert_eq!(text.matches(retention).count(), 1, "{text}");
    std::fs::write(&reviewed, text.replace(retention, "\"retentionDays\": 30")).expect("write");
    assert_refused(&env, &reviewed, &account, "was edited after plan wrote it");

    // Another region written in without a matching checksum is an edit too.
    let region = format!("\"region\": \"{REGION}\"");
    assert!(text.contains(&region));
    std::fs::write(
        &reviewed,
        text.replace(&region, "\"region\": \"us-west-2\""),
    )
    .expect("write");
    assert_refused(&env, &reviewed, &account, "was edited after plan wrote it");

    // Without its checksum it is not a saved plan.
    let mut unsummed = read_json(&reviewed);
    unsummed
        .as_object_mut()
        .and_then(|fields| fields.remove("checksum"))
        .expect("a checksum");
    std::fs::write(&reviewed, unsummed.to_string()).expect("write");
    assert_refused(&env, &reviewed, &account, "has no checksum");

    // A plan of another format says so, whatever else it holds.
    std::fs::write(
        &reviewed,
        text.replace(
            &format!("\"format_version\": \"{}\"", bedform::plan::FORMAT_VERSION),
            "\"format_version\": \"1.0\"",
        ),
    )
    .expect("write");
    assert_refused(&env, &reviewed, &account, "has plan format 1.0");

    // Put back as written, it applies.
    std::fs::write(&reviewed, &text).expect("write");
    env.bedform(
        "account.json",
        &["apply", "--plan", &reviewed, "--auto-approve"],
    )
    .expect(0);
}

#[test]
fn a_truncated_plan_file_is_refused() {
    let env = Env::new();
    let (reviewed, text, account) = planned_logging(&env);
    let bytes = text.as_bytes();
    for cut in [0, 1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 2] {
        std::fs::write(&reviewed, &bytes[..cut]).expect("write");
        assert_refused(&env, &reviewed, &account, "truncated");
    }
}

#[test]
fn plan_out_writes_the_plan_with_its_fingerprints_and_checksum() {
    let env = Env::new();
    let (stack, reviewed) = applied_logging_with_a_reviewed_change(&env);
    let saved = read_json(&reviewed);
    // Still a plan to anything that reads plans.
    let plan: bedform::plan::Plan = serde_json::from_value(saved.clone()).expect("a plan");
    assert_eq!(
        (
            plan.account_id.as_str(),
            plan.region.as_str(),
            plan.stack.as_str()
        ),
        (ACCOUNT, REGION, "logging-only")
    );
    assert_eq!(plan.bedform_version, env!("CARGO_PKG_VERSION"));
    let keys: Vec<&str> = plan
        .observed_fingerprints
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "Bucket/acme-bedrock-invocation-logs",
        &format!("IamRole/{ROLE}"),
        &format!("LogGroup/{LOG_GROUP}"),
    ] {
        assert!(keys.contains(&key), "{key} not in {keys:?}");
    }
    assert!(
        saved["checksum"]
            .as_str()
            .is_some_and(|c| c.len() == 64 && c.chars().all(|c| c.is_ascii_hexdigit())),
        "{saved}"
    );
    // The same plan as `--format json` shows, plus the checksum.
    let shown = env
        .bedform("account.json", &["plan", "--format", "json", &stack])
        .expect(0);
    let mut without_checksum = saved;
    without_checksum
        .as_object_mut()
        .and_then(|fields| fields.remove("checksum"));
    assert_eq!(
        without_checksum,
        serde_json::from_str::<Value>(&shown.stdout).expect("json")
    );
}

/// The names of the custom models the sandbox kept in `sandbox` holds.
fn custom_models(sandbox: &str) -> Vec<String> {
    read_json(sandbox)["objects"]["CustomModel"]
        .as_object()
        .map(|models| models.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_retrain_is_trained_swapped_and_cleaned_up_in_one_apply_wait() {
    let env = Env::new();
    let sandbox = env.path("account.json");
    Sandbox::open(Path::new(&sandbox), ACCOUNT, REGION)
        .expect("open")
        .set_timing(fast_clock(1.0, 0.5))
        .expect("timing");
    let stack = env.example("quickstart");
    env.bedform(
        "account.json",
        &["apply", "--wait", "--auto-approve", &stack],
    )
    .expect(0);
    let first = custom_models(&sandbox);
    assert_eq!(first.len(), 1, "{first:?}");

    // Reviewed, then applied from the saved plan: nothing is planned again.
    let file = format!("{stack}/distillation.yaml");
    edit_file(&file, "maxResponseLength: 1000", "maxResponseLength: 1500");
    let reviewed = env.path("reviewed.json");
    let planned = env
        .bedform("account.json", &["plan", "--out", &reviewed, &stack])
        .expect(0);
    assert_contains(&planned.stdout, &format!("({}) will be deleted", first[0]));
    let applied = env
        .bedform(
            "account.json",
            &["apply", "--plan", &reviewed, "--wait", "--auto-approve"],
        )
        .expect(0);
    assert_contains(&applied.stdout, "Apply complete.");
    // The old model's delete is told apart from the job of the same address.
    assert_contains(
        &applied.stdout,
        &format!("CustomizationJob/support-distilled ({}): done", first[0]),
    );
    let second = custom_models(&sandbox);
    assert_eq!(second.len(), 1, "{second:?}\n{}", applied.stdout);
    assert_ne!(second, first);
    env.bedform("account.json", &["plan", "--detailed-exitcode", &stack])
        .expect(0);

    // The same with a plan made by apply itself.
    edit_file(&file, "maxResponseLength: 1500", "maxResponseLength: 2000");
    let applied = env
        .bedform(
            "account.json",
            &["apply", "--wait", "--auto-approve", &stack],
        )
        .expect(0);
    let third = custom_models(&sandbox);
    assert_eq!(third.len(), 1, "{third:?}\n{}", applied.stdout);
    assert_ne!(third, second);
    env.bedform("account.json", &["plan", "--detailed-exitcode", &stack])
        .expect(0);
}
