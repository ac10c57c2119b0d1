//! `kind: Bucket`: an S3 bucket for training data, job output or invocation logs.

pub mod aws;
pub mod sandbox;
pub mod state;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::diag::Diagnostic;
use crate::kinds::face::PlanCx;
use crate::kinds::face::{
    Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported, ResourceSpec,
    ValidateCx,
};
use crate::kinds::face::{DeletionPolicySchema, validate_tags};
use crate::kinds::lifecycle;
use crate::model::plan::Change;
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::Reference;
use crate::syntax::spanned::{KeyedMap, Spanned};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BucketSpec {
    /// The S3 bucket name (globally unique).
    pub bucket_name: Spanned<String>,
    /// Adds a bucket policy that lets bedrock.amazonaws.com write invocation logs,
    /// scoped to this account with `aws:SourceAccount` and `aws:SourceArn`.
    #[serde(default)]
    pub allow_bedrock_log_delivery: bool,
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// Block all public access (default true).
    #[serde(default = "yes")]
    pub block_public_access: bool,
    #[serde(default)]
    pub versioning: bool,
    /// What happens when the bucket is no longer declared: `retain` (default) keeps
    /// it and releases it from the stack; `delete` deletes it with its objects.
    #[serde(default)]
    #[schemars(with = "DeletionPolicySchema")]
    pub deletion_policy: DeletionPolicy,
    #[serde(default)]
    pub prevent_destroy: bool,
    /// Tags merged over the stack's; `null` drops a stack tag.
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Encryption {
    pub sse: Sse,
    /// KMS key id or ARN, with `sse: kms`.
    #[serde(default)]
    pub kms_key_id: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Sse {
    S3,
    Kms,
}

impl ResourceSpec for BucketSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: self.deletion_policy,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        if !self.bucket_name.contains("${")
            && let Err(problem) = crate::names::check_bucket_name(&self.bucket_name)
        {
            cx.error(
                self.bucket_name.pos,
                format!("`bucketName` `{}` {problem}", self.bucket_name.value),
            );
        }
        if let Some(enc) = &self.encryption {
            match (enc.sse, &enc.kms_key_id) {
                (Sse::S3, Some(key)) => {
                    cx.error(key.pos, "`kmsKeyId` is only used with `sse: kms`")
                }
                (Sse::Kms, None) => cx.error(
                    self.bucket_name.pos,
                    "`encryption.sse: kms` needs `kmsKeyId`",
                ),
                _ => {}
            }
        }
        validate_tags(cx, self.tags.as_ref());
    }

    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let name = cx.interpolate(&self.bucket_name);
        if let Err(problem) = crate::names::check_bucket_name(&name) {
            return Err(Diagnostic::at(
                crate::diag::Loc {
                    file: cx.file,
                    pos: self.bucket_name.pos,
                },
                format!("`bucketName` `{name}` {problem}"),
            ));
        }
        let arn = format!("arn:aws:s3:::{name}");
        let policy = self
            .allow_bedrock_log_delivery
            .then(|| log_delivery_policy(&name, &cx.stack.region, cx.account_id));
        let encryption = match &self.encryption {
            None => state::Encryption {
                sse: state::Sse::S3,
                kms_key_id: None,
            },
            Some(e) => state::Encryption {
                sse: if e.sse == Sse::Kms {
                    state::Sse::Kms
                } else {
                    state::Sse::S3
                },
                kms_key_id: e.kms_key_id.as_ref().map(|k| cx.interpolate(k)),
            },
        };
        let attrs = crate::kinds::state::attrs_of(&state::BucketState {
            policy,
            encryption,
            block_public_access: self.block_public_access,
            versioning: self.versioning,
        });
        Ok(Lowered {
            aws_name: name,
            arn: Some(arn),
            model: None,
            attrs,
            hash_extra: Some(
                json!({"deletionPolicy": self.deletion_policy.as_str(), "preventDestroy": self.prevent_destroy}),
            ),
        })
    }
}

/// The bucket policy `allowBedrockLogDelivery: true` stands for, normalised.
pub fn log_delivery_policy(bucket: &str, region: &str, account: &str) -> Value {
    crate::policy::normalise(&json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowBedrockLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:aws:bedrock:{region}:{account}:*")}
            }
        }]
    }))
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // Buckets hold what the others wrote: deleted last.
    teardown_rank: 6,
    singleton: false,
    arn_known_before_apply: true,
    permission_fields: &["policy"],
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
    tags: Some(crate::kinds::facts::TagRules {
        max_tags: 50,
        characters: crate::kinds::facts::TagCharacters::Unicode,
    }),
};

fn objects(observed: &ObservedResource) -> Option<String> {
    observed
        .fact_u64("objectCount")
        .filter(|n| *n > 0)
        .map(|n| format!("{n} object{}", if n == 1 { "" } else { "s" }))
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::Bucket
    }
    fn name_member(&self) -> &'static str {
        "bucketName"
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        let name = &observed.aws_name;
        out.set("bucketName", json!(name));
        match observed.attrs.get("policy").filter(|p| !p.is_null()) {
            None => {}
            Some(policy)
                if *policy
                    == log_delivery_policy(name, &cx.observed.region, &cx.observed.account_id) =>
            {
                out.set("allowBedrockLogDelivery", json!(true));
            }
            Some(_) => {
                return Err(NotExported::Undeclarable(
                    "its bucket policy is not the one `allowBedrockLogDelivery` declares, and a Bucket declares no other",
                ));
            }
        }
        let encryption = observed
            .attrs
            .get("encryption")
            .cloned()
            .unwrap_or(Value::Null);
        match encryption.get("sse").and_then(Value::as_str) {
            Some("kms") if encryption.get("kmsKeyId").is_some() => {
                out.set("encryption", encryption)
            }
            Some("kms") => {
                return Err(NotExported::Undeclarable(
                    "it is encrypted with the AWS managed KMS key, which a Bucket cannot declare",
                ));
            }
            _ => {}
        }
        if observed.attrs.get("blockPublicAccess") == Some(&Value::Bool(false)) {
            out.set("blockPublicAccess", json!(false));
        }
        if observed.attrs.get("versioning") == Some(&Value::Bool(true)) {
            out.set("versioning", json!(true));
        }
        out.tags_of(observed);
        Ok(out)
    }
    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        let changes = lifecycle::plan_declared(self, cx, desired);
        // A bucket that holds objects is deleted (by a rename or `state`) only with
        // `deletionPolicy: delete`: AWS refuses to delete a bucket that is not empty.
        changes
            .into_iter()
            .map(|c| lifecycle::guard_data_deletes(cx, desired.deletion_policy, objects, c))
            .collect()
    }

    fn plan_orphan(&self, _cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        lifecycle::plan_orphan_with_data(observed, objects(observed))
    }
}
