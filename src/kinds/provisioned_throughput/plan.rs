//! How the planner treats provisioned throughput: purchases and their cost, in-place
//! model swaps, replacements that keep serving, and commitments that cannot end early.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::*;
use crate::kinds::face::PlanCx;
use crate::kinds::face::{ExportCx, Exported, KindBehaviour, NotExported};
use crate::kinds::lifecycle;
use crate::model::plan::{Action, Change, FieldDiff, Op, Purchase};
use crate::model::{DesiredResource, ObservedResource};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// A provisioned throughput's status (`ProvisionedModelStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThroughputStatus {
    Creating,
    InService,
    Updating,
    Failed,
}

impl ThroughputStatus {
    /// The status AWS wrote, if it is one the API documents.
    pub fn parse(status: &str) -> Option<ThroughputStatus> {
        [
            (CREATING, ThroughputStatus::Creating),
            (IN_SERVICE, ThroughputStatus::InService),
            (UPDATING, ThroughputStatus::Updating),
            (FAILED, ThroughputStatus::Failed),
        ]
        .into_iter()
        .find_map(|(name, parsed)| (name == status).then_some(parsed))
    }
}

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // First: it serves a model, and billing stops with it.
    teardown_rank: 0,
    singleton: false,
    arn_known_before_apply: true,
    permission_fields: &[],
    sensitive_members: &[],
    status_class: throughput_status_class,
    // Created in minutes; serves until its successor is in service.
    converges: true,
    replacement_waits_until_ready: true,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: Some(crate::kinds::facts::Inference {
        ready_status: super::IN_SERVICE,
    }),
    made_by: None,
    tags: Some(crate::kinds::facts::BEDROCK_TAGS),
};

fn throughput_status_class(status: &str) -> crate::kinds::facts::StatusClass {
    use crate::kinds::facts::StatusClass;
    match ThroughputStatus::parse(status) {
        Some(ThroughputStatus::Creating | ThroughputStatus::Updating) => StatusClass::Transitional,
        Some(ThroughputStatus::Failed) => StatusClass::Failed,
        Some(ThroughputStatus::InService) => StatusClass::Ready,
        None => StatusClass::Undocumented,
    }
}

/// When the observed throughput's commitment ends, if it is still running.
fn commitment_until(cx: &PlanCx<'_>, observed: &ObservedResource) -> Option<String> {
    let expiry = observed.fact_str("commitmentExpirationTime")?;
    let now = OffsetDateTime::parse(cx.now(), &Rfc3339).ok()?;
    let end = OffsetDateTime::parse(expiry, &Rfc3339).ok()?;
    (end > now).then(|| expiry.to_string())
}

fn purchase(desired: &DesiredResource) -> Option<Purchase> {
    let commitment = desired.attr_str("commitment").unwrap_or("none");
    (commitment != "none").then(|| Purchase {
        commitment: commitment.to_string(),
        model_units: desired
            .attrs
            .get("modelUnits")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        model: desired.attr_str("model").unwrap_or_default().to_string(),
    })
}

/// What creating the declared throughput costs, priced as its foundation model or,
/// for a custom model, as the custom model's base model.
fn cost(cx: &PlanCx<'_>, desired: &DesiredResource) -> crate::pricing::Cost {
    cost_of_attrs(cx, &desired.attrs)
}

/// The cost of a throughput with these attributes (declared or observed).
fn cost_of_attrs(cx: &PlanCx<'_>, attrs: &Map<String, Value>) -> crate::pricing::Cost {
    let model = attrs
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let custom =
        crate::models::custom_model_name(model).is_some() || model.contains(":custom-model/");
    let priced = match crate::models::custom_model_name(model) {
        Some(_) => base_model_of(cx, model),
        None if custom => None,
        None => Some(model.to_string()),
    };
    crate::pricing::Cost::of(
        &cx.options.prices,
        priced.as_deref(),
        custom,
        attrs.get("modelUnits").and_then(Value::as_u64).unwrap_or(0),
        attrs
            .get("commitment")
            .and_then(Value::as_str)
            .unwrap_or("none"),
        &cx.observed.region,
    )
}

fn create_op(cx: &PlanCx<'_>, desired: &DesiredResource, name: &str) -> Op {
    Op::Create {
        kind: KIND.into(),
        name: name.to_string(),
        attrs: desired.attrs.clone(),
        tags: desired.tags_with_ownership(cx.stack()),
        client_request_token: Some(crate::hash::client_request_token(
            cx.stack(),
            &desired.address.to_string(),
            name,
            &desired.spec_hash,
        )),
    }
}

