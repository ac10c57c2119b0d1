//! The custom models a customization job trains: the one its declared spec
//! trains, the superseded ones an earlier spec trained (deleted once nothing
//! serves them, or kept), and the CustomModel kind that plans them.

use super::*;
use crate::kinds::face::KindBehaviour;
use crate::kinds::face::PlanCx;
use crate::kinds::lifecycle;
use crate::model::plan::{Action, Change, FieldDiff, Op, WaitOn};
use crate::model::{Address, DesiredResource, ObservedResource, TAG_ADDRESS};
use serde_json::Value;

/// What an object serving `desired`'s `model` must wait for: a custom model that
/// is still to be trained (by the job `desired` depends on).
pub fn waits_on_model(cx: &PlanCx<'_>, desired: &DesiredResource) -> Option<WaitOn> {
    waits_on_custom_model(cx, desired, "model")
}

/// What a job customizing `desired`'s `baseModel` must wait for: a custom model
/// of the stack still being created.
pub fn waits_on_base_model(cx: &PlanCx<'_>, desired: &DesiredResource) -> Option<WaitOn> {
    waits_on_custom_model(cx, desired, "baseModel")
}

fn waits_on_custom_model(cx: &PlanCx<'_>, desired: &DesiredResource, attr: &str) -> Option<WaitOn> {
    let model = desired.attr_str(attr)?;
    let name = crate::models::custom_model_name(model)?;
    if custom_model_ready(cx, name) {
        return None;
    }
    // A custom model the stack brings in from outside: created by its own create.
    if let Some(address) = desired
        .depends_on
        .iter()
        .find(|a| a.kind == super::CUSTOM_MODEL)
    {
        return Some(WaitOn {
            address: address.clone(),
            kind: super::CUSTOM_MODEL.into(),
            name: name.to_string(),
            job: None,
            reason: format!("custom model `{name}` is still being created"),
        });
    }
    let job = desired
        .depends_on
        .iter()
        .find(|a| a.kind == super::KIND)
        .cloned()?;
    let job_name = cx.desired.get(&job).map(|j| j.aws_name.clone());
    Some(WaitOn {
        job: job_name,
        address: job,
        kind: super::CUSTOM_MODEL.into(),
        name: name.to_string(),
        reason: format!("custom model `{name}` is still to be trained"),
    })
}

/// A custom model can be served once it exists and, if a job of this account
/// trains it, that job has completed (a model may be listed while still training).
pub fn custom_model_ready(cx: &PlanCx<'_>, name: &str) -> bool {
    use super as job;
    match cx.find(job::CUSTOM_MODEL, name) {
        None => return false,
        // AWS lists a model as Creating while its job trains.
        Some(model) if matches!(model.status.as_deref(), Some("Creating" | "Failed")) => {
            return false;
        }
        Some(_) => {}
    }
    let mut producers = cx
        .observed
        .of_kind(job::KIND)
        .filter(|j| j.attrs.get("customModelName").and_then(Value::as_str) == Some(name))
        .peekable();
    producers.peek().is_none() || producers.any(|j| j.status.as_deref() == Some(job::COMPLETED))
}

/// The jobs an exported document of `observed` (a throughput, a deployment) needs:
/// those that train the custom model it serves.
pub fn trainers_of(
    cx: &crate::kinds::face::ExportCx<'_>,
    observed: &ObservedResource,
) -> Vec<(String, String)> {
    let model = observed
        .attrs
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(name) = crate::models::custom_model_name(model) else {
        return Vec::new();
    };
    cx.observed
        .of_kind(KIND)
        .filter(|j| j.attrs.get("customModelName").and_then(Value::as_str) == Some(name))
        .map(|j| (j.kind.clone(), j.aws_name.clone()))
        .collect()
}

/// The `model` of an exported document of `observed`: the model id or ARN, or a
/// reference to the job that trains its custom model (a manifest names a custom
/// model of its own only through its job).
pub fn export_served_model(
    cx: &crate::kinds::face::ExportCx<'_>,
    observed: &ObservedResource,
) -> Result<Value, crate::kinds::face::NotExported> {
    let model = observed
        .attrs
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match crate::models::custom_model_name(model) {
        Some(name) => cx
            .observed
            .of_kind(KIND)
            .filter(|j| j.attrs.get("customModelName").and_then(Value::as_str) == Some(name))
            .find_map(|j| cx.reference(&j.kind, &j.aws_name))
            .ok_or_else(|| crate::kinds::face::NotExported::UntrainedModel {
                model: name.to_string(),
            }),
        None => Ok(Value::String(model.to_string())),
    }
}

