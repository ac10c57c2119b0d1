//! How the planner treats a customization job and the custom model it produces:
//! create-once jobs named by their training hash, retraining, stops, retries and
//! the superseded model's fate.

use serde_json::{Value, json};

use super::*;
use crate::kinds::face::PlanCx;
use crate::kinds::face::{ExportCx, Exported, KindBehaviour, NotExported};
use crate::kinds::lifecycle;
use crate::model::Scope;
use crate::model::plan::{Action, Change, FieldDiff, Op, WaitOn};
use crate::model::{Address, DesiredResource, ObservedResource, TAG_ADDRESS};

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// A customization job's status (`ModelCustomizationJobStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    InProgress,
    Completed,
    Failed,
    Stopping,
    Stopped,
}

impl JobStatus {
    /// The status AWS wrote, if it is one the API documents.
    pub fn parse(status: &str) -> Option<JobStatus> {
        [
            (IN_PROGRESS, JobStatus::InProgress),
            (COMPLETED, JobStatus::Completed),
            (FAILED, JobStatus::Failed),
            (STOPPING, JobStatus::Stopping),
            (STOPPED, JobStatus::Stopped),
        ]
        .into_iter()
        .find_map(|(name, parsed)| (name == status).then_some(parsed))
    }
}

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // After the throughput that serves its model, before the model itself.
    teardown_rank: 1,
    singleton: false,
    // AWS chooses the job's ARN when it starts.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &["requestMetadataFilters"],
    status_class: job_status_class,
    // Trains for hours after AWS accepted it.
    converges: true,
    replacement_waits_until_ready: false,
    retried_only_when_asked: true,
    not_exported_because: None,
    // `statusDetails` of `GetModelCustomizationJob`, in the order they run.
    stages: &[
        crate::kinds::facts::Stage {
            name: "Validation",
            said: "validation",
        },
        crate::kinds::facts::Stage {
            name: "DataProcessing",
            said: "data processing",
        },
        crate::kinds::facts::Stage {
            name: "Training",
            said: "training",
        },
    ],
    inference: None,
    made_by: None,
    tags: Some(crate::kinds::facts::BEDROCK_TAGS),
};

fn job_status_class(status: &str) -> crate::kinds::facts::StatusClass {
    use crate::kinds::facts::StatusClass;
    match JobStatus::parse(status) {
        Some(JobStatus::InProgress | JobStatus::Stopping) => StatusClass::Transitional,
        // A job stopped outside bedform ended too: it is not retried by itself.
        Some(JobStatus::Failed | JobStatus::Stopped) => StatusClass::Failed,
        Some(JobStatus::Completed) => StatusClass::Ready,
        None => StatusClass::Undocumented,
    }
}

