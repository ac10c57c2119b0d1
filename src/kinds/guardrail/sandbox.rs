//! Guardrails on the sandbox: READY from the create on, the DRAFT updated in
//! place (renamed too), and numbered versions kept in the object's facts, each
//! with the content it froze. The sandbox runs no guardrail policy: its tests
//! run against AWS.

use serde_json::{Map, Value, json};

use super::{GuardrailState, Publish, READY};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::sandbox::{Object, World, err};
use crate::kinds::sandbox_face::{Delete, SandboxFace, Update};
use crate::kinds::state::{attrs_of, state_of};

/// The face's store of what an operation sends: the DRAFT's content, and the
/// version to publish.
fn split(
    attrs: &Map<String, Value>,
    operation: &str,
) -> Result<(Map<String, Value>, Option<Publish>), CloudError> {
    let mut state: GuardrailState = state_of(attrs, operation)?;
    let publish = state.publish.take();
    state.publish_version = false;
    Ok((attrs_of(&state), publish))
}

/// Freezes the DRAFT as the next version, refusing another number than planned.
fn publish(object: &mut Object, publish: &Publish, operation: &str) -> Result<(), CloudError> {
    let versions = object
        .facts
        .entry("versions")
        .or_insert_with(|| Value::Array(Vec::new()));
    let list = versions.as_array_mut().expect("versions are a list");
    let next = list.len() + 1;
    if publish.version != next.to_string() {
        return Err(err(
            ErrorClass::Fatal,
            operation,
            format!(
                "the new version is {next}, not {} as the plan said; plan again",
                publish.version
            ),
        ));
    }
    list.push(json!({"version": next.to_string(), "content": publish.content}));
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
        let (content, planned) = split(&object.attrs, operation)?;
        let id = format!("{:012}", world.next_id());
        object.arn = Some(format!(
            "arn:aws:bedrock:{}:{}:guardrail/{id}",
            world.region, world.account_id
        ));
        object.attrs = content;
        object.status = Some(READY.into());
        object.facts.insert("id".into(), json!(id));
        object.facts.insert("versions".into(), json!([]));
        if let Some(planned) = planned {
            publish(object, &planned, operation)?;
        }
        Ok(())
    }

    fn update(&self, world: &mut World, update: Update<'_>) -> Result<(), CloudError> {
        let from = update.current.unwrap_or(update.name);
        let (content, planned) = split(update.attrs, update.operation)?;
        if from != update.name && world.get(super::KIND, update.name).is_some() {
            return Err(err(
                ErrorClass::Conflict,
                update.operation,
                format!(
                    "ConflictException: a guardrail named {} exists",
                    update.name
                ),
            ));
        }
        let Some(existing) = world.get(update.kind, from) else {
            return Err(err(
                ErrorClass::NotFound,
                update.operation,
                format!("ResourceNotFoundException: guardrail {from}"),
            ));
        };
        // An operation that only publishes or tags leaves the DRAFT as it is.
        let attrs = if update
            .fields
            .iter()
            .any(|f| !matches!(f.as_str(), "tags" | "version"))
        {
            content
        } else {
            existing.attrs.clone()
        };
        let tags = if update.tags.is_empty() {
            existing.tags.clone()
        } else {
            update.tags.clone()
        };
        let object = world.replace(
            update.kind,
            from,
            update.name,
            &attrs,
            &tags,
            update.operation,
        )?;
        if let Some(planned) = planned {
            publish(object, &planned, update.operation)?;
        }
        Ok(())
    }

    fn check_delete(&self, world: &World, check: Delete<'_>) -> Result<(), CloudError> {
        let enforced = world
            .of_kind(crate::kinds::guardrail_enforcement::KIND)
            .any(|(_, o)| o.attrs.get("guardrail").and_then(Value::as_str) == Some(check.name));
        if enforced {
            return Err(err(
                ErrorClass::Conflict,
                check.operation,
                "ResourceInUseException: the account's enforced guardrail configuration uses this guardrail",
            ));
        }
        Ok(())
    }
}
