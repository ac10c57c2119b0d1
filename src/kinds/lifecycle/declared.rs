//! A declared resource planned against the account: created, left alone,
//! updated in place, replaced, or made absent.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::kinds::face::{KindBehaviour, PlanCx};
use crate::model::plan::{Action, Change, FieldDiff, Op};
use crate::model::{
    Address, DeletionPolicy, DesiredResource, ObservedResource, TAG_ADDRESS, TAG_PREVENT_DESTROY,
    TAG_SPEC_HASH, TAG_STACK,
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
    let mut keys: Vec<&String> = desired
        .keys()
        .chain(observed.keys())
        .filter(|k| !behaviour.not_held().contains(&k.as_str()))
        .collect();
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

/// The create of a declared resource, with the deterministic client request token
/// where its kind's create takes one.
fn declared_create(
    behaviour: &(impl KindBehaviour + ?Sized),
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
) -> Op {
    let token = behaviour
        .takes_client_request_token()
        .then(|| request_token(cx, desired));
    create_op(cx, desired, token)
}

/// The deterministic `clientRequestToken` of creating `desired` under its name.
pub fn request_token(cx: &PlanCx<'_>, desired: &DesiredResource) -> String {
    crate::hash::client_request_token(
        cx.stack(),
        &desired.address.to_string(),
        &desired.aws_name,
        &desired.spec_hash,
    )
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
pub fn unmanaged(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    observed: &ObservedResource,
) -> Change {
    let reason = match observed.tag(TAG_STACK) {
        Some(other) => format!(
            "{} `{}` exists and belongs to stack `{other}`; bedform will not touch it",
            desired.address.kind, observed.aws_name
        ),
        None => format!(
            "{} `{}` exists but was not created by this stack; adopt it with `{}`",
            desired.address.kind,
            observed.aws_name,
            cx.options
                .invocation
                .import(&desired.address.to_string(), &observed.aws_name)
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
            return vec![unmanaged(cx, desired, observed)];
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
        .with_op(declared_create(behaviour, cx, desired))
        .with_op(Op::Delete {
            kind: kind.to_string(),
            name: old.aws_name.clone(),
            empty_first: false,
        });
        change.create_before_destroy = true;
        // The field as the manifest names it (`roleName`).
        let mut fields = vec![FieldDiff {
            path: behaviour.name_member().into(),
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
        .with_op(declared_create(behaviour, cx, desired)),
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
            .with_op(declared_create(behaviour, cx, desired));
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
        return vec![unmanaged(cx, desired, observed)];
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
