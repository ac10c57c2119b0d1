//! Invocation logging on the sandbox: one configuration per region, whose log
//! group, bucket and role must exist (and the role be assumable) when it is put.

use serde_json::{Map, Value};

use super::state::LoggingState;
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::iam_role::sandbox::check_assumable;
use crate::kinds::sandbox_face::{SandboxFace, Update};
use crate::kinds::state::state_of;
use crate::model::Kind;

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
        check_destinations(world, operation, &object.attrs, now)
    }
    /// A put replaces the whole configuration.
    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        check_destinations(world, update.operation, update.attrs, update.now)?;
        let object = Object {
            attrs: update.attrs.clone(),
            created: update.now,
            ..Object::default()
        };
        world.insert(update.kind, update.name, object);
        Ok(())
    }
}

fn check_destinations(
    world: &World,
    operation: &str,
    attrs: &Map<String, Value>,
    now: f64,
) -> Result<(), CloudError> {
    let state: LoggingState = state_of(attrs, operation)?;
    if let Some(cw) = &state.cloud_watch_config {
        let group = &cw.log_group_name;
        if world.get(Kind::LogGroup.as_str(), group).is_none() {
            return Err(err(
                ErrorClass::Validation,
                operation,
                format!("ValidationException: log group {group} does not exist"),
            ));
        }
        let role = cw.role_arn.as_deref().unwrap_or_default();
        check_assumable(world, operation, role, now).map_err(|e| {
            if e.class == ErrorClass::IamPropagation {
                err(
                    ErrorClass::IamPropagation,
                    operation,
                    format!(
                        "ValidationException: Failed to validate permissions for log group: {group}, with role: {role}"
                    ),
                )
            } else {
                e
            }
        })?;
    }
    if let Some(s3) = &state.s3_config {
        let bucket = &s3.bucket_name;
        if world.get(Kind::Bucket.as_str(), bucket).is_none() {
            return Err(err(
                ErrorClass::Validation,
                operation,
                format!("ValidationException: bucket {bucket} does not exist"),
            ));
        }
    }
    Ok(())
}
