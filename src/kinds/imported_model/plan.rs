//! How the planner treats an import: started once under a name that carries the
//! source's hash, followed until it completes, and its previous generation
//! deleted once the new one is imported and nothing of the stack serves it.

use serde_json::{Value, json};

use super::*;
use crate::kinds::face::{ExportCx, Exported, KindBehaviour, NotExported, PlanCx};
use crate::kinds::facts::{BEDROCK_TAGS, Inference, KindFacts, StatusClass};
use crate::kinds::lifecycle;
use crate::model::plan::{Action, Change, Op};
use crate::model::{Address, DesiredResource, ObservedResource};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // With the jobs: after what serves models, before roles and buckets.
    teardown_rank: 1,
    singleton: false,
    // `imported-model/ID`: AWS chooses the id.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    status_class: import_status_class,
    // The import job runs after AWS accepted it.
    converges: true,
    replacement_waits_until_ready: false,
    // A failed import is not sent again on its own.
    retried_only_when_asked: true,
    not_exported_because: None,
    stages: &[],
    inference: Some(Inference {
        ready_status: COMPLETED,
    }),
    made_by: None,
    tags: Some(BEDROCK_TAGS),
};

/// `ModelImportJobStatus`.
fn import_status_class(status: &str) -> StatusClass {
    match status {
        IN_PROGRESS => StatusClass::Transitional,
        COMPLETED => StatusClass::Ready,
        FAILED => StatusClass::Failed,
        _ => StatusClass::Undocumented,
    }
}

const BILLING: &str = "an imported model is billed for its storage each month and, while it serves requests, for the model copies that run it (see the Amazon Bedrock pricing page)";

fn create_op(cx: &PlanCx<'_>, desired: &DesiredResource) -> Op {
    Op::Create {
        kind: KIND.into(),
        name: desired.aws_name.clone(),
        attrs: desired.attrs.clone(),
        tags: desired.tags_with_ownership(cx.stack()),
        client_request_token: Some(crate::hash::client_request_token(
            cx.stack(),
            &desired.address.to_string(),
            &desired.aws_name,
            &desired.spec_hash,
        )),
    }
}

/// The objects of the stack that serve the model `observed` (by its ARN).
fn served_by(cx: &PlanCx<'_>, observed: &ObservedResource) -> Option<String> {
    let arn = observed.arn.as_deref()?;
    cx.observed
        .resources
        .iter()
        .filter(|r| {
            crate::model::Kind::parse(&r.kind).is_some_and(|k| k.facts().inference.is_some())
        })
        .find(|r| r.attrs.get("model").and_then(Value::as_str) == Some(arn))
        .map(|r| format!("{} `{}`", r.kind, r.aws_name))
}

/// A previous import of `desired` (another source): deleted once the declared one
/// is imported and nothing serves it.
fn plan_previous(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    old: &ObservedResource,
    new_ready: bool,
) -> Change {
    let address = desired.address.clone();
    let kept =
        |why: String| Change::new(address.clone(), old.aws_name.clone(), Action::NoOp).note(why);
    if desired.prevent_destroy || old.tag(crate::model::TAG_PREVENT_DESTROY) == Some("true") {
        return kept(format!(
            "previous import `{}` is kept: `preventDestroy: true`; delete it by hand when nothing invokes it",
            old.aws_name
        ));
    }
    if !new_ready {
        return kept(format!(
            "previous import `{}` is kept until `{}` is imported; the apply after that deletes it",
            old.aws_name, desired.aws_name
        ));
    }
    if let Some(server) = served_by(cx, old) {
        return kept(format!(
            "previous import `{}` is kept: {server} still serves it",
            old.aws_name
        ));
    }
    Change::new(address, old.aws_name.clone(), Action::Delete)
        .because(format!(
            "superseded by `{}`, which is imported, and nothing of the stack uses it",
            desired.aws_name
        ))
        .with_status(old)
        .warn(format!(
            "deletes imported model `{}`: callers that invoke its ARN must use `{}`'s",
            old.aws_name, desired.aws_name
        ))
        .with_op(Op::Delete {
            kind: KIND.into(),
            name: old.aws_name.clone(),
            empty_first: false,
        })
}

