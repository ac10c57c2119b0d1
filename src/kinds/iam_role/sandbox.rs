//! Roles on the sandbox: a name taken once, and a new role that cannot be assumed
//! until IAM has propagated it.

use serde_json::Value;

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::sandbox_face::SandboxFace;
use crate::model::Kind;

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn name_taken(&self) -> &'static str {
        "EntityAlreadyExists"
    }
    fn create(
        &self,
        world: &mut World,
        name: &str,
        object: &mut Object,
        _operation: &str,
        _now: f64,
    ) -> Result<(), CloudError> {
        let path = object
            .attrs
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/");
        object.arn = Some(format!(
            "arn:aws:iam::{}:role{path}{name}",
            world.account_id
        ));
        Ok(())
    }
}

/// An error unless a role with the ARN `role_arn` exists and has propagated.
pub fn check_assumable(
    world: &World,
    operation: &str,
    role_arn: &str,
    now: f64,
) -> Result<(), CloudError> {
    let role = world
        .of_kind(Kind::IamRole.as_str())
        .map(|(_, role)| role)
        .find(|r| r.arn.as_deref() == Some(role_arn));
    match role {
        None => Err(err(
            ErrorClass::Validation,
            operation,
            format!(
                "ValidationException: Could not assume provided IAM role {role_arn}: the role does not exist"
            ),
        )),
        Some(r) if now - r.created < world.timing.iam_propagation_seconds => Err(err(
            ErrorClass::IamPropagation,
            operation,
            format!("ValidationException: Could not assume provided IAM role {role_arn}"),
        )),
        Some(_) => Ok(()),
    }
}