pub(crate) fn base_model_of(cx: &PlanCx<'_>, model: &str) -> Option<String> {
    let name = crate::models::custom_model_name(model)?;
    if let Some(observed) = cx.find(crate::kinds::customization_job::CUSTOM_MODEL, name) {
        return observed.fact_str("baseModel").map(str::to_string);
    }
    cx.declared(crate::kinds::customization_job::KIND)
        .find(|j| j.attr_str("customModelName") == Some(name))
        .and_then(|j| j.attr_str("baseModel").map(str::to_string))
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::ProvisionedThroughput
    }
    fn name_member(&self) -> &'static str {
        "provisionedModelName"
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed.status.as_deref() != Some(FAILED)
    }

    fn export_needs(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        crate::kinds::customization_job::trainers_of(cx, observed)
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        out.set("provisionedModelName", json!(observed.aws_name));
        let model = crate::kinds::customization_job::export_served_model(cx, observed)?;
        out.set("model", model);
        out.set(
            "modelUnits",
            observed
                .attrs
                .get("modelUnits")
                .cloned()
                .unwrap_or(Value::Null),
        );
        if let Some(term) = observed
            .attrs
            .get("commitment")
            .and_then(Value::as_str)
            .filter(|c| *c != "none")
        {
            out.set("commitment", json!(term));
        }
        out.tags_of(observed);
        Ok(out)
    }
    fn forces_replacement(&self, field: &str) -> bool {
        matches!(field, "modelUnits" | "commitment")
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let address = &desired.address;
        let hashed_name = format!("{}-{}", desired.aws_name, &desired.spec_hash[..8]);
        let by_name = cx.find(KIND, &desired.aws_name).or_else(|| {
            cx.find(KIND, &hashed_name)
                .filter(|o| o.owned_by(cx.stack()))
        });
        if let Some(o) = by_name
            && !o.owned_by(cx.stack())
        {
            cx.claim(o);
            return vec![lifecycle::unmanaged(cx, desired, o)];
        }
        let observed = by_name.or_else(|| cx.owned_for(KIND, address).into_iter().next());
        let wait = crate::kinds::customization_job::waits_on_model(cx, desired);
        let Some(observed) = observed else {
            let mut change = Change::new(address.clone(), desired.aws_name.clone(), Action::Create)
                .with_fields(lifecycle::created_fields(desired))
                .with_op(create_op(cx, desired, &desired.aws_name));
            change.purchase = purchase(desired);
            change.cost = Some(cost(cx, desired));
            if let Some(wait) = wait {
                change.notes.push(format!(
                    "created once {} completes ({})",
                    wait.address, wait.reason
                ));
                change.waits_on = Some(wait);
            }
            return vec![change];
        };
        cx.claim(observed);
        let mut fields = lifecycle::diff_attrs(self, &desired.attrs, &observed.attrs);
        // Under its hashed name only while the declared name was taken: found so
        // (a replacement cut off before it took the name back), it takes it now.
        let renamed = observed.aws_name != desired.aws_name;
        if renamed {
            fields.insert(
                0,
                FieldDiff {
                    path: "provisionedModelName".into(),
                    before: Some(json!(observed.aws_name)),
                    after: Some(json!(desired.aws_name)),
                    forces_replacement: false,
                    sensitive: false,
                },
            );
        }
        let tags = desired.tags_with_ownership(cx.stack());
        fields.extend(lifecycle::diff_tags(&tags, &observed.tags));
        if fields.is_empty() {
            return vec![
                Change::new(address.clone(), observed.aws_name.clone(), Action::NoOp)
                    .with_status(observed),
            ];
        }
        let drift = observed.tag(crate::model::TAG_SPEC_HASH) == Some(desired.spec_hash.as_str());
        let model_diff = fields.iter_mut().find(|f| f.path == "model");
        // Why a model change cannot be made in place, in the API's terms.
        let mut model_cause: Option<String> = None;
        // A model change is in place only between custom models of one base model.
        if let Some(diff) = model_diff {
            let before = diff
                .before
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let after = diff
                .after
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let both_custom = crate::models::custom_model_name(&before).is_some()
                && crate::models::custom_model_name(&after).is_some();
            let same_base = match (base_model_of(cx, &before), base_model_of(cx, &after)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            diff.forces_replacement = !(both_custom && same_base);
            if diff.forces_replacement {
                let base = |m: &str| base_model_of(cx, m).unwrap_or_else(|| "?".into());
                model_cause = Some(if both_custom {
                    format!(
                        "the new model `{after}` is trained from another base model ({} -> {}), and UpdateProvisionedModelThroughput swaps a custom model only for one of the same base model",
                        base(&before),
                        base(&after)
                    )
                } else {
                    format!(
                        "`model` changes from `{before}` to `{after}`, and UpdateProvisionedModelThroughput swaps only between custom models of one base model"
                    )
                });
            }
        }
        let forced: Vec<String> = fields
            .iter()
            .filter(|f| f.forces_replacement)
            .map(|f| f.path.clone())
            .collect();
        if !forced.is_empty() {
            // The cause in words: the model's, else the fields AWS cannot update.
            let cause = model_cause.unwrap_or_else(|| {
                format!(
                    "`{}` cannot be updated on a provisioned throughput",
                    forced.join("`, `")
                )
            });
            return vec![replace(
                cx,
                desired,
                observed,
                fields,
                &forced,
                &cause,
                &hashed_name,
            )];
        }
        let changed: Vec<String> = fields.iter().map(|f| f.path.clone()).collect();
        let update = Op::Update {
            kind: KIND.into(),
            name: desired.aws_name.clone(),
            attrs: desired.attrs.clone(),
            tags,
            fields: changed,
            current_name: (observed.aws_name != desired.aws_name)
                .then(|| observed.aws_name.clone()),
        };
        if let Some(wait) = wait {
            // Retrain-then-swap: serve the old model until the new one is trained,
            // then send the swap the plan shows (the model is named, not its ARN,
            // which AWS gives it only once trained).
            let mut change = Change::new(address.clone(), observed.aws_name.clone(), Action::Wait)
                .with_fields(fields)
                .because(format!("the model swap waits for {}: {}", wait.address, wait.reason))
                .with_op(update)
                .note("the throughput keeps serving the current model until then; apply --wait points it at the new model in place once it is trained (a later apply does, without --wait), with no new purchase");
            change.waits_on = Some(wait);
            return vec![change];
        }
        let mut change = Change::new(address.clone(), desired.aws_name.clone(), Action::Update)
            .with_fields(fields)
            .with_op(update)
            .with_status(observed);
        change.drift = drift;
        vec![change]
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        if let Some(refusal) = lifecycle::orphan_guard(observed) {
            return vec![refusal];
        }
        let address = lifecycle::orphan_address(observed);
        if let Some(until) = commitment_until(cx, observed) {
            return vec![Change::new(address, observed.aws_name.clone(), Action::Refused).because(format!(
                "it is no longer declared, but it is under commitment until {until}; AWS does not allow deleting it before then. Declare it again, or remove it after that date"
            ))];
        }
        vec![
            Change::new(address, observed.aws_name.clone(), Action::Delete)
                .because("it is no longer declared")
                .with_status(observed)
                .warn("stops serving: requests to this provisioned model fail after the delete")
                .with_op(Op::Delete {
                    kind: KIND.into(),
                    name: observed.aws_name.clone(),
                    empty_first: false,
                }),
        ]
    }
}

