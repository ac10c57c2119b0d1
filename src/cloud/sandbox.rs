//! The sandbox's store and clock: a simulated account kept in a JSON file, shared
//! safely by the processes that use it, with the time its objects were made. What
//! each kind's objects do (name uniqueness, state transitions, commitment rules,
//! IAM propagation delay, models that need an agreement) is the kind's sandbox face
//! (`kinds/<kind>/sandbox.rs`); [`crate::account::sandbox`] puts them together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{CloudError, ErrorClass};
use crate::model::ObservedResource;

/// Version of the file's shape. 2: model access is an object like any other.
const FORMAT: u32 = 2;

/// How fast the sandbox's world moves, in real seconds. Kept in the file so tests
/// can make it faster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// A customization job's training time (hours in AWS).
    pub job_seconds: f64,
    /// Creating → InService for provisioned throughput (minutes in AWS).
    pub throughput_seconds: f64,
    /// How long a new role cannot be assumed.
    pub iam_propagation_seconds: f64,
    /// One month of commitment.
    pub commitment_month_seconds: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            job_seconds: 8.0,
            throughput_seconds: 3.0,
            iam_propagation_seconds: 2.0,
            commitment_month_seconds: 720.0,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    #[serde(default)]
    pub attrs: Map<String, Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default)]
    pub facts: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    format: u32,
    pub account_id: String,
    pub region: String,
    #[serde(default)]
    pub timing: Timing,
    /// kind → name → object
    #[serde(default)]
    pub objects: BTreeMap<String, BTreeMap<String, Object>>,
    /// clientRequestToken → (kind, name)
    #[serde(default)]
    pub tokens: BTreeMap<String, (String, String)>,
    #[serde(default)]
    pub next_id: u64,
}

/// Errors opening the sandbox file.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "sandbox file {path} is not a bedform sandbox ({detail}); it was left untouched. Move it away to start a fresh sandbox"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error("{} is no longer a sandbox: {detail}", path.display())]
    NoLongerSandbox { path: PathBuf, detail: String },
    #[error("{} now has sandbox format {found}, not {FORMAT}", path.display())]
    FormatChanged { path: PathBuf, found: u32 },
    #[error("sandbox file {path} is for region {found}, not {wanted}; use another --sandbox-file")]
    Region {
        path: PathBuf,
        found: String,
        wanted: String,
    },
}

pub struct Sandbox {
    path: PathBuf,
    state: Mutex<World>,
}

pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub fn rfc3339(seconds: f64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn err(
    class: ErrorClass,
    operation: impl Into<String>,
    message: impl Into<String>,
) -> CloudError {
    CloudError::new(class, operation, message)
}

impl Sandbox {
    /// Opens the sandbox file, or starts a new account if there is none. A file that
    /// cannot be read as a sandbox is an error and is not touched.
    pub fn open(path: &Path, account_id: &str, region: &str) -> Result<Sandbox, SandboxError> {
        let state = match std::fs::read(path) {
            Ok(bytes) => {
                let state: World =
                    serde_json::from_slice(&bytes).map_err(|e| SandboxError::Corrupt {
                        path: path.to_path_buf(),
                        detail: e.to_string(),
                    })?;
                if state.format != FORMAT {
                    return Err(SandboxError::Corrupt {
                        path: path.to_path_buf(),
                        detail: format!("format {} is not {FORMAT}", state.format),
                    });
                }
                if state.region != region {
                    return Err(SandboxError::Region {
                        path: path.to_path_buf(),
                        found: state.region,
                        wanted: region.to_string(),
                    });
                }
                state
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => World {
                format: FORMAT,
                account_id: account_id.to_string(),
                region: region.to_string(),
                timing: Timing::default(),
                objects: BTreeMap::new(),
                tokens: BTreeMap::new(),
                next_id: 1,
            },
            Err(source) => {
                return Err(SandboxError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(Sandbox {
            path: path.to_path_buf(),
            state: Mutex::new(state),
        })
    }

    /// Runs `f` on the world as the file holds it now, and saves it after. The
    /// clock is moved on by the caller ([`crate::account::sandbox`]), which knows
    /// what each kind does as time passes.
    pub fn with_world<T>(
        &self,
        operation: &str,
        f: impl FnOnce(&mut World) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| err(ErrorClass::Fatal, operation, "sandbox state lock poisoned"))?;
        // Processes that share the sandbox (an apply and a `status --wait`, a test
        // changing the clock) take turns: none loses another's change.
        let _turn = self.take_turn().map_err(|e| {
            err(
                ErrorClass::Fatal,
                operation,
                format!("locking the sandbox file: {e}"),
            )
        })?;
        // Another process (an apply in its locked round while this one waits
        // unlocked) may have changed the account since: start from the file.
        if let Some(current) = self
            .reload()
            .map_err(|e| err(ErrorClass::Fatal, operation, e.to_string()))?
        {
            *state = current;
        }
        let result = f(&mut state);
        self.save(&state).map_err(|e| {
            err(
                ErrorClass::Fatal,
                operation,
                format!("saving the sandbox: {e}"),
            )
        })?;
        result
    }

    /// The state in the file, if there is a file yet.
    fn reload(&self) -> Result<Option<World>, SandboxError> {
        let path = || self.path.clone();
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(SandboxError::Io {
                    path: path(),
                    source,
                });
            }
        };
        let state: World =
            serde_json::from_slice(&bytes).map_err(|e| SandboxError::NoLongerSandbox {
                path: path(),
                detail: e.to_string(),
            })?;
        if state.format != FORMAT {
            return Err(SandboxError::FormatChanged {
                path: path(),
                found: state.format,
            });
        }
        Ok(Some(state))
    }

    /// An exclusive lock on a file beside the sandbox, held until the returned
    /// file is dropped. Not the stack lock: this one lasts one read-change-write.
    fn take_turn(&self) -> std::io::Result<std::fs::File> {
        self.make_folder()?;
        let turn = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.path.with_extension("json.turn"))?;
        turn.lock()?;
        Ok(turn)
    }

    /// The file the sandbox lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn make_folder(&self) -> std::io::Result<()> {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
            _ => Ok(()),
        }
    }

    fn save(&self, state: &World) -> std::io::Result<()> {
        self.make_folder()?;
        let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        // The account holds what apply sent, the use-case form included.
        crate::files::write_private(&self.path, &text)
    }
}

