//! The planner's lifecycle rules, shared by the kinds whose objects are simply
//! created, updated in place, replaced or deleted. They name no kind: a kind's
//! [`KindBehaviour`] says what differs.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::kinds::face::{KindBehaviour, PlanCx};
use crate::model::plan::{Action, Change, FieldDiff, Op};
use crate::model::{
    Address, DeletionPolicy, DesiredResource, ObservedResource, TAG_ADDRESS, TAG_DELETION_POLICY,
    TAG_PREVENT_DESTROY, TAG_SPEC_HASH, TAG_STACK, is_bedform_tag,
};

/// `a` or `an` before a kind's name.
fn article(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// Field-by-field differences between declared and observed attributes.
pub fn diff_attrs(
    behaviour: &(impl KindBehaviour + ?Sized),
    desired: &Map<String, Value>,
    observed: &Map<String, Value>,
) -> Vec<FieldDiff> {
    let mut keys: Vec<&String> = desired.keys().chain(observed.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let after = desired.get(key).filter(|v| !v.is_null());
            let before = observed.get(key).filter(|v| !v.is_null());
            (after != before).then(|| FieldDiff {
                path: key.clone(),
                before: before.cloned(),
                after: after.cloned(),
                forces_replacement: behaviour.forces_replacement(key),
                sensitive: false,
            })
        })
        .collect()
}

/// The tag difference, leaving out the spec hash (it always follows the spec).
pub fn diff_tags(
    desired: &BTreeMap<String, String>,
    observed: &BTreeMap<String, String>,
) -> Option<FieldDiff> {
    let visible = |tags: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        tags.iter()
            .filter(|(k, _)| k.as_str() != TAG_SPEC_HASH)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (after, before) = (visible(desired), visible(observed));
    (after != before).then(|| FieldDiff {
        path: "tags".into(),
        before: Some(serde_json::to_value(&before).unwrap_or(Value::Null)),
        after: Some(serde_json::to_value(&after).unwrap_or(Value::Null)),
        forces_replacement: false,
        sensitive: false,
    })
}

pub fn create_op(cx: &PlanCx<'_>, desired: &DesiredResource, token: Option<String>) -> Op {
    Op::Create {
        kind: desired.address.kind.clone(),
        name: desired.aws_name.clone(),
        attrs: desired.attrs.clone(),
        tags: desired.tags_with_ownership(cx.stack()),
        client_request_token: token,
    }
}

pub fn created_fields(desired: &DesiredResource) -> Vec<FieldDiff> {
    let mut fields: Vec<FieldDiff> = desired
        .attrs
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| FieldDiff {
            path: k.clone(),
            before: None,
            after: Some(v.clone()),
            forces_replacement: false,
            sensitive: false,
        })
        .collect();
    if !desired.tags.is_empty() {
        fields.push(FieldDiff {
            path: "tags".into(),
            before: None,
            after: Some(serde_json::to_value(&desired.tags).unwrap_or(Value::Null)),
            forces_replacement: false,
            sensitive: false,
        });
    }
    fields
}

/// An object with the declared name that this stack does not own.
pub fn unmanaged(desired: &DesiredResource, observed: &ObservedResource) -> Change {
    let reason = match observed.tag(TAG_STACK) {
        Some(other) => format!(
            "{} `{}` exists and belongs to stack `{other}`; bedform will not touch it",
            desired.address.kind, observed.aws_name
        ),
        None => format!(
            "{} `{}` exists but was not created by this stack; adopt it with `bedform import {} {}`",
            desired.address.kind, observed.aws_name, desired.address, observed.aws_name
        ),
    };
    Change::new(
        desired.address.clone(),
        observed.aws_name.clone(),
        Action::Unmanaged,
    )
    .because(reason)
}

/// The refusal for deleting or replacing a resource that carries `preventDestroy`.
pub fn prevent_destroy(address: &Address, aws_name: &str, what: &str) -> Change {
    Change::new(address.clone(), aws_name, Action::Refused).because(format!(
        "{what}, but it has `preventDestroy: true`; remove that first if this is really meant"
    ))
}

