//! The sandbox face of a kind: what AWS does with its objects, simulated on the
//! sandbox's store and clock ([`crate::cloud::sandbox`]). The simulated account
//! ([`crate::account::sandbox`]) handles what every kind shares (idempotency
//! tokens, names already taken, tags, deletes of what is gone) and asks the face
//! for the rest.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::model::{ObservedResource, Scope};

pub trait SandboxFace: Sync {
    /// The error code AWS answers a create with when the name is taken.
    fn name_taken(&self) -> &'static str {
        "ResourceInUseException"
    }
    /// Checks a create as AWS would and completes the new `object` (its ARN,
    /// first status and facts). `object` holds the attributes and tags sent.
    fn create(
        &self,
        world: &mut World,
        name: &str,
        object: &mut Object,
        operation: &str,
        now: f64,
    ) -> Result<(), CloudError>;
    /// Applies an update (most kinds: the object takes the new attributes and
    /// tags, renamed from `current` when it has another name).
    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        let from = update.current.unwrap_or(update.name);
        world.replace(
            update.kind,
            from,
            update.name,
            update.attrs,
            update.tags,
            update.operation,
        )?;
        Ok(())
    }
    /// Refuses a delete that AWS refuses (a bucket that holds objects, a
    /// commitment that has not ended, a model that is served).
    fn check_delete(&self, world: &World, check: Delete<'_>) -> Result<(), CloudError> {
        let _ = (world, check);
        Ok(())
    }
    /// Stops what runs (a job); other kinds have nothing to stop.
    fn stop(&self, world: &mut World, name: &str, operation: &str) -> Result<(), CloudError> {
        let _ = (world, name);
        Err(err(
            ErrorClass::Validation,
            operation,
            "ValidationException: only a customization job can be stopped",
        ))
    }
    /// Moves the kind's objects along the clock to where `now` puts them.
    fn advance(&self, world: &mut World, now: f64) {
        let _ = (world, now);
    }
    /// The kind's objects as an account read of `scope` reports them.
    fn observe(&self, world: &World, kind: &str, scope: &Scope) -> Vec<ObservedResource> {
        let _ = scope;
        world
            .of_kind(kind)
            .map(|(name, object)| object.observed(kind, name))
            .collect()
    }
}

/// One update sent to the sandbox.
pub struct Update<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub attrs: &'a Map<String, Value>,
    pub tags: &'a BTreeMap<String, String>,
    /// The name it has now, when the update renames it.
    pub current: Option<&'a str>,
    /// Top-level attributes that change.
    pub fields: &'a [String],
    pub operation: &'a str,
    pub now: f64,
}

/// One delete sent to the sandbox, of an object that exists.
pub struct Delete<'a> {
    pub name: &'a str,
    pub object: &'a Object,
    pub empty_first: bool,
    pub operation: &'a str,
    pub now: f64,
}