/// The fields used only while importing, changed since: they change nothing.
fn import_only_changes(
    desired: &DesiredResource,
    observed: &ObservedResource,
) -> Vec<&'static str> {
    ["roleArn", "vpcConfig"]
        .into_iter()
        .filter(|f| {
            observed.attrs.contains_key(*f)
                && desired.attrs.get(*f).unwrap_or(&Value::Null)
                    != observed.attrs.get(*f).unwrap_or(&Value::Null)
        })
        .collect()
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::ImportedModel
    }
    fn name_member(&self) -> &'static str {
        "importedModelName"
    }
    fn name_field(&self) -> String {
        "`importedModelName` (a prefix the source hash follows)".into()
    }
    fn takes_client_request_token(&self) -> bool {
        true
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed.status.as_deref() == Some(COMPLETED)
    }

    fn export(
        &self,
        _cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let hash = import_hash(&observed.attrs);
        let Some(prefix) = observed
            .aws_name
            .strip_suffix(&hash)
            .and_then(|p| p.strip_suffix('-'))
        else {
            return Err(NotExported::Undeclarable(
                "its name does not end in the hash of its source, which bedform gives every import; a document of it would import the model again",
            ));
        };
        let source = observed
            .attrs
            .get("sourceS3Uri")
            .and_then(Value::as_str)
            .ok_or(NotExported::Missing("source"))?;
        let role = observed
            .attrs
            .get("roleArn")
            .and_then(Value::as_str)
            .ok_or(NotExported::Missing("role"))?;
        let mut out = Exported::default();
        out.set("importedModelName", json!(prefix));
        out.set("source", json!({"s3Uri": source}));
        out.set("role", json!(role));
        if let Some(key) = observed.attrs.get("kmsKeyId").filter(|k| !k.is_null()) {
            out.set("kmsKeyId", key.clone());
        }
        if let Some(vpc) = observed.attrs.get("vpcConfig").filter(|v| !v.is_null()) {
            out.set("vpcConfig", vpc.clone());
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let address: &Address = &desired.address;
        let found = cx.find(KIND, &desired.aws_name);
        if let Some(o) = found
            && !o.owned_by(cx.stack())
        {
            cx.claim(o);
            return vec![lifecycle::unmanaged(cx, desired, o)];
        }
        let new_ready = found.is_some_and(|o| o.status.as_deref() == Some(COMPLETED));
        let mut changes = Vec::new();
        for old in cx.owned_for(KIND, address) {
            if old.aws_name != desired.aws_name {
                cx.claim(old);
                changes.push(plan_previous(cx, desired, old, new_ready));
            }
        }
        let Some(observed) = found else {
            let mut change = Change::new(address.clone(), desired.aws_name.clone(), Action::Create)
                .with_fields(lifecycle::created_fields(desired))
                .with_op(create_op(cx, desired))
                .warn(format!(
                    "a new import from `{}`: {BILLING}",
                    desired.attr_str("sourceS3Uri").unwrap_or_default()
                ));
            if !changes.is_empty() {
                change = change.warn(
                    "the new import gets a new ARN: callers that invoke the previous import must be pointed at it",
                );
            }
            changes.insert(0, change);
            return changes;
        };
        cx.claim(observed);
        let mut change = match observed.status.as_deref() {
            Some(FAILED) => Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp)
                .with_status(observed)
                .note("the import failed; it is not sent again under the same name: fix the source (a changed source is a new import) and apply"),
            // Tags go on the imported model, which exists once the import completed.
            Some(COMPLETED) => {
                let tags = desired.tags_with_ownership(cx.stack());
                match lifecycle::diff_tags(&tags, &observed.tags) {
                    Some(diff) => Change::new(address.clone(), observed.aws_name.clone(), Action::Update)
                        .with_fields(vec![diff])
                        .with_op(Op::Update {
                            kind: KIND.into(),
                            name: observed.aws_name.clone(),
                            attrs: desired.attrs.clone(),
                            tags,
                            fields: vec!["tags".into()],
                            current_name: None,
                        })
                        .with_status(observed),
                    None => Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp),
                }
            }
            _ => Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp)
                .with_status(observed),
        };
        let unused = import_only_changes(desired, observed);
        if !unused.is_empty() {
            change.notes.push(format!(
                "`{}` changed, but only the import uses it, and it has run: nothing to change",
                unused.join("`, `")
            ));
        }
        changes.insert(0, change);
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        if let Some(server) = served_by(cx, observed) {
            return vec![
                Change::new(
                    lifecycle::orphan_address(observed),
                    observed.aws_name.clone(),
                    Action::NoOp,
                )
                .note(format!(
                    "no longer declared, but kept: {server} still serves it"
                )),
            ];
        }
        let mut changes = lifecycle::plan_orphan(self, cx, observed);
        for change in changes.iter_mut().filter(|c| c.action == Action::Delete) {
            change.warnings.push(format!(
                "deletes imported model `{}`: requests to its ARN fail after the delete",
                observed.aws_name
            ));
        }
        changes
    }
}
