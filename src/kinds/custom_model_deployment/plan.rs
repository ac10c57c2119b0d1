//! How the planner treats a deployment: created once its model is trained,
//! pointed at a retrained model in place, replaced (with a new ARN) only for what
//! the API cannot update, and billed per token.

use serde_json::{Value, json};

use super::*;
use crate::kinds::customization_job::{self as job, waits_on_model};
use crate::kinds::face::{ExportCx, Exported, KindBehaviour, NotExported, PlanCx};
use crate::kinds::facts::{BEDROCK_TAGS, Inference, KindFacts, StatusClass};
use crate::kinds::lifecycle;
use crate::model::plan::{Action, Change};
use crate::model::{DesiredResource, ObservedResource};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // With the throughputs: it serves a model, so it goes before the model.
    teardown_rank: 0,
    singleton: false,
    // `custom-model-deployment/ID`: AWS chooses the id.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    status_class: deployment_status_class,
    // Creating -> Active, and a model swap runs until its update completes.
    converges: true,
    // A renamed deployment serves until its successor is Active.
    replacement_waits_until_ready: true,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: Some(Inference {
        ready_status: ACTIVE,
    }),
    made_by: None,
    tags: Some(BEDROCK_TAGS),
};

/// `CustomModelDeploymentStatus`, or the update's status while a swap runs.
fn deployment_status_class(status: &str) -> StatusClass {
    match status {
        CREATING | UPDATING => StatusClass::Transitional,
        ACTIVE => StatusClass::Ready,
        FAILED | UPDATE_FAILED => StatusClass::Failed,
        _ => StatusClass::Undocumented,
    }
}

const BILLING: &str = "billed per token of each request (on-demand inference), with no hourly charge and no commitment";

/// What the deployment's tokens cost, as the price tables know it: custom models
/// of its base model on demand, or why that is unknown.
fn token_prices(cx: &PlanCx<'_>, desired: &DesiredResource) -> String {
    let model = desired.attr_str("model").unwrap_or_default();
    let region = &cx.observed.region;
    let prices = &cx.options.prices;
    let Some(base) = crate::kinds::provisioned_throughput::plan::base_model_of(cx, model) else {
        return "its price per token is unknown: the custom model's base model is not known yet"
            .into();
    };
    if let Some(od) = prices.on_demand(&base, region, true) {
        return format!(
            "on demand, custom models of `{base}` cost ${} per 1,000 input tokens and ${} per 1,000 output tokens ({})",
            od.usd_per_1k_input, od.usd_per_1k_output, od.source
        );
    }
    let mut said = format!(
        "its price per token is unknown: no price table gives an on-demand price for custom models of `{base}` in {region}; give one with --prices FILE"
    );
    if let Some(od) = prices.on_demand(&base, region, false) {
        said.push_str(&format!(
            " (`{base}` itself costs ${} per 1,000 input tokens and ${} per 1,000 output tokens on demand, {})",
            od.usd_per_1k_input, od.usd_per_1k_output, od.source
        ));
    }
    if let Some(note) = prices.note() {
        said.push_str(&format!("; {note}"));
    }
    said
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::CustomModelDeployment
    }
    fn name_member(&self) -> &'static str {
        "deploymentName"
    }
    fn takes_client_request_token(&self) -> bool {
        true
    }
    fn forces_replacement(&self, field: &str) -> bool {
        field == "description"
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed.status.as_deref() != Some(FAILED)
    }

    fn export_needs(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        job::trainers_of(cx, observed)
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        out.set("deploymentName", json!(observed.aws_name));
        out.set("model", job::export_served_model(cx, observed)?);
        if let Some(description) = observed.attrs.get("description").filter(|d| !d.is_null()) {
            out.set("description", description.clone());
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let mut changes = lifecycle::plan_declared(self, cx, desired);
        let wait = waits_on_model(cx, desired);
        for change in changes.iter_mut().filter(|c| c.address == desired.address) {
            match change.action {
                Action::Create => {
                    change.warnings.push(format!(
                        "a new on-demand deployment of `{}`: {BILLING}",
                        desired.attr_str("model").unwrap_or_default()
                    ));
                    change.notes.push(token_prices(cx, desired));
                    if let Some(wait) = &wait {
                        change.notes.push(format!(
                            "created once {} completes ({})",
                            wait.address, wait.reason
                        ));
                        change.waits_on = Some(wait.clone());
                    }
                }
                Action::Replace => {
                    change.warnings.push(format!(
                        "the replacement gets a new ARN: callers that invoke `{}` by its ARN must be pointed at the new one",
                        change.aws_name
                    ));
                    if !change.create_before_destroy {
                        change.warnings.push(
                            "the old deployment is deleted before the new one is created (the name is taken until then): requests fail until the new one is Active".into(),
                        );
                    }
                    if let Some(wait) = &wait {
                        change.waits_on = Some(wait.clone());
                    }
                }
                Action::Update if change.fields.iter().any(|f| f.path == "model") => {
                    if let Some(wait) = &wait {
                        // Retrain-then-swap: serve the old model until the new one
                        // is trained, then point the deployment at it.
                        change.action = Action::Wait;
                        change.drift = false;
                        change.reason = Some(format!(
                            "the model swap waits for {}: {}",
                            wait.address, wait.reason
                        ));
                        change.notes.push("the deployment keeps serving the current model until then; apply --wait points it at the new model in place once it is trained (a later apply does, without --wait), with the same ARN".into());
                        change.waits_on = Some(wait.clone());
                    } else {
                        change.notes.push(
                            "UpdateCustomModelDeployment swaps the model in place: the deployment keeps its ARN and serves the current model until the update completes".into(),
                        );
                    }
                }
                _ => {}
            }
        }
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        let mut changes = lifecycle::plan_orphan(self, cx, observed);
        for change in changes.iter_mut().filter(|c| c.action == Action::Delete) {
            change
                .warnings
                .push("stops serving: requests to this deployment fail after the delete".into());
        }
        changes
    }
}

/// The model an observed deployment serves, as an attribute string.
pub fn served_model(observed: &ObservedResource) -> &str {
    observed
        .attrs
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
}
