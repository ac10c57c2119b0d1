//! The sandbox: a simulated account kept in a JSON file, with AWS's semantics (name
//! uniqueness, job and throughput state transitions, commitment rules, idempotency
//! tokens, IAM propagation delay, models that need an agreement) on a scaled clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Cloud, CloudError, ErrorClass};
use crate::cloud::lock::{LockLocation, StackLock};
use crate::kinds::customization_job::{self as job, CUSTOM_MODEL};
use crate::kinds::provisioned_throughput as pt;
use crate::model::plan::Op;
use crate::model::{ObservedAccount, ObservedResource};
use crate::models;

const FORMAT: u32 = 1;
const BUCKET: &str = "Bucket";
const LOG_GROUP: &str = "LogGroup";
const ROLE: &str = "IamRole";
const LOGGING: &str = "InvocationLogging";
const MODEL_ACCESS: &str = "ModelAccess";

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

/// At most this many jobs train at once (a hard quota in AWS).
const JOB_QUOTA: usize = 2;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    #[serde(default)]
    attrs: Map<String, Value>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    created: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_message: Option<String>,
    #[serde(default)]
    facts: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    format: u32,
    account_id: String,
    region: String,
    #[serde(default)]
    timing: Timing,
    /// kind → name → object
    #[serde(default)]
    objects: BTreeMap<String, BTreeMap<String, Object>>,
    /// clientRequestToken → (kind, name)
    #[serde(default)]
    tokens: BTreeMap<String, (String, String)>,
    #[serde(default)]
    agreements: BTreeSet<String>,
    #[serde(default)]
    use_case_form: Option<Value>,
    #[serde(default)]
    next_id: u64,
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
    #[error("sandbox file {path} is for region {found}, not {wanted}; use another --sandbox-file")]
    Region {
        path: PathBuf,
        found: String,
        wanted: String,
    },
}