/// The custom model the declared spec trains.
pub(super) struct NewModel<'a> {
    pub(super) name: &'a str,
    /// Trained and there.
    pub(super) ready: bool,
    /// A job trains it, or this plan starts one.
    pub(super) coming: bool,
    /// The job that trains it, once one is started or planned.
    pub(super) trainer: Option<String>,
}

/// A model trained by an earlier spec of `desired`: deleted once the new model is
/// ready and nothing serves the old one any more, the throughputs this plan swaps
/// to the new model first; kept with `supersededModel: keep` or `preventDestroy`,
/// and while anything else serves it. The plan says which, before training starts.
pub(super) fn plan_old_model(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    old: &ObservedResource,
    new: &NewModel<'_>,
) -> Vec<Change> {
    let address = lifecycle::orphan_address(old);
    let kept = |why: String| {
        vec![Change::new(address.clone(), old.aws_name.clone(), Action::NoOp).note(why)]
    };
    let new_model = new.name;
    // bedform supersedes the model on its own; `preventDestroy` keeps it, without
    // blocking the plan as a refusal would.
    if desired.prevent_destroy || old.tag(crate::model::TAG_PREVENT_DESTROY) == Some("true") {
        return kept(format!(
            "previous custom model `{}` is kept: its job has `preventDestroy: true`; delete it by hand when it is no longer needed",
            old.aws_name
        ));
    }
    if desired.keeps_superseded {
        return kept(format!(
            "previous custom model `{}` is kept after `{new_model}` is trained (`supersededModel: keep`)",
            old.aws_name
        ));
    }
    if !new.ready && !new.coming {
        return kept(format!(
            "previous custom model `{}` is kept: no job is training `{new_model}`",
            old.aws_name
        ));
    }
    let (swapped, still_served) = servers_of(cx, old);
    if let Some(server) = still_served {
        return kept(format!(
            "previous custom model `{}` is kept while {server} serves it",
            old.aws_name
        ));
    }
    let mut change = if new.ready {
        delete_model(
            address.clone(),
            old,
            format!("superseded by `{new_model}`, which is trained"),
        )
    } else {
        let mut change = delete_model(
            address.clone(),
            old,
            format!(
                "superseded by `{new_model}`, once it is trained (`supersededModel: delete`, the default)"
            ),
        );
        change.waits_on = Some(WaitOn {
            address: desired.address.clone(),
            kind: CUSTOM_MODEL.into(),
            name: new_model.to_string(),
            job: new.trainer.clone(),
            reason: format!("custom model `{new_model}` is still to be trained"),
        });
        change
    };
    if !swapped.is_empty() {
        let names: Vec<String> = swapped.iter().map(ToString::to_string).collect();
        change.notes.push(format!(
            "waits for {} to be pointed at `{new_model}` first",
            names.join(", ")
        ));
    }
    change.depends_on = swapped.into_iter().collect();
    vec![change]
}

/// The objects of this stack that serve `old` now (throughputs, deployments) and that this plan points at
/// another model, and the first of any others that serve it and will go on doing so.
fn servers_of(cx: &PlanCx<'_>, old: &ObservedResource) -> (Vec<Address>, Option<String>) {
    let identity = crate::models::custom_model_identity(&old.aws_name);
    let mut swapped = Vec::new();
    let serving = cx.observed.resources.iter().filter(|r| {
        crate::model::Kind::parse(&r.kind).is_some_and(|k| k.facts().inference.is_some())
    });
    for t in serving {
        if t.attrs.get("model").and_then(Value::as_str) != Some(identity.as_str()) {
            continue;
        }
        let moved = t
            .owned_by(cx.stack())
            .then(|| t.tag(TAG_ADDRESS).and_then(Address::parse))
            .flatten()
            .filter(|a| {
                cx.desired
                    .get(a)
                    .is_some_and(|d| !d.absent && d.attr_str("model") != Some(identity.as_str()))
            });
        match moved {
            Some(address) => swapped.push(address),
            None => {
                return (swapped, Some(format!("{} `{}`", t.kind, t.aws_name)));
            }
        }
    }
    (swapped, None)
}

