//! Custom model deployments on the sandbox: Creating -> Active after the
//! sandbox's serving time, a model swap that runs as long again while the old
//! model goes on serving, and only the model updatable.

use serde_json::{Value, json};

use super::{ACTIVE, CREATING, DeploymentState, UPDATING};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::model_access::sandbox::check_usable;
use crate::kinds::sandbox_face::{SandboxFace, Update};
use crate::kinds::state::state_of;

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn name_taken(&self) -> &'static str {
        "ConflictException"
    }

    fn create(
        &self,
        world: &mut World,
        _name: &str,
        object: &mut Object,
        operation: &str,
        now: f64,
    ) -> Result<(), CloudError> {
        let state: DeploymentState = state_of(&object.attrs, operation)?;
        check_usable(world, operation, &state.model)?;
        let id = world.next_id();
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:custom-model-deployment/{id:012}",
            world.region, world.account_id
        ));
        object.status = Some(CREATING.into());
        // Deployments come up in minutes, as throughputs do.
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
            operation,
            now,
            ..
        } = update;
        let Some(existing) = world.get(kind, name) else {
            return Err(err(
                ErrorClass::NotFound,
                operation,
                format!("ResourceNotFoundException: {name}"),
            ));
        };
        let before: DeploymentState = state_of(&existing.attrs, operation)?;
        let after: DeploymentState = state_of(attrs, operation)?;
        if before.description != after.description {
            return Err(err(
                ErrorClass::Validation,
                operation,
                "ValidationException: only the model of a deployment can be updated",
            ));
        }
        let swapped = before.model != after.model;
        if swapped {
            check_usable(world, operation, &after.model)?;
        }
        let ready_at = now + world.timing.throughput_seconds;
        let object = world.replace(kind, name, name, attrs, tags, operation)?;
        if swapped {
            object.status = Some(UPDATING.into());
            object.facts.insert("readyAt".into(), json!(ready_at));
        }
        Ok(())
    }

    /// A deployment is Active once its time has passed, and so is a swap.
    fn advance(&self, world: &mut World, now: f64) {
        for (_, d) in world.of_kind_mut(super::KIND) {
            let ready_at = d
                .facts
                .get("readyAt")
                .and_then(Value::as_f64)
                .unwrap_or(d.created);
            if matches!(d.status.as_deref(), Some(CREATING | UPDATING)) && now >= ready_at {
                d.status = Some(ACTIVE.into());
            }
        }
    }
}