impl World {
    pub fn get(&self, kind: &str, name: &str) -> Option<&Object> {
        self.objects.get(kind).and_then(|m| m.get(name))
    }
    pub fn get_mut(&mut self, kind: &str, name: &str) -> Option<&mut Object> {
        self.objects.get_mut(kind).and_then(|m| m.get_mut(name))
    }
    pub fn insert(&mut self, kind: &str, name: &str, object: Object) {
        self.objects
            .entry(kind.to_string())
            .or_default()
            .insert(name.to_string(), object);
    }
    pub fn remove(&mut self, kind: &str, name: &str) -> Option<Object> {
        self.objects.get_mut(kind).and_then(|m| m.remove(name))
    }
    /// The objects of `kind`, by name.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = (&'a String, &'a Object)> {
        self.objects.get(kind).into_iter().flatten()
    }
    /// The objects of `kind`, by name, to change.
    pub fn of_kind_mut<'a>(
        &'a mut self,
        kind: &str,
    ) -> impl Iterator<Item = (&'a String, &'a mut Object)> {
        self.objects.get_mut(kind).into_iter().flatten()
    }
    /// A fresh id for an ARN, never given before in this account.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
    /// The object at `from` with new attributes and tags, under `name` (a rename
    /// when the two differ); an error when there is none.
    pub fn replace(
        &mut self,
        kind: &str,
        from: &str,
        name: &str,
        attrs: &Map<String, Value>,
        tags: &BTreeMap<String, String>,
        operation: &str,
    ) -> Result<&mut Object, CloudError> {
        let Some(mut object) = self.remove(kind, from) else {
            return Err(err(
                ErrorClass::NotFound,
                operation,
                format!("{kind} {from} does not exist"),
            ));
        };
        object.attrs = attrs.clone();
        object.tags = tags.clone();
        self.insert(kind, name, object);
        Ok(self
            .get_mut(kind, name)
            .expect("the object was inserted just now"))
    }
}

impl Object {
    /// The object as an account read reports it.
    pub fn observed(&self, kind: &str, name: &str) -> ObservedResource {
        let mut facts = self.facts.clone();
        facts.remove("readyAt");
        facts.insert("creationTime".into(), json!(rfc3339(self.created)));
        ObservedResource {
            kind: kind.to_string(),
            aws_name: name.to_string(),
            arn: self.arn.clone(),
            attrs: self.attrs.clone(),
            tags: self.tags.clone(),
            status: self.status.clone(),
            status_message: self.status_message.clone(),
            facts,
        }
    }
}
