//! Objects made once from a source and never updated but for their tags (an
//! imported model, a custom model brought in from outside): named with a hash
//! of what makes them, so a changed source is a new object under a new name; the
//! previous one is deleted once the new one is ready and nothing of the stack
//! serves it. The plan says which.

use serde_json::Value;

use super::{create_op, created_fields, diff_tags, request_token, unmanaged};
use crate::kinds::face::PlanCx;
use crate::model::plan::{Action, Change, Op};
use crate::model::{DesiredResource, Kind, ObservedResource, TAG_PREVENT_DESTROY};

/// What differs between the kinds made once.
pub struct CreateOnce {
    /// The status in which the object is there and usable (`Completed`, `Active`).
    pub ready_status: &'static str,
    pub failed_status: &'static str,
    /// How the plan names one: `import`, `custom model`.
    pub what: &'static str,
    /// The warning on a create (what it costs).
    pub created_warning: String,
    /// Attributes used only while the object is made (a role): once it is made,
    /// changing them changes nothing.
    pub used_while_made: &'static [&'static str],
}

/// The object of the stack that uses the model `observed`, if one does: a
/// throughput or a deployment serving it, or a job training from it now (each
/// naming its ARN or its custom model identity).
pub fn served_by(cx: &PlanCx<'_>, observed: &ObservedResource) -> Option<String> {
    let identity = crate::models::custom_model_identity(&observed.aws_name);
    let arn = observed.arn.as_deref();
    let names = |value: Option<&Value>| {
        let model = value.and_then(Value::as_str);
        model == Some(identity.as_str()) || (model.is_some() && model == arn)
    };
    let job = Kind::CustomizationJob.as_str();
    cx.observed
        .resources
        .iter()
        .find(|r| {
            let serves = Kind::parse(&r.kind).is_some_and(|k| k.facts().inference.is_some())
                && names(r.attrs.get("model"));
            let trains = r.kind == job
                && matches!(r.status.as_deref(), Some("InProgress" | "Stopping"))
                && names(r.attrs.get("baseModel"));
            serves || trains
        })
        .map(|r| format!("{} `{}`", r.kind, r.aws_name))
}

/// A previous generation of `desired` (another source): deleted once the
/// declared one is ready and nothing serves it.
fn plan_previous(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    old: &ObservedResource,
    new_ready: bool,
    once: &CreateOnce,
) -> Change {
    let address = desired.address.clone();
    let what = once.what;
    let kept =
        |why: String| Change::new(address.clone(), old.aws_name.clone(), Action::NoOp).note(why);
    if desired.prevent_destroy || old.tag(TAG_PREVENT_DESTROY) == Some("true") {
        return kept(format!(
            "previous {what} `{}` is kept: `preventDestroy: true`; delete it by hand when nothing uses it",
            old.aws_name
        ));
    }
    if !new_ready {
        return kept(format!(
            "previous {what} `{}` is kept until `{}` is {}; the apply after that deletes it",
            old.aws_name,
            desired.aws_name,
            once.ready_status.to_lowercase()
        ));
    }
    if let Some(server) = served_by(cx, old) {
        return kept(format!(
            "previous {what} `{}` is kept: {server} still serves it",
            old.aws_name
        ));
    }
    Change::new(address, old.aws_name.clone(), Action::Delete)
        .because(format!(
            "superseded by `{}`, which is {}, and nothing of the stack uses it",
            desired.aws_name,
            once.ready_status.to_lowercase()
        ))
        .with_status(old)
        .warn(format!(
            "deletes {what} `{}`: callers that invoke its ARN must use `{}`'s",
            old.aws_name, desired.aws_name
        ))
        .with_op(Op::Delete {
            kind: old.kind.clone(),
            name: old.aws_name.clone(),
            empty_first: false,
        })
}

/// Plans a declared object made once.
pub fn plan(cx: &PlanCx<'_>, desired: &DesiredResource, once: &CreateOnce) -> Vec<Change> {
    let kind = desired.address.kind.as_str();
    let address = &desired.address;
    let found = cx.find(kind, &desired.aws_name);
    if let Some(o) = found
        && !o.owned_by(cx.stack())
    {
        cx.claim(o);
        return vec![unmanaged(cx, desired, o)];
    }
    let new_ready = found.is_some_and(|o| o.status.as_deref() == Some(once.ready_status));
    let mut changes = Vec::new();
    for old in cx.owned_for(kind, address) {
        if old.aws_name != desired.aws_name {
            cx.claim(old);
            changes.push(plan_previous(cx, desired, old, new_ready, once));
        }
    }
    let Some(observed) = found else {
        let mut change = Change::new(address.clone(), desired.aws_name.clone(), Action::Create)
            .with_fields(created_fields(desired))
            .with_op(create_op(cx, desired, Some(request_token(cx, desired))))
            .warn(once.created_warning.clone());
        if !changes.is_empty() {
            change = change.warn(format!(
                "the new {} gets a new ARN: callers that invoke the previous one must be pointed at it",
                once.what
            ));
        }
        changes.insert(0, change);
        return changes;
    };
    cx.claim(observed);
    let status = observed.status.as_deref();
    let mut change = if status == Some(once.failed_status) {
        Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp)
            .with_status(observed)
            .note(format!(
                "the {} failed; it is not made again under the same name: fix the source (a changed source is a new {}) and apply",
                once.what, once.what
            ))
    } else if status == Some(once.ready_status) {
        // Tags can change once it is there.
        let tags = desired.tags_with_ownership(cx.stack());
        match diff_tags(&tags, &observed.tags) {
            Some(diff) => Change::new(address.clone(), observed.aws_name.clone(), Action::Update)
                .with_fields(vec![diff])
                .with_op(Op::Update {
                    kind: kind.to_string(),
                    name: observed.aws_name.clone(),
                    attrs: desired.attrs.clone(),
                    tags,
                    fields: vec!["tags".into()],
                    current_name: None,
                })
                .with_status(observed),
            None => Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp),
        }
    } else {
        Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp).with_status(observed)
    };
    let unused: Vec<&str> = once
        .used_while_made
        .iter()
        .copied()
        .filter(|f| {
            observed.attrs.contains_key(*f)
                && desired.attrs.get(*f).unwrap_or(&Value::Null)
                    != observed.attrs.get(*f).unwrap_or(&Value::Null)
        })
        .collect();
    if !unused.is_empty() {
        change.notes.push(format!(
            "`{}` changed, but only the {} used it, and it is made: nothing to change",
            unused.join("`, `"),
            once.what
        ));
    }
    changes.insert(0, change);
    changes
}

/// Plans an object made once that is no longer declared: kept while something
/// of the stack serves it, else deleted.
pub fn plan_orphan(observed: &ObservedResource, cx: &PlanCx<'_>, what: &str) -> Vec<Change> {
    if let Some(refusal) = super::orphan_guard(observed) {
        return vec![refusal];
    }
    let address = super::orphan_address(observed);
    if let Some(server) = served_by(cx, observed) {
        return vec![
            Change::new(address, observed.aws_name.clone(), Action::NoOp).note(format!(
                "no longer declared, but kept: {server} still serves it"
            )),
        ];
    }
    vec![
        Change::new(address, observed.aws_name.clone(), Action::Delete)
            .because("it is no longer declared")
            .warn(format!(
                "deletes {what} `{}`: requests to its ARN fail after the delete",
                observed.aws_name
            ))
            .with_op(Op::Delete {
                kind: observed.kind.clone(),
                name: observed.aws_name.clone(),
                empty_first: false,
            }),
    ]
}