/// Plans a declared resource: create, no-op, update in place or replace.
pub fn plan_declared(
    behaviour: &(impl KindBehaviour + ?Sized),
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
) -> Vec<Change> {
    let kind = desired.address.kind.as_str();
    let by_name = cx.find(kind, &desired.aws_name);
    if desired.absent {
        return plan_absent(behaviour, cx, desired, by_name);
    }
    if let Some(observed) = by_name {
        cx.claim(observed);
        if behaviour.taggable() && !observed.owned_by(cx.stack()) {
            return vec![unmanaged(desired, observed)];
        }
        if behaviour.taggable()
            && observed.tag(TAG_ADDRESS) != Some(desired.address.to_string().as_str())
        {
            return vec![
                Change::new(
                    desired.address.clone(),
                    observed.aws_name.clone(),
                    Action::Unmanaged,
                )
                .because(format!(
                    "{kind} `{}` is owned by `{}` of this stack, not by {}",
                    observed.aws_name,
                    observed.tag(TAG_ADDRESS).unwrap_or("?"),
                    desired.address
                )),
            ];
        }
        let mut changes = vec![update_or_replace(behaviour, cx, desired, observed)];
        changes.extend(leftovers(cx, desired, observed));
        return changes;
    }
    // Owned under another name: the name changed.
    let renamed_from = cx.owned_for(kind, &desired.address).into_iter().next();
    if let Some(old) = renamed_from {
        cx.claim(old);
        if desired.prevent_destroy {
            return vec![prevent_destroy(
                &desired.address,
                &old.aws_name,
                &format!(
                    "its name changes from `{}` to `{}`, which replaces it",
                    old.aws_name, desired.aws_name
                ),
            )];
        }
        let mut change = Change::new(
            desired.address.clone(),
            desired.aws_name.clone(),
            Action::Replace,
        )
        .because(format!(
            "the name changes from `{}` to `{}`; AWS cannot rename {} {kind}",
            old.aws_name,
            desired.aws_name,
            article(kind)
        ))
        .with_op(create_op(cx, desired, None))
        .with_op(Op::Delete {
            kind: kind.to_string(),
            name: old.aws_name.clone(),
            empty_first: false,
        });
        change.create_before_destroy = true;
        // The field as the manifest names it (`roleName`), the first one that
        // `name_field` quotes.
        let name_path = behaviour
            .name_field()
            .split('`')
            .nth(1)
            .unwrap_or("metadata.name");
        let mut fields = vec![FieldDiff {
            path: name_path.into(),
            before: Some(Value::String(old.aws_name.clone())),
            after: Some(Value::String(desired.aws_name.clone())),
            forces_replacement: true,
            sensitive: false,
        }];
        fields.extend(diff_attrs(behaviour, &desired.attrs, &old.attrs));
        return vec![change.with_fields(fields)];
    }
    vec![
        Change::new(
            desired.address.clone(),
            desired.aws_name.clone(),
            Action::Create,
        )
        .with_fields(created_fields(desired))
        .with_op(create_op(cx, desired, None)),
    ]
}

/// Objects of this address left under an old name by an apply interrupted between
/// a replacement's create and its delete: the delete finishes the replacement.
fn leftovers(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    current: &ObservedResource,
) -> Vec<Change> {
    let kind = desired.address.kind.as_str();
    cx.owned_for(kind, &desired.address)
        .into_iter()
        .filter(|old| old.aws_name != current.aws_name && !cx.is_claimed(old))
        .map(|old| {
            cx.claim(old);
            let what = format!(
                "{kind} `{}` is left over from replacing it with `{}`",
                old.aws_name, current.aws_name
            );
            if desired.prevent_destroy || old.tag(TAG_PREVENT_DESTROY) == Some("true") {
                return prevent_destroy(&desired.address, &old.aws_name, &what);
            }
            Change::new(
                desired.address.clone(),
                old.aws_name.clone(),
                Action::Delete,
            )
            .because(format!("{what}; deleting it finishes the replacement"))
            .with_op(Op::Delete {
                kind: kind.to_string(),
                name: old.aws_name.clone(),
                empty_first: false,
            })
        })
        .collect()
}

