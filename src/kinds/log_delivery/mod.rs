//! `kind: LogDelivery`: vended logs of an AWS resource (a knowledge base's
//! `APPLICATION_LOGS` first) delivered to a log group, a bucket or a Firehose
//! stream: CloudWatch Logs' delivery source, delivery destination and the delivery
//! between them, planned as one object under one name.
//!
//! Choices the API leaves open, as bedform makes them:
//! - The source and the destination take the document's `deliveryName`. A
//!   delivery source cannot be pointed at another resource, so any change of
//!   source, log type or destination deletes the three and creates them again
//!   (the plan warns that logs emitted in between are not delivered); only the
//!   tags change in place.
//! - Removal deletes the delivery, then the destination, then the source.
//! - The ownership tags go on the source and the destination; a tag change
//!   updates the source's (CloudWatch Logs takes tags on a source or destination
//!   only when it is created, and by TagResource after).

pub mod aws;
pub mod sandbox;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::diag::Diagnostic;
use crate::kinds::face::{
    Common, KindBehaviour, LowerCx, Lowered, PlanCx, ResourceSpec, ValidateCx, validate_tags,
};
use crate::kinds::facts::{KindFacts, TagCharacters, TagRules, no_status};
use crate::model::plan::{Action, Change};
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::{KeyedMap, Spanned};

pub const KIND: &str = "LogDelivery";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogDeliverySpec {
    /// The name of the delivery source and destination; defaults to
    /// metadata.name. 1 to 60 letters, digits, `_` and `-`.
    #[serde(default)]
    pub delivery_name: Option<Spanned<String>>,
    /// What sends the logs: `{resourceArn, logType}` (`PutDeliverySource`).
    pub source: Spanned<DeliverySource>,
    /// Where they go: exactly one of `logGroup`, `bucket` (each a `{ref}` or a
    /// name) and `firehoseArn`.
    pub destination: Spanned<Destination>,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeliverySource {
    /// The ARN of the resource that sends logs (a knowledge base's, say).
    pub resource_arn: Spanned<String>,
    /// The type of its logs (`APPLICATION_LOGS` for a knowledge base).
    pub log_type: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Destination {
    #[serde(default)]
    pub log_group: Option<Spanned<RefOr>>,
    #[serde(default)]
    pub bucket: Option<Spanned<RefOr>>,
    #[serde(default)]
    pub firehose_arn: Option<Spanned<String>>,
}

/// A delivery's desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeliveryState {
    pub source_resource_arn: String,
    pub log_type: String,
    /// `deliveryDestinationConfiguration.destinationResourceArn`.
    pub destination_arn: String,
}

/// `DeliverySourceName` / `DeliveryDestinationName`: `[\w-]*`, 1 to 60.
pub fn check_delivery_name(name: &str) -> Result<(), crate::names::NameError> {
    let len = name.chars().count();
    if !(1..=60).contains(&len) {
        return Err(crate::names::NameError::Length {
            min: 1,
            max: 60,
            len,
        });
    }
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(())
    } else {
        Err(crate::names::NameError::Rule(
            "may hold only letters, digits, `_` and `-`",
        ))
    }
}

impl LogDeliverySpec {
    fn name<'a>(&'a self, metadata_name: &'a str) -> &'a str {
        self.delivery_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(metadata_name)
    }
}