fn replace(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    observed: &ObservedResource,
    fields: Vec<FieldDiff>,
    forced: &[String],
    cause: &str,
    hashed_name: &str,
) -> Change {
    let address = &desired.address;
    if desired.prevent_destroy {
        return lifecycle::prevent_destroy(
            address,
            &observed.aws_name,
            &format!(
                "`{}` cannot change in place, which replaces it",
                forced.join("`, `")
            ),
        );
    }
    if let Some(until) = commitment_until(cx, observed) {
        return Change::new(address.clone(), observed.aws_name.clone(), Action::Refused).with_fields(fields).because(format!(
            "`{}` cannot change in place, and the current throughput is under commitment until {until}; it cannot be deleted before then",
            forced.join("`, `")
        ));
    }
    // The new throughput is created first, under a free name, then the old one goes.
    let new_name = if observed.aws_name == desired.aws_name {
        hashed_name.to_string()
    } else {
        desired.aws_name.clone()
    };
    // An apply interrupted after the create left the new one behind: it is this
    // replacement's, not an orphan. The create is sent again with the same token
    // (AWS returns the original), so the replacement resumes instead of undoing.
    if let Some(started) = cx.find(KIND, &new_name).filter(|o| {
        o.owned_by(cx.stack())
            && o.tag(crate::model::TAG_ADDRESS) == Some(address.to_string().as_str())
    }) {
        cx.claim(started);
    }
    let mut change = Change::new(address.clone(), new_name.clone(), Action::Replace)
        .because(format!(
            "{cause}; a new one is bought first, then `{}` is deleted, so serving never stops",
            observed.aws_name
        ))
        .with_fields(fields)
        .with_op(create_op(cx, desired, &new_name))
        .with_op(Op::Delete {
            kind: KIND.into(),
            name: observed.aws_name.clone(),
            empty_first: false,
        })
        .with_status(observed);
    // Bought under a free name, it takes the declared one back once the old one
    // is gone, in the same apply.
    if new_name != desired.aws_name {
        change.ops.push(Op::Update {
            kind: KIND.into(),
            name: desired.aws_name.clone(),
            attrs: desired.attrs.clone(),
            tags: desired.tags_with_ownership(cx.stack()),
            fields: vec!["provisionedModelName".into()],
            current_name: Some(new_name.clone()),
        });
    }
    change.create_before_destroy = true;
    change.purchase = purchase(desired);
    change.cost = Some(cost(cx, desired));
    let old_hourly = cost_of_attrs(cx, &observed.attrs)
        .usd_per_hour
        .map(|hour| format!(", which costs {} per hour", crate::pricing::dollars(hour)))
        .unwrap_or_default();
    change.warnings.push(format!(
        "both throughputs are billed while the new one is created (`{new_name}` beside `{}`{old_hourly})",
        observed.aws_name
    ));
    if new_name != desired.aws_name {
        change.notes.push(format!("the new throughput is named `{new_name}` because `{}` is in use until the old one is deleted; then it takes `{}` back, in place", desired.aws_name, desired.aws_name));
    }
    if let Some(wait) = crate::kinds::customization_job::waits_on_model(cx, desired) {
        change.waits_on = Some(wait);
    }
    change
}
