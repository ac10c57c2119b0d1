//! Provisioned throughput on the sandbox: Creating -> InService after the
//! sandbox's throughput time, a commitment that forbids deletion until its term
//! ends, and updates that swap the model only within one base model.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{CREATING, Commitment, IN_SERVICE, ThroughputState, UPDATING};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err, rfc3339};
use crate::kinds::model_access::sandbox::check_usable;
use crate::kinds::sandbox_face::{Delete, SandboxFace, Update};
use crate::kinds::state::state_of;
use crate::model::Kind;
use crate::models;

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn create(
        &self,
        world: &mut World,
        _name: &str,
        object: &mut Object,
        operation: &str,
        now: f64,
    ) -> Result<(), CloudError> {
        let state: ThroughputState = state_of(&object.attrs, operation)?;
        check_usable(world, operation, &state.model)?;
        if state.model_units < 1 {
            return Err(err(
                ErrorClass::Validation,
                operation,
                "ValidationException: modelUnits must be at least 1",
            ));
        }
        let months = match state.commitment {
            Commitment::None => 0.0,
            Commitment::OneMonth => 1.0,
            Commitment::SixMonths => 6.0,
        };
        if months > 0.0 {
            // Rounded up to whole seconds: never earlier than the term's end.
            let end = (now + months * world.timing.commitment_month_seconds).ceil();
            object
                .facts
                .insert("commitmentExpirationTime".into(), json!(rfc3339(end)));
        }
        let id = world.next_id();
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:provisioned-model/{id:012}",
            world.region, world.account_id
        ));
        object.status = Some(CREATING.into());
        object.facts.insert(
            "readyAt".into(),
            json!(now + world.timing.throughput_seconds),
        );
        Ok(())
    }

    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        let Update {
            kind,
            name,
            attrs,
            tags,
            current,
            operation,
            now,
            ..
        } = update;
        let from = current.unwrap_or(name);
        let Some(existing) = world.get(kind, from) else {
            return Err(err(
                ErrorClass::NotFound,
                operation,
                format!("ResourceNotFoundException: {from}"),
            ));
        };
        let before: ThroughputState = state_of(&existing.attrs, operation)?;
        let after: ThroughputState = state_of(attrs, operation)?;
        let (before_model, after_model) = (before.model, after.model);
        if before.model_units != after.model_units || before.commitment != after.commitment {
            return Err(err(
                ErrorClass::Validation,
                operation,
                "ValidationException: only the name and the custom model can be updated",
            ));
        }
        if before_model != after_model {
            let base = |m: &str| {
                models::custom_model_name(m)
                    .and_then(|n| world.get(Kind::CustomModel.as_str(), n))
                    .and_then(|o| o.facts.get("baseModel").cloned())
            };
            match (base(&before_model), base(&after_model)) {
                (Some(a), Some(b)) if a == b => {}
                (_, None) => {
                    return Err(err(
                        ErrorClass::Validation,
                        operation,
                        format!("ValidationException: model {after_model} does not exist"),
                    ));
                }
                (_, Some(_)) => {
                    return Err(err(
                        ErrorClass::Validation,
                        operation,
                        "ValidationException: the new model must be a custom model of the same base model",
                    ));
                }
            }
        }
        if from != name && world.get(kind, name).is_some() {
            return Err(err(
                ErrorClass::Conflict,
                operation,
                format!("ResourceInUseException: {name} already exists"),
            ));
        }
        let ready_at = now + world.timing.throughput_seconds / 2.0;
        let object = world.replace(kind, from, name, attrs, tags, operation)?;
        object.status = Some(UPDATING.into());
        object.facts.insert("readyAt".into(), json!(ready_at));
        Ok(())
    }

    /// A throughput under commitment cannot be deleted before its term ends.
    fn check_delete(&self, _world: &World, delete: Delete<'_>) -> Result<(), CloudError> {
        if let Some(expiry) = delete
            .object
            .facts
            .get("commitmentExpirationTime")
            .and_then(Value::as_str)
        {
            let end = OffsetDateTime::parse(expiry, &Rfc3339)
                .map(|t| t.unix_timestamp() as f64)
                .unwrap_or(f64::MAX);
            if end > delete.now {
                return Err(err(
                    ErrorClass::Conflict,
                    delete.operation,
                    format!("ConflictException: the commitment runs until {expiry}"),
                ));
            }
        }
        Ok(())
    }

    /// A throughput is in service once its time has passed.
    fn advance(&self, world: &mut World, now: f64) {
        for (_, t) in world.of_kind_mut(super::KIND) {
            let ready_at = t
                .facts
                .get("readyAt")
                .and_then(Value::as_f64)
                .unwrap_or(t.created);
            if matches!(t.status.as_deref(), Some(CREATING) | Some(UPDATING)) && now >= ready_at {
                t.status = Some(IN_SERVICE.into());
            }
        }
    }
}
