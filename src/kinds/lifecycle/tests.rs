//! The lifecycle rules on constructed desired and observed state, through a
//! kind that uses them as they are (a log group) and one that forces
//! replacement on a field (a role's `path`).

use std::collections::BTreeSet;

use serde_json::json;

use crate::kinds::Kind;
use crate::kinds::face::PlanCx;
use crate::model::plan::{Action, Change, Op};
use crate::model::{
    Address, DeletionPolicy, DesiredResource, ObservedResource, TAG_DELETION_POLICY,
    TAG_PREVENT_DESTROY,
};
use crate::model::{DesiredStack, ObservedAccount, StackInfo};
use serde_json::Value;
use std::collections::BTreeMap;

const STACK: &str = "demo";

fn desired(kind: Kind, name: &str, attrs: Value) -> DesiredResource {
    DesiredResource {
        address: Address::new(kind.as_str(), "it"),
        aws_name: name.into(),
        attrs: attrs.as_object().cloned().unwrap_or_default(),
        tags: BTreeMap::from([("team".to_string(), "ml".to_string())]),
        spec_hash: "0123456789abcdef".into(),
        prevent_destroy: false,
        deletion_policy: DeletionPolicy::Retain,
        absent: false,
        depends_on: BTreeSet::new(),
        source: "stack.yaml:1".into(),
        check: None,
        guardrail_tests: Vec::new(),
        keeps_superseded: false,
    }
}

/// What an earlier apply of `d` left in the account.
fn applied(d: &DesiredResource) -> ObservedResource {
    ObservedResource {
        kind: d.address.kind.clone(),
        aws_name: d.aws_name.clone(),
        attrs: d.attrs.clone(),
        tags: d.tags_with_ownership(STACK),
        ..ObservedResource::default()
    }
}

/// The stack `demo` declaring `resources`.
fn stack_of(resources: Vec<DesiredResource>) -> DesiredStack {
    DesiredStack {
        stack: StackInfo {
            name: STACK.into(),
            region: "us-east-1".into(),
            account_id: None,
            tags: BTreeMap::new(),
            lock: None,
            role_path: None,
        },
        account_id: "123456789012".into(),
        resources,
    }
}

fn plan_of(d: &DesiredResource, observed: Vec<ObservedResource>) -> Vec<Change> {
    let stack = stack_of(vec![d.clone()]);
    let account = ObservedAccount {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        observed_at: "2026-12-01T00:00:00Z".into(),
        resources: observed,
    };
    let options = crate::model::plan::PlanOptions::default();
    let cx = PlanCx::new(&stack, &account, &options);
    let kind = Kind::parse(&d.address.kind).expect("a kind");
    kind.behaviour().plan(&cx, d)
}

fn group() -> DesiredResource {
    desired(
        Kind::LogGroup,
        "/demo/logs",
        json!({"retentionDays": 30, "kmsKeyId": null}),
    )
}

#[test]
fn what_is_missing_is_created_with_its_ownership_tags() {
    let d = group();
    let [change] = &plan_of(&d, vec![])[..] else {
        panic!("one change")
    };
    assert_eq!(change.action, Action::Create);
    let [Op::Create { tags, attrs, .. }] = &change.ops[..] else {
        panic!("one create: {:?}", change.ops)
    };
    assert_eq!(tags, &d.tags_with_ownership(STACK));
    assert_eq!(attrs, &d.attrs);
}

#[test]
fn what_was_applied_and_not_changed_is_left_alone() {
    let d = group();
    let changes = plan_of(&d, vec![applied(&d)]);
    assert!(
        changes.iter().all(|c| c.action == Action::NoOp),
        "{changes:?}"
    );
    assert!(changes.iter().all(|c| c.ops.is_empty()));
}

#[test]
fn a_changed_field_is_updated_in_place_and_names_the_field() {
    let before = group();
    let mut after = group();
    after.attrs.insert("retentionDays".into(), json!(90));
    after.spec_hash = "fedcba9876543210".into();
    let [change] = &plan_of(&after, vec![applied(&before)])[..] else {
        panic!("one change")
    };
    assert_eq!(change.action, Action::Update);
    let field = change
        .fields
        .iter()
        .find(|f| f.path == "retentionDays")
        .expect("the changed field");
    assert_eq!(
        (field.before.clone(), field.after.clone()),
        (Some(json!(30)), Some(json!(90)))
    );
    assert!(!field.forces_replacement);
}

#[test]
fn a_field_the_api_cannot_update_forces_replacement() {
    let role = |path: &str| {
        desired(
            Kind::IamRole,
            "demo-role",
            json!({"path": path, "trustPolicy": {}, "inlinePolicies": {}, "managedPolicyArns": [],
                   "description": null, "maxSessionDuration": 3600, "permissionsBoundary": null}),
        )
    };
    let before = role("/");
    let mut after = role("/service-role/");
    after.spec_hash = "fedcba9876543210".into();
    let changes = plan_of(&after, vec![applied(&before)]);
    let change = changes
        .iter()
        .find(|c| c.action == Action::Replace)
        .unwrap_or_else(|| panic!("a replacement: {changes:?}"));
    assert!(
        change
            .fields
            .iter()
            .any(|f| f.path == "path" && f.forces_replacement)
    );
    assert!(change.ops.iter().any(|op| matches!(op, Op::Delete { .. })));
    assert!(change.ops.iter().any(|op| matches!(op, Op::Create { .. })));
}

#[test]
fn an_object_of_that_name_the_stack_does_not_own_is_not_touched() {
    let d = group();
    let mut theirs = applied(&d);
    theirs.tags = BTreeMap::from([("bedform:stack".to_string(), "other".to_string())]);
    let [change] = &plan_of(&d, vec![theirs])[..] else {
        panic!("one change")
    };
    assert_eq!(change.action, Action::Unmanaged);
    assert!(change.action.blocks_apply());
    assert!(change.ops.is_empty());
}

#[test]
fn a_retained_orphan_is_forgotten_a_deletable_one_deleted_a_guarded_one_refused() {
    let d = group();
    let stack = stack_of(vec![]);
    let account = ObservedAccount::default();
    let options = crate::model::plan::PlanOptions::default();
    let cx = PlanCx::new(&stack, &account, &options);
    let orphan_plan = |observed: &ObservedResource| {
        let actions: Vec<Action> = Kind::LogGroup
            .behaviour()
            .plan_orphan(&cx, observed)
            .iter()
            .map(|c| c.action)
            .collect();
        actions
    };
    let retained = applied(&d);
    assert_eq!(orphan_plan(&retained), [Action::Forget]);
    let mut deletable = retained.clone();
    deletable
        .tags
        .insert(TAG_DELETION_POLICY.into(), "delete".into());
    assert_eq!(orphan_plan(&deletable), [Action::Delete]);
    let mut guarded = deletable;
    guarded
        .tags
        .insert(TAG_PREVENT_DESTROY.into(), "true".into());
    assert_eq!(orphan_plan(&guarded), [Action::Refused]);
}
