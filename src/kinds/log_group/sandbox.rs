//! Log groups on the sandbox: a name taken once, with their stored bytes.

use serde_json::json;

use crate::cloud::error::CloudError;
use crate::cloud::sandbox::{Object, World};
use crate::kinds::sandbox_face::SandboxFace;

/// The kind's sandbox face.
pub struct Face;
pub static SANDBOX: Face = Face;

impl SandboxFace for Face {
    fn name_taken(&self) -> &'static str {
        "ResourceAlreadyExistsException"
    }
    fn create(
        &self,
        world: &mut World,
        name: &str,
        object: &mut Object,
        _operation: &str,
        _now: f64,
    ) -> Result<(), CloudError> {
        object.arn = Some(format!(
            "arn:aws:logs:{}:{}:log-group:{name}",
            world.region, world.account_id
        ));
        object.facts.insert("storedBytes".into(), json!(0));
        Ok(())
    }
}