/// A change that would delete an object holding data (described by `data`) is
/// refused unless the resource says `deletionPolicy: delete`; with it, the delete
/// empties the object first and the plan says what is lost.
pub fn guard_data_deletes(
    cx: &PlanCx<'_>,
    policy: DeletionPolicy,
    data: impl Fn(&ObservedResource) -> Option<String>,
    mut change: Change,
) -> Change {
    for op in &mut change.ops {
        if let Op::Delete {
            kind,
            name,
            empty_first,
        } = op
            && let Some(observed) = cx.find(kind, name)
            && let Some(held) = data(observed)
        {
            if policy != DeletionPolicy::Delete {
                return Change::new(change.address.clone(), change.aws_name.clone(), Action::Refused)
                    .with_fields(std::mem::take(&mut change.fields))
                    .because(format!(
                        "this change deletes {kind} `{name}`, which holds {held}; set `deletionPolicy: delete` to allow it"
                    ));
            }
            *empty_first = true;
            change.deletes_data = true;
            change
                .warnings
                .push(format!("deletes {kind} `{name}` with its {held}"));
        }
    }
    change
}

fn update_or_replace(
    behaviour: &(impl KindBehaviour + ?Sized),
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    observed: &ObservedResource,
) -> Change {
    let kind = desired.address.kind.as_str();
    let mut fields = diff_attrs(behaviour, &desired.attrs, &observed.attrs);
    let desired_tags = desired.tags_with_ownership(cx.stack());
    let tag_diff = if behaviour.taggable() {
        diff_tags(&desired_tags, &observed.tags)
    } else {
        None
    };
    let hash_current =
        !behaviour.taggable() || observed.tag(TAG_SPEC_HASH) == Some(desired.spec_hash.as_str());
    if fields.is_empty() && tag_diff.is_none() {
        if !hash_current {
            // Same values written another way: only the recorded hash moves.
            return Change::new(
                desired.address.clone(),
                desired.aws_name.clone(),
                Action::NoOp,
            )
            .note("the manifest changed but means the same; only the spec-hash tag is refreshed")
            .with_op(update_op(desired, desired_tags, Vec::new()));
        }
        return Change::new(
            desired.address.clone(),
            desired.aws_name.clone(),
            Action::NoOp,
        );
    }
    let drift = behaviour.taggable() && hash_current;
    let forced: Vec<String> = fields
        .iter()
        .filter(|f| f.forces_replacement)
        .map(|f| f.path.clone())
        .collect();
    let changed: Vec<String> = fields
        .iter()
        .map(|f| f.path.clone())
        .chain(tag_diff.as_ref().map(|f| f.path.clone()))
        .collect();
    fields.extend(tag_diff);
    if !forced.is_empty() {
        if desired.prevent_destroy {
            return prevent_destroy(
                &desired.address,
                &desired.aws_name,
                &format!(
                    "`{}` cannot be changed in place, which replaces it",
                    forced.join("`, `")
                ),
            );
        }
        let mut change = Change::new(desired.address.clone(), desired.aws_name.clone(), Action::Replace)
            .because(format!(
                "`{}` cannot be updated in place on {} {kind}; the {kind} is deleted and created again with the same name",
                forced.join("`, `"),
                article(kind)
            ))
            .with_fields(fields)
            .with_op(Op::Delete {
                kind: kind.to_string(),
                name: observed.aws_name.clone(),
                empty_first: false,
            })
            .with_op(create_op(cx, desired, None));
        change.drift = drift;
        return change;
    }
    let mut change = Change::new(
        desired.address.clone(),
        desired.aws_name.clone(),
        Action::Update,
    )
    .with_fields(fields)
    .with_op(update_op(desired, desired_tags, changed));
    change.drift = drift;
    if drift {
        change =
            change.note("changed outside bedform: the manifest is unchanged since the last apply");
    }
    change
}

fn update_op(desired: &DesiredResource, tags: BTreeMap<String, String>, fields: Vec<String>) -> Op {
    Op::Update {
        kind: desired.address.kind.clone(),
        name: desired.aws_name.clone(),
        attrs: desired.attrs.clone(),
        tags,
        fields,
        current_name: None,
    }
}

