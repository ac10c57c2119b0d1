//! Invocation logging on the sandbox: one configuration per region, whose log
//! group, bucket and role must exist (and the role be assumable) when it is put.

use serde_json::{Map, Value};

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::iam_role::sandbox::check_assumable;
use crate::kinds::sandbox_face::{SandboxFace, Update};
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
    if let Some(cw) = attrs.get("cloudWatchConfig").filter(|v| !v.is_null()) {
        let group = cw
            .get("logGroupName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if world.get(Kind::LogGroup.as_str(), group).is_none() {
            return Err(err(
                ErrorClass::Validation,
                operation,
                format!("ValidationException: log group {group} does not exist"),
            ));
        }
        let role = cw
            .get("roleArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
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
    if let Some(s3) = attrs.get("s3Config").filter(|v| !v.is_null()) {
        let bucket = s3
            .get("bucketName")
            .and_then(Value::as_str)
            .unwrap_or_default();
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