pub struct Sandbox {
    path: PathBuf,
    state: Mutex<State>,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn rfc3339(seconds: f64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds as i64)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn err(class: ErrorClass, operation: impl Into<String>, message: impl Into<String>) -> CloudError {
    CloudError::new(class, operation, message)
}

impl Sandbox {
    /// Opens the sandbox file, or starts a new account if there is none. A file that
    /// cannot be read as a sandbox is an error and is not touched.
    pub fn open(path: &Path, account_id: &str, region: &str) -> Result<Sandbox, SandboxError> {
        let state = match std::fs::read(path) {
            Ok(bytes) => {
                let state: State =
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
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                format: FORMAT,
                account_id: account_id.to_string(),
                region: region.to_string(),
                timing: Timing::default(),
                objects: BTreeMap::new(),
                tokens: BTreeMap::new(),
                agreements: BTreeSet::new(),
                use_case_form: None,
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

    /// Changes how fast the simulated world moves (tests use this).
    pub fn set_timing(&self, timing: Timing) -> Result<(), CloudError> {
        self.with_state("SetTiming", |state| {
            state.timing = timing;
            Ok(())
        })
    }

    /// Puts objects into a bucket, as users and invocation logging do.
    pub fn put_objects(&self, bucket: &str, count: u64) -> Result<(), CloudError> {
        self.with_state("PutObject", |state| {
            let object = state
                .objects
                .get_mut(BUCKET)
                .and_then(|b| b.get_mut(bucket))
                .ok_or_else(|| {
                    err(
                        ErrorClass::NotFound,
                        "PutObject",
                        format!("NoSuchBucket: {bucket}"),
                    )
                })?;
            let n = object
                .facts
                .get("objectCount")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            object.facts.insert("objectCount".into(), json!(n + count));
            Ok(())
        })
    }

    /// Runs `f` on the state, advances the clock first and saves after.
    fn with_state<T>(
        &self,
        operation: &str,
        f: impl FnOnce(&mut State) -> Result<T, CloudError>,
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
            .map_err(|e| err(ErrorClass::Fatal, operation, e))?
        {
            *state = current;
        }
        advance(&mut state, now());
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
    fn reload(&self) -> Result<Option<State>, String> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", self.path.display())),
        };
        let state: State = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is no longer a sandbox: {e}", self.path.display()))?;
        if state.format != FORMAT {
            return Err(format!(
                "{} now has sandbox format {}, not {FORMAT}",
                self.path.display(),
                state.format
            ));
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

    fn make_folder(&self) -> std::io::Result<()> {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
            _ => Ok(()),
        }
    }

    fn save(&self, state: &State) -> std::io::Result<()> {
        self.make_folder()?;
        let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
        // The account holds what apply sent, the use-case form included.
        crate::files::write_private(&self.path, &text)
    }
}

/// Moves every job and throughput along to where the clock says it is.
fn advance(state: &mut State, now: f64) {
    let timing = state.timing.clone();
    let mut completed: Vec<(String, Object)> = Vec::new();
    if let Some(jobs) = state.objects.get_mut(job::KIND) {
        for (name, j) in jobs.iter_mut() {
            if j.status.as_deref() == Some(job::IN_PROGRESS)
                && now - j.created >= timing.job_seconds
            {
                j.status = Some(job::COMPLETED.into());
                j.facts.insert(
                    "endTime".into(),
                    json!(rfc3339(j.created + timing.job_seconds)),
                );
                completed.push((name.clone(), j.clone()));
            } else if j.status.as_deref() == Some(job::IN_PROGRESS) {
                let progress = (now - j.created) / timing.job_seconds;
                let stage = if progress < 0.2 {
                    "Validation"
                } else if progress < 0.4 {
                    "DataProcessing"
                } else {
                    "Training"
                };
                j.facts.insert("stage".into(), json!(stage));
                j.facts
                    .insert("progress".into(), json!((progress * 100.0).floor() / 100.0));
            }
        }
    }
    for (job_name, j) in completed {
        let model_name = j
            .attrs
            .get("customModelName")
            .and_then(Value::as_str)
            .unwrap_or(&job_name)
            .to_string();
        let id = state.next_id;
        state.next_id += 1;
        let model = Object {
            attrs: Map::new(),
            tags: j.tags.clone(),
            created: j.created + timing.job_seconds,
            status: Some("Active".into()),
            status_message: None,
            facts: Map::from_iter([
                (
                    "baseModel".to_string(),
                    j.attrs.get("baseModel").cloned().unwrap_or(Value::Null),
                ),
                ("jobName".to_string(), json!(job_name)),
            ]),
            arn: Some(format!(
                "arn:aws:bedrock:{}:{}:custom-model/{model_name}/{id:012}",
                state.region, state.account_id
            )),
        };
        state
            .objects
            .entry(CUSTOM_MODEL.into())
            .or_default()
            .insert(model_name, model);
        // The job writes its metrics to the output location.
        if let Some(bucket) = j
            .attrs
            .get("outputS3Uri")
            .and_then(Value::as_str)
            .and_then(crate::names::s3_bucket)
            && let Some(b) = state
                .objects
                .get_mut(BUCKET)
                .and_then(|m| m.get_mut(bucket))
        {
            let n = b
                .facts
                .get("objectCount")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            b.facts.insert("objectCount".into(), json!(n + 1));
        }
    }
    if let Some(throughputs) = state.objects.get_mut(pt::KIND) {
        for t in throughputs.values_mut() {
            let ready_at = t
                .facts
                .get("readyAt")
                .and_then(Value::as_f64)
                .unwrap_or(t.created);
            if matches!(t.status.as_deref(), Some(pt::CREATING) | Some(pt::UPDATING))
                && now >= ready_at
            {
                t.status = Some(pt::IN_SERVICE.into());
            }
        }
    }
}

fn observed(kind: &str, name: &str, o: &Object) -> ObservedResource {
    let mut facts = o.facts.clone();
    facts.remove("readyAt");
    facts.insert("creationTime".into(), json!(rfc3339(o.created)));
    ObservedResource {
        kind: kind.to_string(),
        aws_name: name.to_string(),
        arn: o.arn.clone(),
        attrs: o.attrs.clone(),
        tags: o.tags.clone(),
        status: o.status.clone(),
        status_message: o.status_message.clone(),
        facts,
    }
}

impl State {
    fn get(&self, kind: &str, name: &str) -> Option<&Object> {
        self.objects.get(kind).and_then(|m| m.get(name))
    }
    fn get_mut(&mut self, kind: &str, name: &str) -> Option<&mut Object> {
        self.objects.get_mut(kind).and_then(|m| m.get_mut(name))
    }
    fn insert(&mut self, kind: &str, name: &str, object: Object) {
        self.objects
            .entry(kind.to_string())
            .or_default()
            .insert(name.to_string(), object);
    }

    /// A role that exists and has propagated, by ARN.
    fn assumable_role(&self, operation: &str, role_arn: &str, now: f64) -> Result<(), CloudError> {
        let role = self
            .objects
            .get(ROLE)
            .and_then(|roles| roles.values().find(|r| r.arn.as_deref() == Some(role_arn)));
        match role {
            None => Err(err(
                ErrorClass::Validation,
                operation,
                format!(
                    "ValidationException: Could not assume provided IAM role {role_arn}: the role does not exist"
                ),
            )),
            Some(r) if now - r.created < self.timing.iam_propagation_seconds => Err(err(
                ErrorClass::IamPropagation,
                operation,
                format!("ValidationException: Could not assume provided IAM role {role_arn}"),
            )),
            Some(_) => Ok(()),
        }
    }

    fn model_usable(&self, operation: &str, model: &str) -> Result<(), CloudError> {
        if let Some(name) = models::custom_model_name(model) {
            return match self.get(CUSTOM_MODEL, name) {
                Some(_) => Ok(()),
                None => Err(err(
                    ErrorClass::Validation,
                    operation,
                    format!("ValidationException: custom model {name} does not exist"),
                )),
            };
        }
        if models::needs_agreement(model) && !self.agreements.contains(model) {
            return Err(err(
                ErrorClass::AccessDenied,
                operation,
                format!(
                    "AccessDeniedException: You don't have access to the model {model}; create its Marketplace agreement (ModelAccess)"
                ),
            ));
        }
        Ok(())
    }

    fn bucket_exists(&self, operation: &str, uri: &str) -> Result<(), CloudError> {
        let bucket = crate::names::s3_bucket(uri).unwrap_or_default();
        if self.get(BUCKET, bucket).is_none() {
            return Err(err(
                ErrorClass::Validation,
                operation,
                format!("ValidationException: S3 bucket {bucket} of {uri} does not exist"),
            ));
        }
        Ok(())
    }

    fn create(
        &mut self,
        kind: &str,
        name: &str,
        attrs: &Map<String, Value>,
        tags: &BTreeMap<String, String>,
        token: Option<&str>,
        now: f64,
    ) -> Result<(), CloudError> {
        let operation = format!("Create{kind} {name}");
        if let Some(token) = token
            && let Some((k, n)) = self.tokens.get(token)
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
        if self.get(kind, name).is_some() {
            let code = match kind {
                BUCKET => "BucketAlreadyOwnedByYou",
                ROLE => "EntityAlreadyExists",
                LOG_GROUP => "ResourceAlreadyExistsException",
                _ => "ResourceInUseException",
            };
            return Err(err(
                ErrorClass::Conflict,
                operation,
                format!("{code}: {kind} {name} already exists"),
            ));
        }
        let mut object = Object {
            attrs: attrs.clone(),
            tags: tags.clone(),
            created: now,
            ..Object::default()
        };
        match kind {
            BUCKET => {
                object.arn = Some(format!("arn:aws:s3:::{name}"));
                object.facts.insert("objectCount".into(), json!(0));
            }
            LOG_GROUP => {
                object.arn = Some(format!(
                    "arn:aws:logs:{}:{}:log-group:{name}",
                    self.region, self.account_id
                ));
                object.facts.insert("storedBytes".into(), json!(0));
            }
            ROLE => {
                let path = attrs.get("path").and_then(Value::as_str).unwrap_or("/");
                object.arn = Some(format!("arn:aws:iam::{}:role{path}{name}", self.account_id));
            }
            LOGGING => {
                self.check_logging(&operation, attrs, now)?;
                object.attrs = attrs.clone();
            }
            job::KIND => {
                let role = attrs
                    .get("roleArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.assumable_role(&operation, role, now)?;
                for key in ["baseModel"] {
                    if let Some(model) = attrs.get(key).and_then(Value::as_str) {
                        self.model_usable(&operation, model)?;
                    }
                }
                if let Some(teacher) = attrs
                    .get("teacher")
                    .and_then(|t| t.get("model"))
                    .and_then(Value::as_str)
                {
                    self.model_usable(&operation, teacher)?;
                }
                let training = attrs.get("trainingData");
                let uri = training
                    .and_then(|t| {
                        t.get("s3Uri")
                            .or_else(|| t.get("invocationLogs").and_then(|l| l.get("s3Uri")))
                    })
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.bucket_exists(&operation, uri)?;
                self.bucket_exists(
                    &operation,
                    attrs
                        .get("outputS3Uri")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                )?;
                let running = self
                    .objects
                    .get(job::KIND)
                    .map(|jobs| {
                        jobs.values()
                            .filter(|j| j.status.as_deref() == Some(job::IN_PROGRESS))
                            .count()
                    })
                    .unwrap_or(0);
                if running >= JOB_QUOTA {
                    return Err(err(
                        ErrorClass::QuotaExceeded,
                        operation,
                        format!(
                            "ServiceQuotaExceededException: at most {JOB_QUOTA} customization jobs run at once in this account"
                        ),
                    ));
                }
                let id = self.next_id;
                self.next_id += 1;
                object.arn = Some(format!(
                    "arn:aws:bedrock:{}:{}:model-customization-job/{id:012}",
                    self.region, self.account_id
                ));
                object.status = Some(job::IN_PROGRESS.into());
                object.facts.insert("stage".into(), json!("Validation"));
                object.facts.insert(
                    "baseModel".into(),
                    attrs.get("baseModel").cloned().unwrap_or(Value::Null),
                );
            }
            pt::KIND => {
                let model = attrs
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.model_usable(&operation, model)?;
                let units = attrs.get("modelUnits").and_then(Value::as_i64).unwrap_or(0);
                if units < 1 {
                    return Err(err(
                        ErrorClass::Validation,
                        operation,
                        "ValidationException: modelUnits must be at least 1",
                    ));
                }
                let months = match attrs.get("commitment").and_then(Value::as_str) {
                    Some("oneMonth") => 1.0,
                    Some("sixMonths") => 6.0,
                    _ => 0.0,
                };
                if months > 0.0 {
                    // Rounded up to whole seconds: never earlier than the term's end.
                    let end = (now + months * self.timing.commitment_month_seconds).ceil();
                    object
                        .facts
                        .insert("commitmentExpirationTime".into(), json!(rfc3339(end)));
                }
                let id = self.next_id;
                self.next_id += 1;
                object.arn = Some(format!(
                    "arn:aws:bedrock:{}:{}:provisioned-model/{id:012}",
                    self.region, self.account_id
                ));
                object.status = Some(pt::CREATING.into());
                object.facts.insert(
                    "readyAt".into(),
                    json!(now + self.timing.throughput_seconds),
                );
            }
            _ => {
                return Err(err(
                    ErrorClass::Validation,
                    operation,
                    format!("the sandbox has no {kind}"),
                ));
            }
        }
        if let Some(token) = token {
            self.tokens
                .insert(token.to_string(), (kind.to_string(), name.to_string()));
        }
        self.insert(kind, name, object);
        Ok(())
    }

    fn check_logging(
        &self,
        operation: &str,
        attrs: &Map<String, Value>,
        now: f64,
    ) -> Result<(), CloudError> {
        if let Some(cw) = attrs.get("cloudWatchConfig").filter(|v| !v.is_null()) {
            let group = cw
                .get("logGroupName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if self.get(LOG_GROUP, group).is_none() {
                return Err(err(
                    ErrorClass::Validation,
                    operation,
                    format!("ValidationException: log group {group} does not exist"),
                ));
            }
            let role = cw
                .get("roleArn")
                .and_then(Value::as_str)
                .unwrap_or_default();
            self.assumable_role(operation, role, now).map_err(|e| match e.class {
                ErrorClass::IamPropagation => err(ErrorClass::IamPropagation, operation, format!("ValidationException: Failed to validate permissions for log group: {group}, with role: {role}")),
                _ => e,
            })?;
        }
        if let Some(s3) = attrs.get("s3Config").filter(|v| !v.is_null()) {
            let bucket = s3
                .get("bucketName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if self.get(BUCKET, bucket).is_none() {
                return Err(err(
                    ErrorClass::Validation,
                    operation,
                    format!("ValidationException: bucket {bucket} does not exist"),
                ));
            }
        }
        Ok(())
    }

    fn update(
        &mut self,
        kind: &str,
        name: &str,
        attrs: &Map<String, Value>,
        tags: &BTreeMap<String, String>,
        current: Option<&str>,
        now: f64,
    ) -> Result<(), CloudError> {
        let operation = format!("Update{kind} {name}");
        match kind {
            MODEL_ACCESS => {
                for entry in attrs
                    .get("createAgreements")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(model) = entry.get("model").and_then(Value::as_str) {
                        self.agreements.insert(model.to_string());
                    }
                }
                for model in attrs
                    .get("deleteAgreements")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(model) = model.as_str() {
                        self.agreements.remove(model);
                    }
                }
                if let Some(form) = attrs.get("useCaseForm")
                    && self.use_case_form.is_none()
                {
                    self.use_case_form = Some(form.clone());
                }
                return Ok(());
            }
            LOGGING => {
                self.check_logging(&operation, attrs, now)?;
                let object = Object {
                    attrs: attrs.clone(),
                    created: now,
                    ..Object::default()
                };
                self.insert(LOGGING, name, object);
                return Ok(());
            }
            _ => {}
        }
        let from = current.unwrap_or(name);
        if kind == pt::KIND {
            let Some(existing) = self.get(kind, from) else {
                return Err(err(
                    ErrorClass::NotFound,
                    operation,
                    format!("ResourceNotFoundException: {from}"),
                ));
            };
            let before_model = existing
                .attrs
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let after_model = attrs
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if existing.attrs.get("modelUnits") != attrs.get("modelUnits")
                || existing.attrs.get("commitment") != attrs.get("commitment")
            {
                return Err(err(
                    ErrorClass::Validation,
                    operation,
                    "ValidationException: only the name and the custom model can be updated",
                ));
            }
            if before_model != after_model {
                let base = |m: &str| {
                    models::custom_model_name(m)
                        .and_then(|n| self.get(CUSTOM_MODEL, n))
                        .and_then(|o| o.facts.get("baseModel").cloned())
                };
                match (base(&before_model), base(&after_model)) {
                    (Some(a), Some(b)) if a == b => {}
                    (_, None) => {
                        return Err(err(
                            ErrorClass::Validation,
                            operation,
                            format!("ValidationException: model {after_model} does not exist"),
                        ));
                    }
                    _ => {
                        return Err(err(
                            ErrorClass::Validation,
                            operation,
                            "ValidationException: the new model must be a custom model of the same base model",
                        ));
                    }
                }
            }
            if from != name && self.get(kind, name).is_some() {
                return Err(err(
                    ErrorClass::Conflict,
                    operation,
                    format!("ResourceInUseException: {name} already exists"),
                ));
            }
        }
        let Some(mut object) = self.objects.get_mut(kind).and_then(|m| m.remove(from)) else {
            return Err(err(
                ErrorClass::NotFound,
                operation,
                format!("{kind} {from} does not exist"),
            ));
        };
        object.attrs = attrs.clone();
        object.tags = tags.clone();
        if kind == pt::KIND {
            object.status = Some(pt::UPDATING.into());
            object.facts.insert(
                "readyAt".into(),
                json!(now + self.timing.throughput_seconds / 2.0),
            );
        }
        self.insert(kind, name, object);
        Ok(())
    }

    fn delete(
        &mut self,
        kind: &str,
        name: &str,
        empty_first: bool,
        now: f64,
    ) -> Result<(), CloudError> {
        let operation = format!("Delete{kind} {name}");
        let Some(object) = self.get(kind, name) else {
            // Deleting what is gone is done (a re-run after a crash).
            return Ok(());
        };
        match kind {
            BUCKET => {
                let objects = object
                    .facts
                    .get("objectCount")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                if objects > 0 && !empty_first {
                    return Err(err(
                        ErrorClass::Conflict,
                        operation,
                        format!("BucketNotEmpty: the bucket holds {objects} objects"),
                    ));
                }
            }
            pt::KIND => {
                if let Some(expiry) = object
                    .facts
                    .get("commitmentExpirationTime")
                    .and_then(Value::as_str)
                {
                    let end = OffsetDateTime::parse(expiry, &Rfc3339)
                        .map(|t| t.unix_timestamp() as f64)
                        .unwrap_or(f64::MAX);
                    if end > now {
                        return Err(err(
                            ErrorClass::Conflict,
                            operation,
                            format!("ConflictException: the commitment runs until {expiry}"),
                        ));
                    }
                }
            }
            CUSTOM_MODEL => {
                let identity = models::custom_model_identity(name);
                let served = self.objects.get(pt::KIND).is_some_and(|m| {
                    m.values().any(|t| {
                        t.attrs.get("model").and_then(Value::as_str) == Some(identity.as_str())
                    })
                });
                if served {
                    return Err(err(
                        ErrorClass::Conflict,
                        operation,
                        "ResourceInUseException: a provisioned throughput serves this model",
                    ));
                }
            }
            _ => {}
        }
        if let Some(objects) = self.objects.get_mut(kind) {
            objects.remove(name);
        }
        Ok(())
    }
}

#[async_trait]
impl Cloud for Sandbox {
    async fn caller_account(&self) -> Result<String, CloudError> {
        self.with_state("GetCallerIdentity", |state| Ok(state.account_id.clone()))
    }

    async fn observe(&self, _scope: &super::Scope) -> Result<ObservedAccount, CloudError> {
        self.with_state("Observe", |state| {
            let mut resources = Vec::new();
            for (kind, objects) in &state.objects {
                for (name, object) in objects {
                    resources.push(observed(kind, name, object));
                }
            }
            let mut availability = Map::new();
            for model in &state.agreements {
                availability.insert(
                    model.clone(),
                    json!({"agreementAvailability": "AVAILABLE", "authorizationStatus": "AUTHORIZED", "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}),
                );
            }
            resources.push(ObservedResource {
                kind: MODEL_ACCESS.into(),
                aws_name: crate::kinds::model_access::AWS_NAME.into(),
                attrs: Map::from_iter([
                    ("agreements".to_string(), json!(state.agreements)),
                    ("useCaseForm".to_string(), state.use_case_form.clone().unwrap_or(Value::Null)),
                ]),
                facts: Map::from_iter([("availability".to_string(), Value::Object(availability))]),
                ..ObservedResource::default()
            });
            Ok(ObservedAccount {
                account_id: state.account_id.clone(),
                region: state.region.clone(),
                observed_at: rfc3339(now()),
                resources,
            })
        })
    }

    async fn get(&self, kind: &str, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        self.with_state("Get", |state| {
            Ok(state.get(kind, name).map(|o| observed(kind, name, o)))
        })
    }

    async fn execute(&self, op: &Op) -> Result<(), CloudError> {
        let at = now();
        self.with_state("Execute", |state| match op {
            Op::Create {
                kind,
                name,
                attrs,
                tags,
                client_request_token,
            } => state.create(kind, name, attrs, tags, client_request_token.as_deref(), at),
            Op::Update {
                kind,
                name,
                attrs,
                tags,
                current_name,
                ..
            } => state.update(kind, name, attrs, tags, current_name.as_deref(), at),
            Op::Delete {
                kind,
                name,
                empty_first,
            } => state.delete(kind, name, *empty_first, at),
            Op::StopJob { name } => {
                let operation = format!("StopModelCustomizationJob {name}");
                let Some(j) = state.get_mut(job::KIND, name) else {
                    return Err(err(
                        ErrorClass::NotFound,
                        operation,
                        "ResourceNotFoundException",
                    ));
                };
                if j.status.as_deref() == Some(job::IN_PROGRESS) {
                    j.status = Some(job::STOPPED.into());
                    j.status_message = Some("Stopped by request".into());
                }
                Ok(())
            }
            Op::Untag { kind, name, keys } => {
                if let Some(object) = state.get_mut(kind, name) {
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
        self.with_state("TagResource", |state| {
            let Some(object) = state.get_mut(kind, name) else {
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

    /// The sandbox always locks, in a file beside its own.
    /// The sandbox's clock runs fast: a job takes seconds.
    fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn inference_unavailable(&self) -> Option<&'static str> {
        Some(
            "the sandbox simulates no model, so it cannot run model inference; checks run against AWS",
        )
    }

    fn stack_lock(&self, _location: Option<&LockLocation>) -> Option<StackLock> {
        Some(StackLock::for_sandbox(&self.path))
    }
}
