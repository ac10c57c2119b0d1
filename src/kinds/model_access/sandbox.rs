//! Model access on the sandbox: the account's Marketplace agreements and its
//! use-case form, kept as one object, and models that cannot be used without an
//! agreement.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::state::AccessChange;
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::sandbox_face::{SandboxFace, Update};
use crate::kinds::state::state_of;
use crate::model::{Kind, ObservedResource, Scope};
use crate::models;

const MODEL_ACCESS: &str = Kind::ModelAccess.as_str();

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

/// The models the account has an agreement for.
fn agreements(world: &World) -> BTreeSet<String> {
    world
        .get(MODEL_ACCESS, super::AWS_NAME)
        .and_then(|o| o.attrs.get("agreements"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect()
}

fn use_case_form(world: &World) -> Value {
    world
        .get(MODEL_ACCESS, super::AWS_NAME)
        .and_then(|o| o.attrs.get("useCaseForm"))
        .cloned()
        .unwrap_or(Value::Null)
}

impl SandboxFace for Face {
    fn create(
        &self,
        _world: &mut World,
        _name: &str,
        _object: &mut Object,
        operation: &str,
        _now: f64,
    ) -> Result<(), CloudError> {
        Err(err(
            ErrorClass::Validation,
            operation,
            "model access is an account setting: it is updated, never created",
        ))
    }
    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        let change: AccessChange = state_of(update.attrs, update.operation)?;
        let mut agreed = agreements(world);
        for entry in change.create_agreements.iter().flatten() {
            agreed.insert(entry.model.clone());
        }
        for model in change.delete_agreements.iter().flatten() {
            agreed.remove(model);
        }
        // The form is sent once: AWS keeps the first.
        let mut form = use_case_form(world);
        if form.is_null()
            && let Some(sent) = change.use_case_form
        {
            form = sent;
        }
        let object = Object {
            attrs: Map::from_iter([
                ("agreements".to_string(), json!(agreed)),
                ("useCaseForm".to_string(), form),
            ]),
            created: update.now,
            ..Object::default()
        };
        world.insert(MODEL_ACCESS, super::AWS_NAME, object);
        Ok(())
    }
    /// Availability of every model the stack names and every model agreed, as
    /// `GetFoundationModelAvailability` reports it: a model that needs an
    /// agreement and has none is `NOT_AVAILABLE` until it has one.
    fn observe(&self, world: &World, kind: &str, scope: &Scope) -> Vec<ObservedResource> {
        let agreed = agreements(world);
        let mut availability = Map::new();
        for model in agreed.iter().chain(&scope.models) {
            let agreement = if agreed.contains(model) || !models::needs_agreement(model) {
                "AVAILABLE"
            } else {
                "NOT_AVAILABLE"
            };
            availability.insert(
                model.clone(),
                json!({"agreementAvailability": agreement, "authorizationStatus": "AUTHORIZED", "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}),
            );
        }
        vec![ObservedResource {
            kind: kind.into(),
            aws_name: super::AWS_NAME.into(),
            attrs: Map::from_iter([
                ("agreements".to_string(), json!(agreed)),
                ("useCaseForm".to_string(), use_case_form(world)),
            ]),
            facts: Map::from_iter([("availability".to_string(), Value::Object(availability))]),
            ..ObservedResource::default()
        }]
    }
}

/// An error unless `model` can be used: a custom model that exists, or a
/// foundation model with the agreement it needs.
pub fn check_usable(world: &World, operation: &str, model: &str) -> Result<(), CloudError> {
    if let Some(name) = models::custom_model_name(model) {
        return match world.get(Kind::CustomModel.as_str(), name) {
            Some(model) if model.status.as_deref() == Some("Creating") => Err(err(
                ErrorClass::Validation,
                operation,
                format!("ValidationException: custom model {name} is not Active yet"),
            )),
            Some(_) => Ok(()),
            None => Err(err(
                ErrorClass::Validation,
                operation,
                format!("ValidationException: custom model {name} does not exist"),
            )),
        };
    }
    if models::needs_agreement(model) && !agreements(world).contains(model) {
        return Err(err(
            ErrorClass::AccessDenied,
            operation,
            format!(
                "AccessDeniedException: You don't have access to the model {model}; create its Marketplace agreement (ModelAccess)"
            ),
        ));
    }
    Ok(())
}