fn attempt_name(base: &str, attempt: u32) -> String {
    if attempt <= 1 {
        base.to_string()
    } else {
        format!("{base}-r{attempt}")
    }
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::CustomizationJob
    }
    /// The job, and the custom model it trains.
    fn scope(&self, desired: &DesiredResource, scope: &mut Scope) {
        scope.declare(&desired.address.kind, &desired.aws_name);
        if let Some(model) = model_name_of(desired) {
            scope.declare(CUSTOM_MODEL, model);
        }
    }
    fn name_member(&self) -> &'static str {
        "jobName"
    }
    fn name_field(&self) -> String {
        "`jobName` (a prefix the spec hash follows) or `adopted.jobName`".into()
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        !matches!(
            observed.status.as_deref(),
            Some(FAILED | STOPPED | STOPPING)
        )
    }

    fn export_document_name(&self, observed: &ObservedResource) -> Option<String> {
        let hash = exported_training_hash(&observed.attrs);
        observed
            .aws_name
            .strip_suffix(&format!("-{hash}"))
            .map(str::to_string)
    }

    fn export_needs(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        let role = observed.attrs.get("roleArn").and_then(Value::as_str);
        cx.observed
            .of_kind("IamRole")
            .filter(|r| r.arn.is_some() && r.arn.as_deref() == role)
            .map(|r| (r.kind.clone(), r.aws_name.clone()))
            .collect()
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let attrs = &observed.attrs;
        // A completed job whose model is gone: its document would train again.
        if observed.status.as_deref() == Some(COMPLETED)
            && let Some(model) = attrs.get("customModelName").and_then(Value::as_str)
            && cx.observed.find(CUSTOM_MODEL, model).is_none()
        {
            return Err(NotExported::ModelGone {
                model: model.to_string(),
            });
        }
        let get = |key: &str| attrs.get(key).filter(|v| !v.is_null()).cloned();
        let mut out = Exported::default();
        let kind = match attrs.get("customizationType").and_then(Value::as_str) {
            Some("DISTILLATION") => "distillation",
            Some("CONTINUED_PRE_TRAINING") => "continuedPreTraining",
            _ => "fineTuning",
        };
        out.set("type", json!(kind));
        out.set("baseModel", get("baseModel").unwrap_or(Value::Null));
        match get("teacher") {
            Some(teacher) => out.set("teacher", teacher),
            None if kind == "distillation" => {
                return Err(NotExported::Missing(
                    "teacher model, which a distillation job declares",
                ));
            }
            None => {}
        }
        let training = match lowered_training_data(attrs) {
            Some(Value::Object(data)) => {
                if data
                    .get("invocationLogs")
                    .is_some_and(|logs| logs.get("requestMetadataFilters").is_some())
                {
                    out.warnings.push(
                        "`trainingData.invocationLogs.requestMetadataFilters` is written in clear: AWS marks request metadata filters sensitive, and the manifest must hold them for the job's training hash to match; review them before committing".into(),
                    );
                }
                Value::Object(data)
            }
            _ => return Err(NotExported::Missing("training data")),
        };
        out.set("trainingData", training);
        if let Some(Value::Array(v)) =
            get("validationData").filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        {
            out.set("validationData", Value::Array(v));
        }
        out.set(
            "output",
            json!({"s3Uri": get("outputS3Uri").unwrap_or(Value::Null)}),
        );
        let role = attrs
            .get("roleArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        out.set(
            "role",
            cx.reference_by_arn("IamRole", role).unwrap_or(json!(role)),
        );
        if let Some(Value::Object(h)) =
            get("hyperParameters").filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        {
            out.set("hyperParameters", Value::Object(h));
        }
        out.set(
            "kmsKeyId",
            get("customModelKmsKeyId").unwrap_or(Value::Null),
        );
        out.set("vpcConfig", get("vpcConfig").unwrap_or(Value::Null));
        let hash = exported_training_hash(attrs);
        let model = attrs
            .get("customModelName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = cx
            .names
            .get(&(KIND.to_string(), observed.aws_name.clone()))
            .cloned()
            .unwrap_or_default();
        let default = format!("{name}-{hash}");
        if observed.aws_name != default || model != default {
            out.set(
                "adopted",
                json!({"jobName": observed.aws_name, "customModelName": model, "trainingHash": hash}),
            );
        }
        out.tags_of(observed);
        Ok(out)
    }

    fn owned_objects(&self, desired: &DesiredResource) -> Vec<(String, String)> {
        let mut objects = vec![(KIND.to_string(), desired.aws_name.clone())];
        if let Some(model) = model_name_of(desired) {
            objects.push((CUSTOM_MODEL.to_string(), model.to_string()));
        }
        objects
    }

    fn adoption_refusal(
        &self,
        desired: &DesiredResource,
        observed: &ObservedResource,
    ) -> Option<String> {
        if observed.kind != KIND {
            return None;
        }
        let differing: Vec<&str> = TRAINING_FIELDS
            .iter()
            .chain(&["customModelName"])
            .copied()
            .filter(|f| {
                desired.attrs.get(*f).filter(|v| !v.is_null())
                    != observed.attrs.get(*f).filter(|v| !v.is_null())
            })
            .collect();
        (!differing.is_empty()).then(|| {
            format!(
                "job `{}` was run with other `{}` than the manifest declares; a job cannot be changed, so adopting it would hide what it trained. Declare what it ran (`bedform export` writes it), or let the plan train a new job",
                observed.aws_name,
                differing.join("`, `")
            )
        })
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let address = &desired.address;
        let model_name = model_name_of(desired).unwrap_or_default().to_string();
        // Attempts of the current spec: NAME, NAME-r2, NAME-r3...
        let mut attempts: Vec<(u32, &ObservedResource)> = Vec::new();
        for attempt in 1..=20 {
            if let Some(job) = cx.find(KIND, &attempt_name(&desired.aws_name, attempt)) {
                attempts.push((attempt, job));
            }
        }
        for (_, job) in &attempts {
            cx.claim(job);
            if !job.owned_by(cx.stack()) {
                return vec![lifecycle::unmanaged(cx, desired, job)];
            }
        }
        let previous: Vec<&ObservedResource> = cx
            .owned_for(KIND, address)
            .into_iter()
            .filter(|j| !attempts.iter().any(|(_, a)| a.aws_name == j.aws_name))
            .collect();
        let model = cx.find(CUSTOM_MODEL, &model_name);
        if let Some(model) = model {
            cx.claim(model);
        }
        let mut changes = Vec::new();
        // Old generations: stop what still runs; release models nothing serves.
        for job in &previous {
            cx.claim(job);
            if job.status.as_deref() == Some(IN_PROGRESS) {
                changes.push(
                    Change::new(address.clone(), job.aws_name.clone(), Action::Stop)
                        .because("its spec changed while it was training; a new job replaces it")
                        .with_status(job)
                        .with_op(Op::StopJob {
                            name: job.aws_name.clone(),
                        }),
                );
            }
        }
        let old_models_at = changes.len();

        let latest = attempts.last().copied();
        match latest {
            Some((_, job)) if job.status.as_deref() == Some(COMPLETED) => {
                let mut change = Change::new(address.clone(), job.aws_name.clone(), Action::NoOp)
                    .with_status(job);
                // What a caller needs to call the model it trained.
                if let Some(model) = model {
                    change = change.note(format!(
                        "trained custom model `{}`, {}",
                        model.aws_name,
                        model
                            .arn
                            .as_deref()
                            .unwrap_or("whose ARN AWS did not report")
                    ));
                }
                if model.is_none() {
                    change = change.warn(format!(
                        "the job completed but its custom model `{model_name}` is gone; re-run with --retry-failed to train again"
                    ));
                    if cx.options.retry_failed {
                        return vec![new_job(
                            cx,
                            desired,
                            attempts.len() as u32 + 1,
                            "its custom model no longer exists",
                            &previous,
                        )];
                    }
                }
                for note in untrained_changes(desired, job) {
                    change.notes.push(note);
                }
                changes.push(retagged(cx, desired, job, change));
            }
            Some((_, job))
                if matches!(job.status.as_deref(), Some(IN_PROGRESS) | Some(STOPPING)) =>
            {
                changes.push(retagged(
                    cx,
                    desired,
                    job,
                    Change::new(address.clone(), job.aws_name.clone(), Action::NoOp)
                        .with_status(job)
                        .note("training; nothing to do until it finishes"),
                ));
            }
            Some((attempt, job)) => {
                // Failed or stopped outside bedform.
                if cx.options.retry_failed {
                    let why = format!(
                        "attempt `{}` ended {}",
                        job.aws_name,
                        job.status.as_deref().unwrap_or("unknown")
                    );
                    changes.push(new_job(cx, desired, attempt + 1, &why, &[]));
                } else {
                    let mut change =
                        Change::new(address.clone(), job.aws_name.clone(), Action::NoOp)
                            .with_status(job)
                            .warn("the job did not complete; run plan/apply with --retry-failed to train again under a new name");
                    // bedform stops only the jobs of an earlier spec, never the
                    // latest attempt: stopped, it was stopped outside bedform.
                    if job.status.as_deref() == Some(STOPPED) {
                        change.drift = true;
                        change = change.because("it was stopped outside bedform");
                    }
                    changes.push(change);
                }
            }
            None => {
                let why = if previous.is_empty() {
                    "a new customization job".to_string()
                } else {
                    "the training inputs changed; jobs cannot be changed, so a new job trains a new model".to_string()
                };
                let mut change = new_job(cx, desired, 1, &why, &previous);
                if desired.prevent_destroy && !previous.is_empty() {
                    change
                        .warnings
                        .push("`preventDestroy`: the previous model is kept".into());
                }
                changes.push(change);
            }
        }
        // What becomes of the models earlier specs trained, planned once it is
        // known which job trains the current one.
        let trainer = changes
            .iter()
            .find(|c| c.retrains)
            .map(|c| c.aws_name.clone())
            .or_else(|| latest.map(|(_, j)| j.aws_name.clone()));
        let new_model = NewModel {
            name: &model_name,
            ready: model.is_some(),
            coming: changes.iter().any(|c| c.retrains)
                || latest.is_some_and(|(_, j)| j.status.as_deref() == Some(IN_PROGRESS)),
            trainer,
        };
        let mut old_models = Vec::new();
        for old_model in cx.owned_for(CUSTOM_MODEL, address) {
            if old_model.aws_name == model_name {
                continue;
            }
            cx.claim(old_model);
            old_models.extend(plan_old_model(cx, desired, old_model, &new_model));
        }
        changes.splice(old_models_at..old_models_at, old_models);
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        // A job of a resource no longer declared: stop it if it runs; job records
        // cannot be deleted. Its model is planned as a CustomModel orphan.
        if observed.status.as_deref() == Some(IN_PROGRESS) {
            let _ = cx;
            return vec![
                Change::new(
                    lifecycle::orphan_address(observed),
                    observed.aws_name.clone(),
                    Action::Stop,
                )
                .because("it is no longer declared")
                .with_status(observed)
                .with_op(Op::StopJob {
                    name: observed.aws_name.clone(),
                }),
            ];
        }
        Vec::new()
    }
}

