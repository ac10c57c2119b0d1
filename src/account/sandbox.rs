//! The simulated account: the sandbox's store and clock with every kind's sandbox
//! face. What all kinds share is here: idempotency tokens, names already taken,
//! tags, deletes of what is gone, and the clock moving each kind's objects on.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::cloud::error::{CloudError, ErrorClass};
use crate::cloud::lock::StackLock;
use crate::cloud::sandbox::{Object, Sandbox, Timing, World, err, now, rfc3339};
use crate::cloud::{Cloud, Scope};
use crate::kinds::sandbox_face::{Delete, SandboxFace, Update};
use crate::model::plan::Op;
use crate::model::{Kind, LockLocation, ObservedAccount, ObservedResource};

/// What AWS does with the kind's objects, on the sandbox: the registry, one
/// line per kind.
pub fn face(kind: Kind) -> &'static dyn SandboxFace {
    use crate::kinds as r;
    match kind {
        Kind::Bucket => &r::bucket::sandbox::SANDBOX,
        Kind::LogGroup => &r::log_group::sandbox::SANDBOX,
        Kind::IamRole => &r::iam_role::sandbox::SANDBOX,
        Kind::InvocationLogging => &r::invocation_logging::sandbox::SANDBOX,
        Kind::ModelAccess => &r::model_access::sandbox::SANDBOX,
        Kind::CustomizationJob => &r::customization_job::sandbox::SANDBOX,
        Kind::CustomModel => &r::customization_job::sandbox::CUSTOM_MODEL_SANDBOX,
        Kind::ProvisionedThroughput => &r::provisioned_throughput::sandbox::SANDBOX,
        Kind::CustomModelDeployment => &r::custom_model_deployment::sandbox::SANDBOX,
        Kind::ImportedModel => &r::imported_model::sandbox::SANDBOX,
        Kind::DataRetention => &r::data_retention::sandbox::SANDBOX,
        Kind::InferenceProfile => &r::inference_profile::sandbox::SANDBOX,
        Kind::LogDelivery => &r::log_delivery::sandbox::SANDBOX,
        Kind::Guardrail => &r::guardrail::sandbox::SANDBOX,
        Kind::GuardrailEnforcement => &r::guardrail_enforcement::sandbox::SANDBOX,
    }
}

/// Moves every kind's objects along to where the clock says they are.
fn advance(world: &mut World, now: f64) {
    for kind in Kind::ALL {
        face(kind).advance(world, now);
    }
}

/// The kind of an operation or object this bedform knows, or the error AWS gives
/// for one it does not have.
fn known(kind: &str, operation: &str) -> Result<Kind, CloudError> {
    Kind::parse(kind).ok_or_else(|| {
        err(
            ErrorClass::Validation,
            operation,
            format!("the sandbox has no {kind}"),
        )
    })
}

impl Sandbox {
    /// Runs `f` on the world once the clock has moved it on, and saves it after.
    fn turn<T>(
        &self,
        operation: &str,
        f: impl FnOnce(&mut World) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        self.with_world(operation, |world| {
            advance(world, now());
            f(world)
        })
    }

    /// Changes how fast the simulated world moves (tests use this).
    pub fn set_timing(&self, timing: Timing) -> Result<(), CloudError> {
        self.turn("SetTiming", |world| {
            world.timing = timing;
            Ok(())
        })
    }
}

fn create(
    world: &mut World,
    kind: &str,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
    token: Option<&str>,
    now: f64,
) -> Result<(), CloudError> {
    let operation = format!("Create{kind} {name}");
    let face = face(known(kind, &operation)?);
    if let Some(token) = token
        && let Some((k, n)) = world.tokens.get(token)
    {
        // Same token: the same create, already done. AWS returns the original.
        if k == kind && n == name {
            return Ok(());
        }
        return Err(err(
            ErrorClass::Conflict,
            operation,
            "ConflictException: the client request token was used for another request",
        ));
    }
    if world.get(kind, name).is_some() {
        return Err(err(
            ErrorClass::Conflict,
            operation,
            format!("{}: {kind} {name} already exists", face.name_taken()),
        ));
    }
    let mut object = Object {
        attrs: attrs.clone(),
        tags: tags.clone(),
        created: now,
        ..Object::default()
    };
    face.create(world, name, &mut object, &operation, now)?;
    if let Some(token) = token {
        world
            .tokens
            .insert(token.to_string(), (kind.to_string(), name.to_string()));
    }
    world.insert(kind, name, object);
    Ok(())
}

