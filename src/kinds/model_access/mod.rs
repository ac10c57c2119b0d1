//! `kind: ModelAccess`: Marketplace model agreements and the one-time Anthropic
//! use-case form. Serverless models are enabled by default; what remains to declare
//! is the agreements and the form.

pub mod aws;
pub mod sandbox;
pub mod state;

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::diag::{Diagnostic, Loc};
use crate::kinds::face::PlanCx;
use crate::kinds::face::{
    Adoption, Common, KindBehaviour, LowerCx, Lowered, ResourceSpec, State, ValidateCx,
};
use crate::model::Scope;
use crate::model::plan::{Action, Change, FieldDiff, Op};
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::Reference;
use crate::syntax::spanned::Spanned;

pub const AWS_NAME: &str = "model-access";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelAccessSpec {
    /// Models whose agreements must exist: an id, or `{model, offerType, offerId}`.
    #[serde(default)]
    pub models: Vec<Spanned<ModelEntry>>,
    /// The Anthropic use-case form, a JSON file relative to this manifest.
    #[serde(default)]
    pub use_case_form: Option<Spanned<UseCaseForm>>,
    /// `absent` cancels the agreements of the listed models.
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub prevent_destroy: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ModelEntry {
    Id(String),
    Detailed(ModelOffer),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelOffer {
    pub model: String,
    #[serde(default)]
    pub offer_type: Option<OfferType>,
    /// Pin an offer; offer tokens themselves are volatile and never compared.
    #[serde(default)]
    pub offer_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum OfferType {
    Public,
    All,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UseCaseForm {
    pub file: String,
}

impl ModelEntry {
    fn model(&self) -> &str {
        match self {
            ModelEntry::Id(id) => id,
            ModelEntry::Detailed(offer) => &offer.model,
        }
    }
    /// The agreement the entry asks for, as the plan sends it.
    fn to_value(&self) -> Value {
        let agreement = match self {
            ModelEntry::Id(id) => state::Agreement {
                model: crate::models::normalise_model(id),
                offer_type: state::Offers::Public,
                offer_id: None,
            },
            ModelEntry::Detailed(o) => state::Agreement {
                model: crate::models::normalise_model(&o.model),
                offer_type: if o.offer_type == Some(OfferType::All) {
                    state::Offers::All
                } else {
                    state::Offers::Public
                },
                offer_id: o.offer_id.clone(),
            },
        };
        Value::Object(crate::kinds::state::attrs_of(&agreement))
    }
}

/// Largest use-case form read; the API's form is a few hundred bytes.
const MAX_FORM_BYTES: u64 = 64 * 1024;

impl ResourceSpec for ModelAccessSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: None,
            absent: self.state == State::Absent,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let mut seen = BTreeSet::new();
        for entry in &self.models {
            let model = crate::models::normalise_model(entry.model());
            if !crate::models::looks_like_model_id(&model) {
                cx.error_hint(
                    entry.pos,
                    format!("`{model}` is not a foundation model id"),
                    "ids look like provider.model-version, e.g. amazon.nova-pro-v1:0",
                );
            }
            if !seen.insert(model.clone()) {
                cx.error(entry.pos, format!("`{model}` is listed twice"));
            }
        }
        if let Some(form) = &self.use_case_form
            && !form.file.ends_with(".json")
        {
            cx.error(form.pos, "`useCaseForm.file` must name a .json file");
        }
    }

    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let mut models: Vec<Value> = self.models.iter().map(|m| m.to_value()).collect();
        models.sort_by_key(|v| v.to_string());
        let form = match &self.use_case_form {
            Some(form) => {
                let at = Loc {
                    file: cx.file,
                    pos: form.pos,
                };
                let bytes = cx
                    .files
                    .read_named(cx.source_dir, &form.file, MAX_FORM_BYTES)
                    .map_err(|err| Diagnostic::at(at, format!("use-case form: {err}")))?;
                // serde_json's message gives a line and column, never the text.
                let value: Value = serde_json::from_slice(&bytes).map_err(|err| {
                    Diagnostic::at(
                        at,
                        format!("use-case form `{}` is not JSON ({err})", form.file),
                    )
                    .with_hint("the file is not quoted: it may hold anything")
                })?;
                value
            }
            None => Value::Null,
        };
        let mut attrs = Map::new();
        attrs.insert("models".into(), Value::Array(models));
        attrs.insert("useCaseForm".into(), form);
        Ok(Lowered {
            aws_name: AWS_NAME.into(),
            arn: None,
            model: None,
            attrs,
            hash_extra: None,
        })
    }
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // Agreements go after what may serve their models.
    teardown_rank: 4,
    singleton: true,
    // One per region, without an ARN of its own.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &["useCaseForm"],
    // AWS reports no status for this kind.
    status_class: crate::kinds::facts::no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: Some(
        "model agreements are per model and the use-case form holds personal data; declare ModelAccess by hand",
    ),
    stages: &[],
    inference: None,
    made_by: None,
    tags: None,
};

fn declared_models(desired: &DesiredResource) -> Vec<String> {
    desired
        .attrs
        .get("models")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("model").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn agreements(observed: Option<&ObservedResource>) -> BTreeSet<String> {
    observed
        .and_then(|o| o.attrs.get("agreements"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::ModelAccess
    }
    /// The account's agreements, the availability of every model named, and the
    /// use-case form when one is declared.
    fn scope(&self, desired: &DesiredResource, scope: &mut Scope) {
        scope.declare(&desired.address.kind, &desired.aws_name);
        for entry in desired
            .attrs
            .get("models")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(model) = entry.get("model").and_then(Value::as_str) {
                scope.models.insert(model.to_string());
            }
        }
        if desired
            .attrs
            .get("useCaseForm")
            .is_some_and(|f| !f.is_null())
        {
            scope.use_case_form = true;
        }
    }
    fn adoption(&self) -> Adoption {
        Adoption::NotNeeded(
            "model agreements and the use-case form take no tags: bedform plans them from the ModelAccess document alone, so there is nothing to import; the next plan shows which agreements are missing",
        )
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let observed = cx.find(&desired.address.kind, AWS_NAME);
        if let Some(o) = observed {
            cx.claim(o);
        }
        let existing = agreements(observed);
        let models = declared_models(desired);
        let mut change = Change::new(desired.address.clone(), AWS_NAME, Action::NoOp);
        // Availability as AWS reports it, for the reviewer.
        if let Some(availability) = observed
            .and_then(|o| o.facts.get("availability"))
            .and_then(Value::as_object)
        {
            for model in &models {
                if let Some(status) = availability.get(model) {
                    change
                        .notes
                        .push(format!("{model}: {}", describe_availability(status)));
                }
            }
        }
        if desired.absent {
            // Amazon's models report an agreement as available without having one.
            let cancel: Vec<String> = models
                .iter()
                .filter(|m| crate::models::needs_agreement(m) && existing.contains(*m))
                .cloned()
                .collect();
            if cancel.is_empty() {
                return vec![change.note("declared absent; no agreements to cancel")];
            }
            if desired.prevent_destroy {
                return vec![crate::kinds::lifecycle::prevent_destroy(
                    &desired.address,
                    AWS_NAME,
                    "it is declared `state: absent`",
                )];
            }
            change.action = Action::Delete;
            change.reason = Some(
                "it is declared `state: absent`: the agreements of its models are cancelled".into(),
            );
            change.fields.push(FieldDiff {
                path: "agreements".into(),
                before: Some(json!(cancel)),
                after: None,
                forces_replacement: false,
                sensitive: false,
            });
            change.ops.push(Op::Update {
                kind: desired.address.kind.clone(),
                name: AWS_NAME.into(),
                attrs: crate::kinds::state::attrs_of(&state::AccessChange {
                    delete_agreements: Some(cancel.clone()),
                    ..state::AccessChange::default()
                }),
                tags: Default::default(),
                fields: vec!["agreements".into()],
                current_name: None,
            });
            return vec![change];
        }
        let missing: Vec<&String> = models
            .iter()
            .filter(|m| crate::models::needs_agreement(m) && !existing.contains(*m))
            .collect();
        for kept in existing.iter().filter(|m| !models.contains(m)) {
            change.notes.push(format!(
                "{kept}: no longer listed; its agreement is kept (only `state: absent` cancels agreements)"
            ));
        }
        let mut op_state = state::AccessChange::default();
        let mut fields = Vec::new();
        if !missing.is_empty() {
            let entries: Vec<Value> = desired
                .attrs
                .get("models")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|m| {
                    m.get("model")
                        .and_then(Value::as_str)
                        .is_some_and(|id| missing.iter().any(|x| *x == id))
                })
                .cloned()
                .collect();
            fields.push(FieldDiff {
                path: "agreements".into(),
                before: None,
                after: Some(json!(missing)),
                forces_replacement: false,
                sensitive: false,
            });
            // Each entry was written from a `state::Agreement` by lowering.
            op_state.create_agreements = Some(
                entries
                    .into_iter()
                    .filter_map(|e| serde_json::from_value(e).ok())
                    .collect(),
            );
        }
        let declared_form = desired.attrs.get("useCaseForm").filter(|v| !v.is_null());
        let observed_form = observed
            .and_then(|o| o.attrs.get("useCaseForm"))
            .filter(|v| !v.is_null());
        match (declared_form, observed_form) {
            (Some(form), None) => {
                fields.push(FieldDiff {
                    path: "useCaseForm".into(),
                    before: None,
                    after: Some(form.clone()),
                    forces_replacement: false,
                    sensitive: true,
                });
                op_state.use_case_form = Some(form.clone());
            }
            (Some(form), Some(on_file)) if form != on_file => {
                change.warnings.push(
                    "the use-case form on file differs from the manifest; AWS does not update a submitted form, so nothing is sent".into(),
                );
            }
            _ => {}
        }
        if fields.is_empty() {
            return vec![change];
        }
        change.action = Action::Update;
        change.fields = fields;
        let changed = change.fields.iter().map(|f| f.path.clone()).collect();
        change.ops.push(Op::Update {
            kind: desired.address.kind.clone(),
            name: AWS_NAME.into(),
            attrs: crate::kinds::state::attrs_of(&op_state),
            tags: Default::default(),
            fields: changed,
            current_name: None,
        });
        vec![change]
    }

    fn plan_orphan(&self, _cx: &PlanCx<'_>, _observed: &ObservedResource) -> Vec<Change> {
        Vec::new()
    }
}

fn describe_availability(status: &Value) -> String {
    let field = |key: &str| {
        status
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string()
    };
    format!(
        "agreement {}, authorization {}, entitlement {}, region {}",
        field("agreementAvailability"),
        field("authorizationStatus"),
        field("entitlementAvailability"),
        field("regionAvailability")
    )
}
