//! Application inference profiles on the sandbox: ACTIVE from the create on, a
//! model that must be usable, and nothing but tags updated.

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
        _now: f64,
    ) -> Result<(), CloudError> {
        let state: super::ProfileState = state_of(&object.attrs, operation)?;
        let model = crate::models::normalise_model(&state.model);
        check_usable(world, operation, &model)?;
        let id = world.next_id();
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:application-inference-profile/{id:012}",
            world.region, world.account_id
        ));
        object.status = Some(super::ACTIVE.into());
        Ok(())
    }

    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        let Some(existing) = world.get(update.kind, update.name) else {
            return Err(err(
                ErrorClass::NotFound,
                update.operation,
                format!("ResourceNotFoundException: {}", update.name),
            ));
        };
        if &existing.attrs != update.attrs {
            return Err(err(
                ErrorClass::Validation,
                update.operation,
                "ValidationException: only the tags of an inference profile can be changed",
            ));
        }
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