/// The change that starts a job (attempt 1, or a retry under `NAME-rN`).
fn new_job(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    attempt: u32,
    why: &str,
    previous: &[&ObservedResource],
) -> Change {
    let name = attempt_name(&desired.aws_name, attempt);
    let token = crate::hash::client_request_token(
        cx.stack(),
        &desired.address.to_string(),
        &name,
        &desired.spec_hash,
    );
    let op = Op::Create {
        kind: KIND.into(),
        name: name.clone(),
        attrs: desired.attrs.clone(),
        tags: desired.tags_with_ownership(cx.stack()),
        client_request_token: Some(token),
    };
    let (action, fields) = match previous
        .iter()
        .max_by_key(|j| j.fact_str("creationTime").unwrap_or(""))
    {
        Some(old) => {
            let mut fields = lifecycle::diff_attrs(&BEHAVIOUR, &desired.attrs, &old.attrs);
            fields.retain(|f| f.path != "customModelName");
            for field in &mut fields {
                field.forces_replacement = TRAINING_FIELDS.contains(&field.path.as_str());
            }
            (Action::Replace, fields)
        }
        None => (Action::Create, lifecycle::created_fields(desired)),
    };
    let mut change = Change::new(desired.address.clone(), name, action)
        .because(why)
        .with_fields(fields)
        .with_op(op);
    change.create_before_destroy = true;
    change.retrains = true;
    change.warnings.push(format!(
        "starts a training job (billed per token processed) producing custom model `{}`",
        model_name_of(desired).unwrap_or_default()
    ));
    change
}

