//! The planner: a pure function of desired and observed state. No I/O, no clock
//! (the observation time comes in with the observed state), sorted output. Each
//! kind plans its own resources (its [`crate::kinds::KindBehaviour`]); this file
//! walks the stack, hands the objects no declared resource claimed to their kinds,
//! and fingerprints what was read.

pub mod saved;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::kinds::PlanCx;
pub use crate::model::plan::*;
use crate::model::{DesiredResource, DesiredStack, ObservedAccount, ObservedResource, Scope};

/// Facts that move while nothing the plan depends on does (a job's stage and
/// percentage). Fingerprints leave them out so progress alone never makes a saved
/// plan stale; a job's `status` is kept, since a job finishing changes the plan.
const VOLATILE_FACTS: &[&str] = &["stage", "progress"];

/// Amounts of data that grow all the time (a bucket or log group receiving
/// invocation logs). The plan only asks whether there is any, so fingerprints keep
/// just that.
const DATA_FACTS: &[&str] = &["objectCount", "storedBytes"];

/// Plans the account towards the manifests.
pub fn plan(desired: &DesiredStack, observed: &ObservedAccount, options: &PlanOptions) -> Plan {
    let cx = PlanCx::new(desired, observed, options);
    let mut changes = Vec::new();
    for resource in &desired.resources {
        if let Some(behaviour) = crate::kinds::behaviour(&resource.address.kind) {
            let resolved = match with_plan_attributes(&cx, resource) {
                Ok(resolved) => resolved,
                Err(reason) => {
                    let mut change = Change::new(
                        resource.address.clone(),
                        resource.aws_name.clone(),
                        Action::Refused,
                    )
                    .because(reason);
                    change.source = Some(resource.source.clone());
                    changes.push(change);
                    continue;
                }
            };
            let resource = resolved.as_ref().unwrap_or(resource);
            for mut change in behaviour.plan(&cx, resource) {
                change
                    .depends_on
                    .extend(resource.depends_on.iter().cloned());
                change.source = Some(resource.source.clone());
                changes.push(change);
            }
        }
    }
    let stack = desired.stack.name.as_str();
    let mut orphans: Vec<&ObservedResource> = observed
        .resources
        .iter()
        .filter(|o| o.owned_by(stack) && !cx.is_claimed(o))
        .collect();
    orphans.sort_by(|a, b| (&a.kind, &a.aws_name).cmp(&(&b.kind, &b.aws_name)));
    for orphan in orphans {
        if cx.is_claimed(orphan) {
            continue;
        }
        if let Some(behaviour) = crate::kinds::behaviour(&orphan.kind) {
            changes.extend(behaviour.plan_orphan(&cx, orphan));
        }
    }
    changes.sort_by(|a, b| {
        (&a.address, &a.aws_name, a.action).cmp(&(&b.address, &b.aws_name, b.action))
    });
    let summary = Summary::of(&changes);
    Plan {
        format_version: FORMAT_VERSION.to_string(),
        bedform_version: env!("CARGO_PKG_VERSION").to_string(),
        stack: desired.stack.name.clone(),
        account_id: observed.account_id.clone(),
        region: observed.region.clone(),
        observed_fingerprints: fingerprints(observed),
        scope: scope_of(desired),
        lock: desired.stack.lock.clone(),
        changes,
        summary,
    }
}

/// `resource` with its `${NAME.attr}` placeholders for what only the account
/// tells (a guardrail's `version`) resolved as this plan leaves it, and its spec
/// hash moved with them; `None` when it has none; the reason when one cannot be
/// known.
fn with_plan_attributes(
    cx: &PlanCx<'_>,
    resource: &DesiredResource,
) -> Result<Option<DesiredResource>, String> {
    use crate::syntax::refs::{Placeholder, interpolate};
    let problem: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let resolve = |placeholder: &Placeholder| -> Option<String> {
        let Placeholder::Attr { name, attr } = placeholder else {
            return None;
        };
        if matches!(attr.as_str(), "arn" | "name") {
            return None;
        }
        let target = cx
            .desired
            .resources
            .iter()
            .find(|r| r.address.name == *name)?;
        match crate::kinds::behaviour(&target.address.kind)?.plan_attribute(cx, target, attr)? {
            Ok(value) => Some(value),
            Err(reason) => {
                problem
                    .borrow_mut()
                    .get_or_insert(format!("`${{{name}.{attr}}}`: {reason}"));
                None
            }
        }
    };
    fn walk(value: &Value, resolve: &dyn Fn(&Placeholder) -> Option<String>) -> Value {
        match value {
            Value::String(text) if text.contains("${") => Value::String(interpolate(text, resolve)),
            Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, resolve)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), walk(v, resolve)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let attrs = Value::Object(resource.attrs.clone());
    let resolved = walk(&attrs, &resolve);
    if let Some(reason) = problem.into_inner() {
        return Err(reason);
    }
    if resolved == attrs {
        return Ok(None);
    }
    let mut out = resource.clone();
    out.spec_hash = crate::hash::spec_hash(&serde_json::json!({
        "spec": resource.spec_hash,
        "resolved": resolved,
    }));
    if let Value::Object(map) = resolved {
        out.attrs = map;
    }
    Ok(Some(out))
}

/// What to read of the account for `desired`: what each declared resource's kind
/// says its plan looks at.
pub fn scope_of(desired: &DesiredStack) -> Scope {
    let mut scope = Scope {
        stack: desired.stack.name.clone(),
        role_path: desired.stack.role_path.clone(),
        ..Scope::default()
    };
    for resource in &desired.resources {
        if let Some(behaviour) = crate::kinds::behaviour(&resource.address.kind) {
            behaviour.scope(resource, &mut scope);
        }
    }
    scope
}

/// Per observed object, keyed `Kind/aws-name`, the hash of what was read (see
/// [`fingerprint`]). The observation time is not part of it.
pub fn fingerprints(observed: &ObservedAccount) -> BTreeMap<String, String> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for resource in &observed.resources {
        by_key
            .entry(fingerprint_key(&resource.kind, &resource.aws_name))
            .or_default()
            .push(fingerprint(resource));
    }
    by_key
        .into_iter()
        .map(|(key, mut hashes)| {
            // Names are unique per kind in AWS; should two objects share one, the
            // pair counts, in an order that does not depend on how they were listed.
            let hash = if hashes.len() == 1 {
                hashes.remove(0)
            } else {
                hashes.sort();
                crate::hash::digest_str(&hashes.join("\n"))
            };
            (key, hash)
        })
        .collect()
}

/// The key of an observed object in [`Plan::observed_fingerprints`].
pub fn fingerprint_key(kind: &str, aws_name: &str) -> String {
    format!("{kind}/{aws_name}")
}

/// Hash of one observed object, without its [`VOLATILE_FACTS`].
pub fn fingerprint(resource: &ObservedResource) -> String {
    // Destructured so that a new observed field must be classified to compile.
    let ObservedResource {
        kind,
        aws_name,
        arn,
        attrs,
        tags,
        status,
        status_message,
        facts,
    } = resource;
    let facts: Map<String, Value> = facts
        .iter()
        .filter(|(key, _)| !VOLATILE_FACTS.contains(&key.as_str()))
        .map(|(key, value)| {
            let value = if DATA_FACTS.contains(&key.as_str()) {
                Value::Bool(value.as_u64().unwrap_or(0) > 0)
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect();
    crate::hash::digest(&serde_json::json!({
        "kind": kind,
        "awsName": aws_name,
        "arn": arn,
        "attrs": attrs,
        "tags": tags,
        "status": status,
        "statusMessage": status_message,
        "facts": facts,
    }))
}
