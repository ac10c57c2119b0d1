//! `kind: IamRole`: a service role Bedrock assumes, with its trust policy, inline
//! policies and managed policy attachments.

pub mod aws;
pub mod sandbox;
pub mod state;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::diag::{Diagnostic, Loc};
use crate::kinds::face::PlanCx;
use crate::kinds::face::validate_tags;
use crate::kinds::face::{
    Common, ExportCx, Exported, KindBehaviour, LowerCx, Lowered, NotExported, ResourceSpec,
    ValidateCx,
};
use crate::kinds::lifecycle;
use crate::model::plan::Change;
use crate::model::{DeletionPolicy, DesiredResource, ObservedResource};
use crate::syntax::refs::Reference;
use crate::syntax::spanned::{KeyedMap, Spanned};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IamRoleSpec {
    /// Defaults to metadata.name.
    #[serde(default)]
    pub role_name: Option<Spanned<String>>,
    /// `bedrock`: a trust policy for bedrock.amazonaws.com with the confused-deputy
    /// conditions AWS recommends (`aws:SourceAccount`, `aws:SourceArn`).
    #[serde(default)]
    pub assumed_by: Option<Spanned<AssumedBy>>,
    /// A full trust policy document, instead of `assumedBy`.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub trust_policy: Option<Spanned<Value>>,
    /// Inline policies by name, each a policy document. Omitted means none:
    /// others are removed.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Map<String, Value>>")]
    pub inline_policies: BTreeMap<String, Spanned<Value>>,
    /// Managed policies attached. Omitted means none: others are detached.
    #[serde(default)]
    pub managed_policy_arns: Vec<Spanned<String>>,
    /// At most 1,000 characters (`roleDescriptionType`).
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// Seconds, 3600 to 43200.
    #[serde(default)]
    pub max_session_duration: Option<Spanned<u32>>,
    #[serde(default)]
    pub permissions_boundary: Option<Spanned<String>>,
    #[serde(default)]
    pub prevent_destroy: bool,
    #[serde(default)]
    pub tags: Option<KeyedMap<Option<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AssumedBy {
    Bedrock,
}

impl IamRoleSpec {
    fn role_name<'a>(&'a self, cx_name: &'a str) -> &'a str {
        self.role_name
            .as_ref()
            .map(|n| n.value.as_str())
            .unwrap_or(cx_name)
    }
}

impl ResourceSpec for IamRoleSpec {
    fn common(&self) -> Common<'_> {
        Common {
            prevent_destroy: self.prevent_destroy,
            tags: self.tags.as_deref(),
            absent: false,
            deletion_policy: DeletionPolicy::Retain,
        }
    }

    fn validate(&self, cx: &mut ValidateCx<'_>) {
        let name = self.role_name(cx.name).to_string();
        // Without `roleName` the name is metadata.name: report at the document.
        let pos = self.role_name.as_ref().map_or(cx.doc_pos, |n| n.pos);
        if let Err(problem) = crate::names::check_role_name(&name) {
            cx.error(pos, format!("role name `{name}` {problem}"));
        }
        match (&self.assumed_by, &self.trust_policy) {
            (Some(a), Some(_)) => cx.error_hint(
                a.pos,
                "`assumedBy` and `trustPolicy` both given",
                "use one of them",
            ),
            (None, None) => cx.error_hint(
                pos,
                "an IamRole needs `assumedBy: bedrock` or a `trustPolicy`",
                "add `assumedBy: bedrock`",
            ),
            (None, Some(policy)) => {
                if let Err(problem) = crate::policy::check_document(policy) {
                    cx.error(policy.pos, format!("`trustPolicy`: {problem}"));
                }
            }
            (Some(_), None) => {}
        }
        for (policy_name, document) in &self.inline_policies {
            if policy_name.is_empty() || policy_name.len() > 128 {
                cx.error(
                    document.pos,
                    format!("inline policy name `{policy_name}` must be 1 to 128 characters"),
                );
            }
            if let Err(problem) = crate::policy::check_document(document) {
                cx.error(
                    document.pos,
                    format!("inline policy `{policy_name}`: {problem}"),
                );
            }
        }
        for arn in &self.managed_policy_arns {
            if !arn.contains("${")
                && let Err(problem) = crate::names::check_arn(arn, Some("iam"))
            {
                cx.error(arn.pos, format!("`managedPolicyArns`: {problem}"));
            }
        }
        if let Some(path) = &self.path
            && let Err(problem) = crate::names::check_iam_path(path)
        {
            cx.error(path.pos, format!("`path` {problem}"));
        }
        if let Some(description) = &self.description
            && let Err(problem) = crate::names::check_role_description(description)
        {
            cx.error(description.pos, format!("`description` {problem}"));
        }
        if let Some(seconds) = &self.max_session_duration
            && !(3600..=43200).contains(&seconds.value)
        {
            cx.error(
                seconds.pos,
                "`maxSessionDuration` must be 3600 to 43200 seconds",
            );
        }
        if let Some(boundary) = &self.permissions_boundary
            && let Err(problem) = crate::names::check_arn(boundary, Some("iam"))
        {
            cx.error(boundary.pos, format!("`permissionsBoundary`: {problem}"));
        }
        validate_tags(cx, self.tags.as_ref());
    }

    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic> {
        let name = cx.interpolate(self.role_name(cx.name));
        let path = match (&self.path, &cx.stack.role_path) {
            (Some(own), Some(stack)) if !own.value.starts_with(stack.as_str()) => {
                return Err(Diagnostic::at(
                    Loc {
                        file: cx.file,
                        pos: own.pos,
                    },
                    format!(
                        "`path` `{}` is outside the stack's `rolePath` `{stack}`: the stack's roles are looked for under it only",
                        own.value
                    ),
                ));
            }
            (Some(own), _) => own.value.clone(),
            (None, Some(stack)) => stack.clone(),
            (None, None) => "/".into(),
        };
        let trust = match (&self.assumed_by, &self.trust_policy) {
            (_, Some(policy)) => cx.interpolate_value(policy),
            _ => bedrock_trust_policy(&cx.stack.region, cx.account_id),
        };
        let inline: Map<String, Value> = self
            .inline_policies
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    crate::policy::normalise(&cx.interpolate_value(v)),
                )
            })
            .collect();
        let mut managed: Vec<String> = self
            .managed_policy_arns
            .iter()
            .map(|a| cx.interpolate(a))
            .collect();
        managed.sort();
        managed.dedup();
        for (document, pos) in self.inline_policies.values().map(|d| (d, d.pos)) {
            let resolved = cx.interpolate_value(document);
            if let Some(unresolved) = first_unresolved(&resolved) {
                return Err(Diagnostic::at(
                    Loc { file: cx.file, pos },
                    format!("`{unresolved}` could not be resolved"),
                ));
            }
        }
        let attrs = crate::kinds::state::attrs_of(&state::RoleState {
            path: path.to_string(),
            trust_policy: crate::policy::normalise(&trust),
            inline_policies: inline.into_iter().collect(),
            managed_policy_arns: managed,
            description: self.description.as_ref().map(|d| d.value.clone()),
            max_session_duration: self
                .max_session_duration
                .as_ref()
                // Validated: 3600 to 43200 seconds.
                .map(|s| s.value as i32)
                .unwrap_or(3600),
            permissions_boundary: self.permissions_boundary.as_ref().map(|b| b.value.clone()),
        });
        Ok(Lowered {
            arn: Some(format!("arn:aws:iam::{}:role{path}{name}", cx.account_id)),
            aws_name: name,
            model: None,
            attrs,
            hash_extra: Some(json!({"preventDestroy": self.prevent_destroy})),
        })
    }
}

