//! Imports on the sandbox: a role that must be assumable and a source bucket
//! that must exist, an import that runs for the sandbox's throughput time, then a
//! model that answers (as far as the sandbox answers anything).

use serde_json::{Value, json};

use super::{COMPLETED, IN_PROGRESS, ImportState};
use crate::cloud::error::CloudError;
use crate::cloud::sandbox::{Object, World};
use crate::kinds::bucket::sandbox as bucket;
use crate::kinds::iam_role::sandbox::check_assumable;
use crate::kinds::sandbox_face::SandboxFace;
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
        let state: ImportState = state_of(&object.attrs, operation)?;
        check_assumable(world, operation, &state.role_arn, now)?;
        bucket::check_exists(world, operation, &state.source_s3_uri)?;
        let id = world.next_id();
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:imported-model/{id:012}",
            world.region, world.account_id
        ));
        object.status = Some(IN_PROGRESS.into());
        object.facts.insert(
            "readyAt".into(),
            json!(now + world.timing.throughput_seconds),
        );
        Ok(())
    }

    /// An import completes once its time has passed.
    fn advance(&self, world: &mut World, now: f64) {
        for (_, m) in world.of_kind_mut(super::KIND) {
            let ready_at = m
                .facts
                .get("readyAt")
                .and_then(Value::as_f64)
                .unwrap_or(m.created);
            if m.status.as_deref() == Some(IN_PROGRESS) && now >= ready_at {
                m.status = Some(COMPLETED.into());
            }
        }
    }
}
