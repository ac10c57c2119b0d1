//! `kind: InvocationLogging`: the region's model invocation logging configuration, a
//! singleton. Removed only by `state: absent`, never by omission.

pub mod aws;
pub mod state;
use state::{CloudWatch, LoggingState, S3Destination};
pub mod sandbox;

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::diag::Diagnostic;
use crate::kinds::face::PlanCx;
use crate::kinds::face::{
    Adoption, Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported,
    ResourceSpec, State, ValidateCx,
};
use crate::model::plan::Change;
use crate::model::{DeletionPolicy, ObservedResource};
use crate::syntax::refs::{RefOr, Reference};
use crate::syntax::spanned::Spanned;

/// The AWS name of the singleton.
pub const AWS_NAME: &str = "model-invocation-logging";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvocationLoggingSpec {
    #[serde(default)]
    pub cloud_watch: Option<Spanned<CloudWatchConfig>>,
    #[serde(default)]
    pub s3: Option<Spanned<S3Config>>,
    /// Data delivered; flags not listed are sent as false.
    #[serde(default)]
    #[schemars(with = "Vec<Delivery>")]
    pub deliver: Option<Spanned<Vec<Spanned<Delivery>>>>,
    /// `absent` removes the configuration; omitting the document leaves it alone.
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub prevent_destroy: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CloudWatchConfig {
    pub log_group: Spanned<RefOr>,
    /// Role Bedrock assumes to write to the log group (required by the API).
    #[serde(default)]
    pub role: Option<Spanned<RefOr>>,
    /// Bucket for payloads larger than 100 KB.
    #[serde(default)]
    pub large_data_bucket: Option<Spanned<RefOr>>,
    #[serde(default)]
    pub large_data_key_prefix: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Config {
    pub bucket: Spanned<RefOr>,
    #[serde(default)]
    pub key_prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Delivery {
    Text,
    Image,
    Embedding,
    Video,
    Audio,
}

const DELIVERY_FLAGS: [(Delivery, &str); 5] = [
    (Delivery::Text, "textDataDeliveryEnabled"),
    (Delivery::Image, "imageDataDeliveryEnabled"),
    (Delivery::Embedding, "embeddingDataDeliveryEnabled"),
    (Delivery::Video, "videoDataDeliveryEnabled"),
    (Delivery::Audio, "audioDataDeliveryEnabled"),
];

impl ResourceSpec for InvocationLoggingSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: None,
            absent: self.state == State::Absent,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        if self.state == State::Absent {
            return;
        }
        if self.cloud_watch.is_none() && self.s3.is_none() {
            cx.error_hint(
                cx.doc_pos,
                "InvocationLogging needs `cloudWatch`, `s3` or both",
                "or `state: absent` to remove logging",
            );
        }
        if let Some(cw) = &self.cloud_watch {
            if cw.role.is_none() {
                cx.error_hint(
                    cw.pos,
                    "`cloudWatch.role` is required: Bedrock needs a role to write to the log group",
                    "add `role: {ref: NAME}` naming an IamRole with logs:CreateLogStream and logs:PutLogEvents",
                );
            }
            cx.check_literal(
                "cloudWatch.logGroup",
                &cw.log_group,
                crate::names::check_log_group_name,
            );
            if let Some(role) = &cw.role {
                cx.check_literal("cloudWatch.role", role, |v| {
                    crate::names::check_arn(v, Some("iam"))
                });
            }
            if let Some(bucket) = &cw.large_data_bucket {
                cx.check_literal(
                    "cloudWatch.largeDataBucket",
                    bucket,
                    crate::names::check_bucket_name,
                );
            }
        }
        if let Some(s3) = &self.s3 {
            cx.check_literal("s3.bucket", &s3.bucket, crate::names::check_bucket_name);
        }
        let flags = self
            .deliver
            .as_ref()
            .map(|d| d.value.as_slice())
            .unwrap_or(&[]);
        let mut seen = BTreeSet::new();
        for flag in flags {
            if !seen.insert(flag.value) {
                cx.error(
                    flag.pos,
                    format!("`{:?}` is listed twice in `deliver`", flag.value).to_lowercase(),
                );
            }
        }
        // `deliver: []` pauses logging in place: AWS accepts every flag off.
        if self.deliver.is_none() {
            cx.error_hint(
                cx.doc_pos,
                "`deliver` is missing: nothing would be logged",
                "list what to log, e.g. deliver: [text]",
            );
        }
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs = Vec::new();
        if let Some(cw) = &self.cloud_watch {
            refs.extend(Reference::from_field(
                "cloudWatch.logGroup",
                &cw.log_group,
                &["LogGroup"],
            ));
            if let Some(role) = &cw.role {
                refs.extend(Reference::from_field("cloudWatch.role", role, &["IamRole"]));
            }
            if let Some(bucket) = &cw.large_data_bucket {
                refs.extend(Reference::from_field(
                    "cloudWatch.largeDataBucket",
                    bucket,
                    &["Bucket"],
                ));
            }
        }
        if let Some(s3) = &self.s3 {
            refs.extend(Reference::from_field("s3.bucket", &s3.bucket, &["Bucket"]));
        }
        refs
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let mut attrs = Map::new();
        if self.state == State::Present {
            let cloud_watch_config = match &self.cloud_watch {
                Some(cw) => Some(CloudWatch {
                    log_group_name: cx.aws_name(&cw.log_group)?,
                    role_arn: cw.role.as_ref().map(|role| cx.arn(role)).transpose()?,
                    large_data_delivery_s3_config: match &cw.large_data_bucket {
                        Some(bucket) => Some(S3Destination {
                            bucket_name: cx.aws_name(bucket)?,
                            key_prefix: cw.large_data_key_prefix.clone().unwrap_or_default(),
                        }),
                        None => None,
                    },
                }),
                None => None,
            };
            let s3_config = match &self.s3 {
                Some(s3) => Some(S3Destination {
                    bucket_name: cx.aws_name(&s3.bucket)?,
                    key_prefix: s3.key_prefix.clone().unwrap_or_default(),
                }),
                None => None,
            };
            let listed: BTreeSet<Delivery> = self
                .deliver
                .iter()
                .flat_map(|d| d.iter())
                .map(|d| d.value)
                .collect();
            attrs = crate::kinds::state::attrs_of(&LoggingState {
                cloud_watch_config,
                s3_config,
                text_data_delivery_enabled: listed.contains(&Delivery::Text),
                image_data_delivery_enabled: listed.contains(&Delivery::Image),
                embedding_data_delivery_enabled: listed.contains(&Delivery::Embedding),
                video_data_delivery_enabled: listed.contains(&Delivery::Video),
                audio_data_delivery_enabled: listed.contains(&Delivery::Audio),
            });
        }
        Ok(Lowered {
            aws_name: AWS_NAME.into(),
            arn: None,
            model: None,
            attrs,
            hash_extra: None,
        })
    }
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // Logging goes before the role and destinations it names.
    teardown_rank: 3,
    singleton: true,
    // One per region, without an ARN of its own.
    arn_known_before_apply: false,
    permission_fields: &[],
    sensitive_members: &[],
    // AWS reports no status for this kind.
    status_class: crate::kinds::facts::no_status,
    converges: false,
    replacement_waits_until_ready: false,
    retried_only_when_asked: false,
    not_exported_because: None,
    stages: &[],
    inference: None,
    made_by: None,
    tags: None,
};

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::InvocationLogging
    }
    /// One per region: the document is named for what it is, not for the region.
    fn export_document_name(&self, _observed: &ObservedResource) -> Option<String> {
        Some("invocation-logging".into())
    }
    fn plan(&self, cx: &PlanCx<'_>, desired: &crate::model::DesiredResource) -> Vec<Change> {
        crate::kinds::lifecycle::plan_declared(self, cx, desired)
    }
    fn adoption(&self) -> Adoption {
        Adoption::NotNeeded(
            "invocation logging is a setting of the account and region, not an object that takes tags: bedform plans it from its document alone (and removes it only on `state: absent`), so there is nothing to import; the next plan shows how the current configuration differs from the document",
        )
    }
    fn export_selects(&self, _cx: &ExportCx<'_>, _observed: &ObservedResource) -> bool {
        true
    }

    fn export_needs(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        let mut needs = Vec::new();
        let cw = observed.attrs.get("cloudWatchConfig");
        let text = |v: Option<&Value>, key: &str| {
            v.and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        if let Some(group) = text(cw, "logGroupName") {
            needs.push(("LogGroup".to_string(), group));
        }
        if let Some(role) = text(cw, "roleArn")
            && let Some(found) = cx
                .observed
                .of_kind("IamRole")
                .find(|r| r.arn.as_deref() == Some(role.as_str()))
        {
            needs.push(("IamRole".to_string(), found.aws_name.clone()));
        }
        let large = cw.and_then(|c| c.get("largeDataDeliveryS3Config"));
        for bucket in [
            text(large, "bucketName"),
            text(observed.attrs.get("s3Config"), "bucketName"),
        ]
        .into_iter()
        .flatten()
        {
            needs.push(("Bucket".to_string(), bucket));
        }
        needs
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        let text = |v: &Value, key: &str| {
            v.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let prefix = |v: &Value| {
            Some(text(v, "keyPrefix"))
                .filter(|p| !p.is_empty())
                .map(Value::String)
                .unwrap_or(Value::Null)
        };
        if let Some(cw) = observed
            .attrs
            .get("cloudWatchConfig")
            .filter(|v| !v.is_null())
        {
            let group = text(cw, "logGroupName");
            let role = text(cw, "roleArn");
            let mut section = Map::new();
            section.insert(
                "logGroup".into(),
                cx.reference_or("LogGroup", &group, &group),
            );
            section.insert(
                "role".into(),
                cx.reference_by_arn("IamRole", &role)
                    .unwrap_or(Value::String(role)),
            );
            if let Some(large) = cw.get("largeDataDeliveryS3Config").filter(|v| !v.is_null()) {
                let bucket = text(large, "bucketName");
                section.insert(
                    "largeDataBucket".into(),
                    cx.reference_or("Bucket", &bucket, &bucket),
                );
                if let Value::String(p) = prefix(large) {
                    section.insert("largeDataKeyPrefix".into(), Value::String(p));
                }
            }
            out.set("cloudWatch", Value::Object(section));
        }
        if let Some(s3) = observed.attrs.get("s3Config").filter(|v| !v.is_null()) {
            let bucket = text(s3, "bucketName");
            let mut section = Map::new();
            section.insert("bucket".into(), cx.reference_or("Bucket", &bucket, &bucket));
            if let Value::String(p) = prefix(s3) {
                section.insert("keyPrefix".into(), Value::String(p));
            }
            out.set("s3", Value::Object(section));
        }
        let deliver: Vec<Value> = DELIVERY_FLAGS
            .iter()
            .filter(|(_, key)| observed.attrs.get(*key) == Some(&Value::Bool(true)))
            .map(|(flag, _)| json!(format!("{flag:?}").to_lowercase()))
            .collect();
        out.set("deliver", Value::Array(deliver));
        Ok(out)
    }

    /// Never deleted by omission: it carries no ownership tags.
    fn plan_orphan(&self, _cx: &PlanCx<'_>, _observed: &ObservedResource) -> Vec<Change> {
        Vec::new()
    }
}