fn delete_model(address: Address, model: &ObservedResource, reason: String) -> Change {
    let mut change = Change::new(address, model.aws_name.clone(), Action::Delete)
        .because(reason)
        .with_op(Op::Delete {
            kind: CUSTOM_MODEL.into(),
            name: model.aws_name.clone(),
            empty_first: false,
        })
        .warn(format!(
            "deletes trained custom model `{}`; training it again costs a new job",
            model.aws_name
        ));
    change.deletes_data = true;
    change.fields.push(FieldDiff {
        path: "customModel".into(),
        before: Some(Value::String(model.aws_name.clone())),
        after: None,
        forces_replacement: false,
        sensitive: false,
    });
    change
}

/// Custom models whose job is no longer declared.
pub struct CustomModelBehaviour;
pub static CUSTOM_MODEL_BEHAVIOUR: CustomModelBehaviour = CustomModelBehaviour;

/// What the engine needs to know of the kind.
pub const CUSTOM_MODEL_FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // After the throughput that serves it and the job that made it.
    teardown_rank: 2,
    singleton: false,
    // Its name is known before apply, its ARN is not.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    // `ModelStatus`: one brought in from outside is Creating until it is Active;
    // one a job trains is followed through its job.
    status_class: custom_model_status_class,
    // One brought in from outside is created after AWS accepted it.
    converges: true,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: Some(
        "a custom model is exported with the customization job that trains it; for one brought in from outside, AWS does not return the source its document needs",
    ),
    stages: &[],
    inference: None,
    made_by: Some(crate::model::Kind::CustomizationJob),
    tags: Some(crate::kinds::facts::BEDROCK_TAGS),
};

/// `ModelStatus`; a model listed without one (older models) is there.
fn custom_model_status_class(status: &str) -> crate::kinds::facts::StatusClass {
    use crate::kinds::facts::StatusClass;
    match status {
        "Creating" => StatusClass::Transitional,
        "Active" | "" => StatusClass::Ready,
        "Failed" => StatusClass::Failed,
        _ => StatusClass::Undocumented,
    }
}

/// How a custom model brought in from outside is made once.
fn declared_model(desired: &DesiredResource) -> crate::kinds::lifecycle::create_once::CreateOnce {
    let source = desired
        .attr_str("sourceS3Uri")
        .or_else(|| desired.attr_str("modelPackageArn"))
        .unwrap_or_default();
    crate::kinds::lifecycle::create_once::CreateOnce {
        ready_status: "Active",
        failed_status: "Failed",
        what: "custom model",
        created_warning: format!(
            "a new custom model from `{source}`: a custom model is billed for its storage each month, and serves requests only through a deployment or a throughput (see the Amazon Bedrock pricing page)"
        ),
        used_while_made: &["roleArn"],
    }
}

impl KindBehaviour for CustomModelBehaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::CustomModel
    }
    fn name_member(&self) -> &'static str {
        "modelName"
    }
    fn name_field(&self) -> String {
        "`modelName` (a prefix the source hash follows)".into()
    }
    fn takes_client_request_token(&self) -> bool {
        true
    }
    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        crate::kinds::lifecycle::create_once::plan(cx, desired, &declared_model(desired))
    }
    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        if let Some(refusal) = lifecycle::orphan_guard(observed) {
            return vec![refusal];
        }
        let address = lifecycle::orphan_address(observed);
        // Brought in from outside and no longer declared.
        if address.kind == CUSTOM_MODEL {
            return crate::kinds::lifecycle::create_once::plan_orphan(observed, cx, "custom model");
        }
        let declared = observed
            .tag(TAG_ADDRESS)
            .and_then(Address::parse)
            .is_some_and(|a| cx.desired.get(&a).is_some());
        if declared {
            return Vec::new();
        }
        vec![delete_model(
            address,
            observed,
            "its CustomizationJob is no longer declared".into(),
        )]
    }
}