/// Changes to fields that do not retrain, on a job that already ran.
fn untrained_changes(desired: &DesiredResource, job: &ObservedResource) -> Vec<String> {
    let mut notes = Vec::new();
    for field in ["roleArn", "outputS3Uri", "customModelKmsKeyId", "vpcConfig"] {
        let declared = desired.attrs.get(field).filter(|v| !v.is_null());
        let used = job.attrs.get(field).filter(|v| !v.is_null());
        if job.attrs.contains_key(field) && declared != used {
            notes.push(format!(
                "`{field}` changed; it applies to the next training run, not to the finished job"
            ));
        }
    }
    notes
}

/// A model trained by an earlier spec of a declared job.
/// `change` of a job that stays, with its tags (and its custom model's) brought to
/// the declared ones in place when they differ: tags never retrain.
fn retagged(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    job: &ObservedResource,
    mut change: Change,
) -> Change {
    let tags = desired.tags_with_ownership(cx.stack());
    let Some(diff) = lifecycle::diff_tags(&tags, &job.tags) else {
        return change;
    };
    change.action = Action::Update;
    change.fields.push(diff);
    change = change.because(
        "its tags changed; jobs and custom models are tagged in place, without training again",
    );
    change.ops.push(Op::Update {
        kind: KIND.into(),
        name: job.aws_name.clone(),
        attrs: desired.attrs.clone(),
        tags,
        fields: vec!["tags".into()],
        current_name: None,
    });
    change
}