/// `state: absent`: delete the object if it is there.
fn plan_absent(
    behaviour: &(impl KindBehaviour + ?Sized),
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    observed: Option<&ObservedResource>,
) -> Vec<Change> {
    let Some(observed) = observed else {
        return vec![
            Change::new(
                desired.address.clone(),
                desired.aws_name.clone(),
                Action::NoOp,
            )
            .note("declared absent and not present"),
        ];
    };
    cx.claim(observed);
    if behaviour.taggable() && !observed.owned_by(cx.stack()) {
        return vec![unmanaged(desired, observed)];
    }
    if desired.prevent_destroy {
        return vec![prevent_destroy(
            &desired.address,
            &desired.aws_name,
            "it is declared `state: absent`",
        )];
    }
    vec![
        Change::new(
            desired.address.clone(),
            observed.aws_name.clone(),
            Action::Delete,
        )
        .because("it is declared `state: absent`")
        .with_op(Op::Delete {
            kind: desired.address.kind.clone(),
            name: observed.aws_name.clone(),
            empty_first: false,
        }),
    ]
}

/// The address an orphan carries in its ownership tag.
pub fn orphan_address(observed: &ObservedResource) -> Address {
    observed
        .tag(TAG_ADDRESS)
        .and_then(Address::parse)
        .unwrap_or_else(|| Address::new(observed.kind.clone(), observed.aws_name.clone()))
}

/// The deletion policy recorded on an orphan.
pub fn orphan_deletion_policy(observed: &ObservedResource) -> DeletionPolicy {
    match observed.tag(TAG_DELETION_POLICY) {
        Some("delete") => DeletionPolicy::Delete,
        _ => DeletionPolicy::Retain,
    }
}

/// The refusal for an orphan that still carries `preventDestroy`, if it does.
pub fn orphan_guard(observed: &ObservedResource) -> Option<Change> {
    (observed.tag(TAG_PREVENT_DESTROY) == Some("true")).then(|| {
        prevent_destroy(
            &orphan_address(observed),
            &observed.aws_name,
            "it is no longer declared and would be deleted",
        )
    })
}

/// Plans an owned object that is no longer declared: delete it.
pub fn plan_orphan(
    _behaviour: &(impl KindBehaviour + ?Sized),
    _cx: &PlanCx<'_>,
    observed: &ObservedResource,
) -> Vec<Change> {
    if let Some(refusal) = orphan_guard(observed) {
        return vec![refusal];
    }
    vec![
        Change::new(
            orphan_address(observed),
            observed.aws_name.clone(),
            Action::Delete,
        )
        .because("it is no longer declared")
        .with_op(Op::Delete {
            kind: observed.kind.clone(),
            name: observed.aws_name.clone(),
            empty_first: false,
        }),
    ]
}

/// Plans an owned data-holding object (bucket, log group) that is no longer
/// declared: deleted only with `deletionPolicy: delete`, otherwise kept and released.
pub fn plan_orphan_with_data(observed: &ObservedResource, data: Option<String>) -> Vec<Change> {
    if let Some(refusal) = orphan_guard(observed) {
        return vec![refusal];
    }
    let address = orphan_address(observed);
    match orphan_deletion_policy(observed) {
        DeletionPolicy::Retain => {
            let keys: Vec<String> = observed
                .tags
                .keys()
                .filter(|k| is_bedform_tag(k))
                .cloned()
                .collect();
            vec![
                Change::new(address, observed.aws_name.clone(), Action::Forget)
                    .because("it is no longer declared; `deletionPolicy: retain` keeps it in AWS, released from this stack")
                    .with_op(Op::Untag {
                        kind: observed.kind.clone(),
                        name: observed.aws_name.clone(),
                        keys,
                    }),
            ]
        }
        DeletionPolicy::Delete => {
            let mut change = Change::new(address, observed.aws_name.clone(), Action::Delete)
                .because("it is no longer declared and has `deletionPolicy: delete`")
                .with_op(Op::Delete {
                    kind: observed.kind.clone(),
                    name: observed.aws_name.clone(),
                    empty_first: data.is_some(),
                });
            if let Some(data) = data {
                change.deletes_data = true;
                change = change.warn(format!("deletes {data}"));
            }
            vec![change]
        }
    }
}

#[cfg(test)]
mod tests {
    //! The lifecycle rules on constructed desired and observed state, through a
    //! kind that uses them as they are (a log group) and one that forces
    //! replacement on a field (a role's `path`).

    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::kinds::Kind;
    use crate::model::{DesiredStack, ObservedAccount, StackInfo};

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
}
