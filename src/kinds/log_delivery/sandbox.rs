//! Log deliveries on the sandbox: the destination log group or bucket must
//! exist when the delivery is made (the source, a knowledge base or another
//! service's resource, is not simulated).

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::sandbox_face::SandboxFace;
use crate::kinds::state::state_of;
use crate::model::Kind;

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
        let state: super::DeliveryState = state_of(&object.attrs, operation)?;
        let arn = &state.destination_arn;
        let missing = if let Some(group) = arn.split(":log-group:").nth(1) {
            let group = group.trim_end_matches(":*");
            world
                .get(Kind::LogGroup.as_str(), group)
                .is_none()
                .then(|| format!("log group {group}"))
        } else if let Some(bucket) = arn.strip_prefix("arn:aws:s3:::") {
            world
                .get(Kind::Bucket.as_str(), bucket)
                .is_none()
                .then(|| format!("bucket {bucket}"))
        } else {
            None
        };
        if let Some(missing) = missing {
            return Err(err(
                ErrorClass::NotFound,
                operation,
                format!("ResourceNotFoundException: {missing} does not exist"),
            ));
        }
        object.arn = Some(format!(
            "arn:aws:logs:{}:{}:delivery-source:{}",
            world.region, world.account_id, _name
        ));
        Ok(())
    }
}
