//! Data retention on the sandbox: one mode per region, `inherit` when unset.

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::sandbox_face::SandboxFace;
use crate::kinds::state::state_of;

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn create(
        &self,
        _world: &mut World,
        _name: &str,
        object: &mut Object,
        operation: &str,
        _now: f64,
    ) -> Result<(), CloudError> {
        let state: super::RetentionState = state_of(&object.attrs, operation)?;
        if state.mode == super::DataRetentionMode::Inherit {
            return Err(err(
                ErrorClass::Validation,
                operation,
                "the sandbox keeps `inherit` as no setting at all",
            ));
        }
        Ok(())
    }
}