impl ResourceSpec for LogDeliverySpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let name = self.name(cx.name);
        let pos = self.delivery_name.as_ref().map_or(cx.doc_pos, |n| n.pos);
        if let Err(problem) = check_delivery_name(name) {
            cx.error(pos, format!("`deliveryName` `{name}` {problem}"));
        }
        let source = &self.source.value;
        if !source.resource_arn.contains("${")
            && let Err(problem) = crate::names::check_arn(&source.resource_arn, None)
        {
            cx.error(
                source.resource_arn.pos,
                format!("`source.resourceArn`: {problem}"),
            );
        }
        let log_type = &source.log_type.value;
        if log_type.is_empty()
            || log_type.len() > 255
            || !log_type
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            cx.error(
                source.log_type.pos,
                format!("`source.logType` `{log_type}` must be 1 to 255 letters, digits and `_` (e.g. APPLICATION_LOGS)"),
            );
        }
        let d = &self.destination.value;
        let given = [
            d.log_group.is_some(),
            d.bucket.is_some(),
            d.firehose_arn.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            cx.error(
                self.destination.pos,
                "`destination` takes exactly one of `logGroup`, `bucket` and `firehoseArn`",
            );
        }
        if let Some(group) = &d.log_group {
            cx.check_literal(
                "destination.logGroup",
                group,
                crate::names::check_log_group_name,
            );
        }
        if let Some(bucket) = &d.bucket {
            cx.check_literal(
                "destination.bucket",
                bucket,
                crate::names::check_bucket_name,
            );
        }
        if let Some(arn) = &d.firehose_arn
            && !arn.contains("${")
            && let Err(problem) = crate::names::check_arn(arn, Some("firehose"))
        {
            cx.error(arn.pos, format!("`destination.firehoseArn`: {problem}"));
        }
        validate_tags(cx, self.tags.as_ref());
    }

    fn references(&self) -> Vec<Reference> {
        let d = &self.destination.value;
        d.log_group
            .as_ref()
            .and_then(|g| Reference::from_field("destination.logGroup", g, &["LogGroup"]))
            .into_iter()
            .chain(
                d.bucket
                    .as_ref()
                    .and_then(|b| Reference::from_field("destination.bucket", b, &["Bucket"])),
            )
            .collect()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let d = &self.destination.value;
        let destination_arn = if let Some(group) = &d.log_group {
            match &group.value {
                RefOr::Literal(name) => format!(
                    "arn:aws:logs:{}:{}:log-group:{}",
                    cx.stack.region,
                    cx.account_id,
                    cx.interpolate(name)
                ),
                RefOr::Ref(_) => cx.arn(group)?,
            }
        } else if let Some(bucket) = &d.bucket {
            format!("arn:aws:s3:::{}", cx.aws_name(bucket)?)
        } else {
            d.firehose_arn
                .as_ref()
                .map(|a| cx.interpolate(a))
                .unwrap_or_default()
        };
        let attrs = crate::kinds::state::attrs_of(&DeliveryState {
            source_resource_arn: cx.interpolate(&self.source.value.resource_arn),
            log_type: self.source.value.log_type.value.clone(),
            destination_arn,
        });
        Ok(Lowered {
            aws_name: self.name(cx.name).to_string(),
            arn: None,
            model: None,
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: KindFacts = KindFacts {
    // Before the log groups and buckets it delivers to.
    teardown_rank: 3,
    singleton: false,
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    status_class: no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: Some("bedform does not export log deliveries yet"),
    stages: &[],
    inference: None,
    made_by: None,
    // CloudWatch Logs' `Tags`: at most 50.
    tags: Some(TagRules {
        max_tags: 50,
        characters: TagCharacters::Unicode,
    }),
};

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::LogDelivery
    }
    fn name_member(&self) -> &'static str {
        "deliveryName"
    }
    fn forces_replacement(&self, field: &str) -> bool {
        matches!(field, "sourceResourceArn" | "logType" | "destinationArn")
    }

    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let mut changes = crate::kinds::lifecycle::plan_declared(self, cx, desired);
        for change in changes.iter_mut().filter(|c| c.action == Action::Replace) {
            change.warnings.push(
                "the delivery is deleted and created again: logs the source emits in between are not delivered".into(),
            );
        }
        changes
    }

    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        let mut changes = crate::kinds::lifecycle::plan_orphan(self, cx, observed);
        for change in changes.iter_mut().filter(|c| c.action == Action::Delete) {
            change
                .warnings
                .push("the source's logs are no longer delivered after the delete".into());
        }
        changes
    }
}