/// The custom model the declared spec trains.
struct NewModel<'a> {
    name: &'a str,
    /// Trained and there.
    ready: bool,
    /// A job trains it, or this plan starts one.
    coming: bool,
    /// The job that trains it, once one is started or planned.
    trainer: Option<String>,
}

/// A model trained by an earlier spec of `desired`: deleted once the new model is
/// ready and nothing serves the old one any more, the throughputs this plan swaps
/// to the new model first; kept with `supersededModel: keep` or `preventDestroy`,
/// and while anything else serves it. The plan says which, before training starts.
fn plan_old_model(
    cx: &PlanCx<'_>,
    desired: &DesiredResource,
    old: &ObservedResource,
    new: &NewModel<'_>,
) -> Vec<Change> {
    let address = lifecycle::orphan_address(old);
    let kept = |why: String| {
        vec![Change::new(address.clone(), old.aws_name.clone(), Action::NoOp).note(why)]
    };
    let new_model = new.name;
    // bedform supersedes the model on its own; `preventDestroy` keeps it, without
    // blocking the plan as a refusal would.
    if desired.prevent_destroy || old.tag(crate::model::TAG_PREVENT_DESTROY) == Some("true") {
        return kept(format!(
            "previous custom model `{}` is kept: its job has `preventDestroy: true`; delete it by hand when it is no longer needed",
            old.aws_name
        ));
    }
    if desired.keeps_superseded {
        return kept(format!(
            "previous custom model `{}` is kept after `{new_model}` is trained (`supersededModel: keep`)",
            old.aws_name
        ));
    }
    if !new.ready && !new.coming {
        return kept(format!(
            "previous custom model `{}` is kept: no job is training `{new_model}`",
            old.aws_name
        ));
    }
    let (swapped, still_served) = servers_of(cx, old);
    if let Some(server) = still_served {
        return kept(format!(
            "previous custom model `{}` is kept while {server} serves it",
            old.aws_name
        ));
    }
    let mut change = if new.ready {
        delete_model(
            address.clone(),
            old,
            format!("superseded by `{new_model}`, which is trained"),
        )
    } else {
        let mut change = delete_model(
            address.clone(),
            old,
            format!(
                "superseded by `{new_model}`, once it is trained (`supersededModel: delete`, the default)"
            ),
        );
        change.waits_on = Some(WaitOn {
            address: desired.address.clone(),
            kind: CUSTOM_MODEL.into(),
            name: new_model.to_string(),
            job: new.trainer.clone(),
            reason: format!("custom model `{new_model}` is still to be trained"),
        });
        change
    };
    if !swapped.is_empty() {
        let names: Vec<String> = swapped.iter().map(ToString::to_string).collect();
        change.notes.push(format!(
            "waits for {} to be pointed at `{new_model}` first",
            names.join(", ")
        ));
    }
    change.depends_on = swapped.into_iter().collect();
    vec![change]
}