fn first_unresolved(value: &Value) -> Option<String> {
    match value {
        // IAM policy variables (`${aws:username}`) are kept as written, not unresolved.
        Value::String(s) => crate::syntax::refs::placeholders(s)
            .first()
            .map(|(at, _)| s[*at..].split('}').next().unwrap_or("").to_string() + "}"),
        Value::Array(items) => items.iter().find_map(first_unresolved),
        Value::Object(map) => map.values().find_map(first_unresolved),
        _ => None,
    }
}

/// The trust policy `assumedBy: bedrock` stands for.
pub fn bedrock_trust_policy(region: &str, account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account},
                "ArnLike": {"aws:SourceArn": format!("arn:aws:bedrock:{region}:{account}:*")}
            }
        }]
    })
}

pub struct Behaviour;
pub static BEHAVIOUR: Behaviour = Behaviour;

/// What the engine needs to know of the kind.
pub const FACTS: crate::kinds::facts::KindFacts = crate::kinds::facts::KindFacts {
    // Roles go after everything that assumes them.
    teardown_rank: 5,
    singleton: false,
    arn_known_before_apply: true,
    permission_fields: &["trustPolicy", "inlinePolicies", "managedPolicyArns"],
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

/// Whether a trust policy lets bedrock.amazonaws.com assume the role.
pub fn trusts_bedrock(policy: &Value) -> bool {
    let statements = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && match s.get("Principal").and_then(|p| p.get("Service")) {
                Some(Value::String(service)) => service == "bedrock.amazonaws.com",
                Some(Value::Array(services)) => services
                    .iter()
                    .any(|v| v.as_str() == Some("bedrock.amazonaws.com")),
                _ => false,
            }
    })
}

