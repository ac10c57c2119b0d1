//! The enforced guardrail on the sandbox: one per region, naming a guardrail
//! and one of its numbered versions, which must exist.

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::sandbox_face::{SandboxFace, Update};
use crate::kinds::state::state_of;

/// Refuses a guardrail or version that does not exist, as AWS does.
fn check(
    world: &World,
    attrs: &serde_json::Map<String, serde_json::Value>,
    operation: &str,
) -> Result<(), CloudError> {
    let state: super::EnforcementState = state_of(attrs, operation)?;
    let Some(guardrail) = world.get(crate::kinds::guardrail::KIND, &state.guardrail) else {
        return Err(err(
            ErrorClass::NotFound,
            operation,
            format!("ResourceNotFoundException: guardrail {}", state.guardrail),
        ));
    };
    let observed = guardrail.observed(crate::kinds::guardrail::KIND, &state.guardrail);
    let exists = crate::kinds::guardrail::versions(&observed)
        .iter()
        .any(|(n, _)| n.to_string() == state.guardrail_version);
    if !exists {
        return Err(err(
            ErrorClass::NotFound,
            operation,
            format!(
                "ResourceNotFoundException: guardrail {} has no version {}",
                state.guardrail, state.guardrail_version
            ),
        ));
    }
    Ok(())
}

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
        _now: f64,
    ) -> Result<(), CloudError> {
        check(world, &object.attrs, operation)?;
        object.facts.insert(
            "configId".into(),
            serde_json::json!(format!("{:012}", world.next_id())),
        );
        Ok(())
    }

    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        check(world, update.attrs, update.operation)?;
        world.replace(
            update.kind,
            update.name,
            update.name,
            update.attrs,
            update.tags,
            update.operation,
        )?;
        Ok(())
    }
}