/// The throughputs of this stack that serve `old` now and that this plan points at
/// another model, and the first of any others that serve it and will go on doing so.
fn servers_of(cx: &PlanCx<'_>, old: &ObservedResource) -> (Vec<Address>, Option<String>) {
    use crate::kinds::provisioned_throughput as pt;
    let identity = crate::models::custom_model_identity(&old.aws_name);
    let mut swapped = Vec::new();
    for t in cx.observed.of_kind(pt::KIND) {
        if t.attrs.get("model").and_then(Value::as_str) != Some(identity.as_str()) {
            continue;
        }
        let moved = t
            .owned_by(cx.stack())
            .then(|| t.tag(TAG_ADDRESS).and_then(Address::parse))
            .flatten()
            .filter(|a| {
                cx.desired
                    .get(a)
                    .is_some_and(|d| !d.absent && d.attr_str("model") != Some(identity.as_str()))
            });
        match moved {
            Some(address) => swapped.push(address),
            None => {
                return (
                    swapped,
                    Some(format!("provisioned throughput `{}`", t.aws_name)),
                );
            }
        }
    }
    (swapped, None)
}

fn delete_model(address: Address, model: &ObservedResource, reason: String) -> Change {
    let mut change = Change::new(address, model.aws_name.clone(), Action::Delete)
        .because(reason)
        .with_op(Op::Delete {
            kind: CUSTOM_MODEL.into(),
            name: model.aws_name.clone(),
            empty_first: false,
        })
        .warn(format!(
            "deletes trained custom model `{}`; training it again costs a new job",
            model.aws_name
        ));
    change.deletes_data = true;
    change.fields.push(FieldDiff {
        path: "customModel".into(),
        before: Some(Value::String(model.aws_name.clone())),
        after: None,
        forces_replacement: false,
        sensitive: false,
    });
    change
}

/// Custom models whose job is no longer declared.
pub struct CustomModelBehaviour;
pub static CUSTOM_MODEL_BEHAVIOUR: CustomModelBehaviour = CustomModelBehaviour;

/// What the engine needs to know of the kind.
pub const CUSTOM_MODEL_FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // After the throughput that serves it and the job that made it.
    teardown_rank: 2,
    singleton: false,
    // Its name is known before apply, its ARN is not.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    // A custom model is followed through its job, not by its own status.
    status_class: crate::kinds::facts::no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: Some(
        "a custom model is exported with the customization job that trains it",
    ),
    stages: &[],
    inference: None,
    made_by: Some(crate::model::Kind::CustomizationJob),
    tags: Some(crate::kinds::facts::BEDROCK_TAGS),
};

impl KindBehaviour for CustomModelBehaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::CustomModel
    }
    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        lifecycle::plan_declared(self, cx, desired)
    }
    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        if let Some(refusal) = lifecycle::orphan_guard(observed) {
            return vec![refusal];
        }
        let address = lifecycle::orphan_address(observed);
        let declared = observed
            .tag(TAG_ADDRESS)
            .and_then(Address::parse)
            .is_some_and(|a| cx.desired.get(&a).is_some());
        if declared {
            return Vec::new();
        }
        vec![delete_model(
            address,
            observed,
            "its CustomizationJob is no longer declared".into(),
        )]
    }
}