fn delete(
    world: &mut World,
    kind: &str,
    name: &str,
    empty_first: bool,
    now: f64,
) -> Result<(), CloudError> {
    let operation = format!("Delete{kind} {name}");
    let face = face(known(kind, &operation)?);
    let Some(object) = world.get(kind, name) else {
        // Deleting what is gone is done (a re-run after a crash).
        return Ok(());
    };
    face.check_delete(
        world,
        Delete {
            name,
            object,
            empty_first,
            operation: &operation,
            now,
        },
    )?;
    world.remove(kind, name);
    Ok(())
}

#[async_trait]
impl Cloud for Sandbox {
    async fn caller_account(&self) -> Result<String, CloudError> {
        self.turn("GetCallerIdentity", |world| Ok(world.account_id.clone()))
    }

    async fn observe(&self, scope: &Scope) -> Result<ObservedAccount, CloudError> {
        self.turn("Observe", |world| {
            let mut resources: Vec<ObservedResource> = Kind::ALL
                .into_iter()
                .flat_map(|kind| face(kind).observe(world, kind.as_str(), scope))
                .collect();
            resources.sort_by(|a, b| (&a.kind, &a.aws_name).cmp(&(&b.kind, &b.aws_name)));
            Ok(ObservedAccount {
                account_id: world.account_id.clone(),
                region: world.region.clone(),
                observed_at: rfc3339(now()),
                resources,
            })
        })
    }

    async fn get(&self, kind: &str, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        self.turn("Get", |world| {
            Ok(world.get(kind, name).map(|o| o.observed(kind, name)))
        })
    }

    async fn execute(&self, op: &Op) -> Result<(), CloudError> {
        let at = now();
        self.turn("Execute", |world| match op {
            Op::Create {
                kind,
                name,
                attrs,
                tags,
                client_request_token,
            } => create(
                world,
                kind,
                name,
                attrs,
                tags,
                client_request_token.as_deref(),
                at,
            ),
            Op::Update {
                kind,
                name,
                attrs,
                tags,
                current_name,
                fields,
            } => {
                let operation = format!("Update{kind} {name}");
                let face = face(known(kind, &operation)?);
                face.update(
                    world,
                    Update {
                        kind,
                        name,
                        attrs,
                        tags,
                        current: current_name.as_deref(),
                        fields,
                        operation: &operation,
                        now: at,
                    },
                )
            }
            Op::Delete {
                kind,
                name,
                empty_first,
            } => delete(world, kind, name, *empty_first, at),
            Op::StopJob { name } => {
                let operation = format!("StopModelCustomizationJob {name}");
                face(known(op.kind(), &operation)?).stop(world, name, &operation)
            }
            Op::Untag { kind, name, keys } => {
                if let Some(object) = world.get_mut(kind, name) {
                    for key in keys {
                        object.tags.remove(key);
                    }
                }
                Ok(())
            }
        })
    }

    async fn add_tags(
        &self,
        kind: &str,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        self.turn("TagResource", |world| {
            let Some(object) = world.get_mut(kind, name) else {
                return Err(err(
                    ErrorClass::NotFound,
                    format!("TagResource {kind} {name}"),
                    "ResourceNotFoundException",
                ));
            };
            object
                .tags
                .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(())
        })
    }

    /// The sandbox's clock runs fast: a job takes seconds.
    fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn inference_unavailable(&self) -> Option<&'static str> {
        Some(
            "the sandbox simulates no model, so it cannot run model inference; checks run against AWS",
        )
    }

    fn guardrails_unavailable(&self) -> Option<&'static str> {
        Some(
            "the sandbox runs no guardrail policy, so it cannot run guardrail tests; they run against AWS",
        )
    }

    /// The sandbox always locks, in a file beside its own.
    fn stack_lock(&self, _location: Option<&LockLocation>) -> Option<StackLock> {
        Some(StackLock::for_sandbox(self.path()))
    }
}