impl KindBehaviour for Behaviour {
    fn kind(&self) -> crate::model::Kind {
        crate::model::Kind::IamRole
    }
    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change> {
        lifecycle::plan_declared(self, cx, desired)
    }
    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change> {
        lifecycle::plan_orphan(self, cx, observed)
    }
    fn name_member(&self) -> &'static str {
        "roleName"
    }

    fn export_selects(&self, _cx: &ExportCx<'_>, observed: &ObservedResource) -> bool {
        observed
            .attrs
            .get("trustPolicy")
            .is_some_and(trusts_bedrock)
    }

    fn export(
        &self,
        cx: &ExportCx<'_>,
        observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        let mut out = Exported::default();
        out.set("roleName", json!(observed.aws_name));
        let trust = observed
            .attrs
            .get("trustPolicy")
            .cloned()
            .unwrap_or(Value::Null);
        let shorthand = crate::policy::normalise(&bedrock_trust_policy(
            &cx.observed.region,
            &cx.observed.account_id,
        ));
        if trust == shorthand {
            out.set("assumedBy", json!("bedrock"));
        } else {
            out.set("trustPolicy", trust);
        }
        let path = observed
            .attrs
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/");
        if path != "/" {
            out.set("path", json!(path));
        }
        for key in ["inlinePolicies", "managedPolicyArns"] {
            match observed.attrs.get(key) {
                Some(Value::Object(m)) if !m.is_empty() => out.set(key, Value::Object(m.clone())),
                Some(Value::Array(a)) if !a.is_empty() => out.set(key, Value::Array(a.clone())),
                _ => {}
            }
        }
        for key in ["description", "permissionsBoundary"] {
            out.set(key, observed.attrs.get(key).cloned().unwrap_or(Value::Null));
        }
        let session = observed
            .attrs
            .get("maxSessionDuration")
            .and_then(Value::as_u64);
        if let Some(seconds) = session.filter(|s| *s != 3600) {
            out.set("maxSessionDuration", json!(seconds));
        }
        out.tags_of(observed);
        Ok(out)
    }
    fn forces_replacement(&self, field: &str) -> bool {
        field == "path"
    }
}
