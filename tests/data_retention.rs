//! `DataRetention`: the account's data retention mode in a region, a singleton
//! setting: put when declared, every change a warning in the plan, reset to
//! `inherit` only by `state: absent`. On the sandbox and over the wire through
//! the SDK to the stub of the moto proxy (moto has no data retention).

mod common;
mod support;

use bedform::plan::Action;
use common::{Account, change, fast_clock};
use support::Moto;
use tempfile::TempDir;

const STACK: &str = r#"apiVersion: bedform/v1
kind: Stack
metadata: {name: retention}
spec:
  region: us-east-1
  accountId: "123456789012"
---
apiVersion: bedform/v1
kind: DataRetention
metadata: {name: retention}
spec:
  mode: none
"#;

#[tokio::test]
async fn the_mode_is_put_changed_with_a_warning_and_reset_only_when_absent() {
    let account = Account::new(fast_clock(0.2, 0.1));
    let plan = account.plan(STACK).await;
    let put = change(&plan, "DataRetention/retention");
    assert_eq!(put.action, Action::Create);
    assert!(
        put.warnings
            .iter()
            .any(|w| w.contains("from `inherit`") && w.contains("to `none` (zero data retention)")),
        "{put:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert!(!account.plan(STACK).await.has_changes());

    let shared = STACK.replace("mode: none", "mode: provider_data_share");
    let plan = account.plan(&shared).await;
    let c = change(&plan, "DataRetention/retention");
    assert_eq!(c.action, Action::Update);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("request data may be shared with the model provider")),
        "{c:#?}"
    );
    account.apply_plan(&plan, false).await;

    // Leaving the document out changes nothing; `state: absent` resets it.
    let without = STACK.split("\n---\n").next().unwrap().to_string();
    assert!(!account.plan(&without).await.has_changes());
    let absent = shared.replace("  mode: provider_data_share\n", "  state: absent\n");
    let plan = account.plan(&absent).await;
    let c = change(&plan, "DataRetention/retention");
    assert_eq!(c.action, Action::Delete);
    assert!(
        c.warnings.iter().any(|w| w.contains("to `inherit`")),
        "{c:#?}"
    );
    account.apply_plan(&plan, false).await;
    assert!(!account.plan(&absent).await.has_changes());
}

#[test]
fn a_mode_is_required_and_one_the_api_takes() {
    let dir = TempDir::new().unwrap();
    for (text, expected) in [
        (
            STACK.replace("spec:\n  mode: none\n", "spec: {}\n"),
            "DataRetention needs a `mode`",
        ),
        (
            STACK.replace("mode: none", "mode: zero"),
            "unknown variant `zero`",
        ),
        (
            STACK.replace("  mode: none\n", "  mode: none\n  state: absent\n"),
            "`mode` with `state: absent`",
        ),
    ] {
        std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
        let out = common::run(dir.path(), ["validate", "stack.yaml"]).expect(1);
        common::assert_contains(&out.stderr, expected);
        common::assert_contains(&out.stderr, "stack.yaml:");
    }
}

#[test]
fn data_retention_over_the_wire() {
    let moto = Moto::start();
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), STACK).unwrap();
    let run = |args: &[&str]| common::run_with(dir.path(), &moto.env(), args);
    // The stub starts at `default`: a change, shown as one.
    let plan = run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(2);
    common::assert_contains(&plan.stdout, "from `default`");
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    let rt = common::runtime();
    let config = rt.block_on(moto.sdk_config());
    let bedrock = aws_sdk_bedrock::Client::new(&config);
    let read = || {
        rt.block_on(bedrock.get_account_data_retention().send())
            .unwrap()
            .mode()
            .as_str()
            .to_string()
    };
    assert_eq!(read(), "none");
    std::fs::write(
        dir.path().join("stack.yaml"),
        STACK.replace("  mode: none\n", "  state: absent\n"),
    )
    .unwrap();
    run(&["apply", "--auto-approve", "stack.yaml"]).expect(0);
    assert_eq!(read(), "inherit");
    run(&["plan", "--detailed-exitcode", "stack.yaml"]).expect(0);
    assert_eq!(moto.take_violations(), Vec::<String>::new());
}
