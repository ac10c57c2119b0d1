//! IAM roles: trust policy, inline policies, managed attachments, tags. Read in
//! pages with GetAccountAuthorizationDetails, which returns roles with their
//! policies and tags.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::types::{EntityType, Tag};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use crate::cloud::aws::{Aws, READ_CONCURRENCY, classify, ensure_ours, stale_tag_keys, tag_map};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::iam_role::state::RoleState;
use crate::kinds::state::state_of;
use crate::model::ObservedResource;
use crate::model::Scope;
use crate::model::plan::Op;
use crate::policy::{normalise, url_decode};

pub const KIND: &str = "IamRole";

fn parse_policy(encoded: &str) -> Value {
    let text = url_decode(encoded);
    serde_json::from_str::<Value>(&text)
        .or_else(|_| serde_json::from_str::<Value>(encoded))
        .map(|v| normalise(&v))
        .unwrap_or(Value::String(text))
}

pub async fn observe(aws: &Aws, scope: &Scope) -> Result<Vec<ObservedResource>, CloudError> {
    let mut roles = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = aws
            .iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| classify("iam:GetAccountAuthorizationDetails", "the account", e))?;
        for role in page.role_detail_list() {
            let Some(name) = role.role_name() else {
                continue;
            };
            let tags = tag_map(role.tags().iter().map(|t| (t.key(), t.value())));
            let owned = tags
                .get(crate::model::TAG_STACK)
                .is_some_and(|s| s == &scope.stack);
            if !owned && !scope.declares(KIND, name) {
                continue;
            }
            let inline: Map<String, Value> = role
                .role_policy_list()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.policy_name()?.to_string(),
                        parse_policy(p.policy_document()?),
                    ))
                })
                .collect();
            let mut managed: Vec<String> = role
                .attached_managed_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect();
            managed.sort();
            roles.push(ObservedResource {
                kind: KIND.into(),
                aws_name: name.to_string(),
                arn: role.arn().map(str::to_string),
                attrs: Map::from_iter([
                    ("path".to_string(), json!(role.path().unwrap_or("/"))),
                    (
                        "trustPolicy".to_string(),
                        role.assume_role_policy_document()
                            .map(parse_policy)
                            .unwrap_or(Value::Null),
                    ),
                    ("inlinePolicies".to_string(), Value::Object(inline)),
                    ("managedPolicyArns".to_string(), json!(managed)),
                    (
                        "permissionsBoundary".to_string(),
                        role.permissions_boundary()
                            .and_then(|b| b.permissions_boundary_arn())
                            .map(|a| json!(a))
                            .unwrap_or(Value::Null),
                    ),
                ]),
                tags,
                ..ObservedResource::default()
            });
        }
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    if roles.is_empty() {
        return Ok(roles);
    }
    // Description and session length are not in that listing but are in ListRoles,
    // also read in pages, so the cost stays one of pages, not of roles.
    let mut settings: BTreeMap<String, (Option<String>, Option<i32>)> = BTreeMap::new();
    let mut pages = aws.iam.list_roles().max_items(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("iam:ListRoles", "the account", e))?;
        for role in page.roles() {
            settings.insert(
                role.role_name().to_string(),
                (
                    role.description().map(str::to_string),
                    role.max_session_duration(),
                ),
            );
        }
    }
    futures::stream::iter(roles)
        .map(|mut role| {
            let listed = settings.get(&role.aws_name).cloned();
            async move {
                // A role created between the two listings: read it alone.
                let (description, max_session) = match listed {
                    Some(listed) => listed,
                    None => {
                        let out = aws.iam.get_role().role_name(&role.aws_name).send().await;
                        let out = out.map_err(|e| {
                            classify("iam:GetRole", &format!("role {}", role.aws_name), e)
                        })?;
                        let r = out.role();
                        (
                            r.and_then(|r| r.description()).map(str::to_string),
                            r.and_then(|r| r.max_session_duration()),
                        )
                    }
                };
                // UpdateRole can only set a description, so one cleared (or never
                // given, after a re-run create) reads back as "".
                role.attrs.insert(
                    "description".into(),
                    description
                        .filter(|d| !d.is_empty())
                        .map(|d| json!(d))
                        .unwrap_or(Value::Null),
                );
                role.attrs.insert(
                    "maxSessionDuration".into(),
                    json!(max_session.unwrap_or(3600)),
                );
                Ok::<_, CloudError>(role)
            }
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await
}

pub async fn get(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    match aws.iam.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role().map(|r| ObservedResource {
            kind: KIND.into(),
            aws_name: name.to_string(),
            arn: Some(r.arn().to_string()),
            tags: tag_map(r.tags().iter().map(|t| (t.key(), t.value()))),
            ..ObservedResource::default()
        })),
        Err(e) => {
            let e = classify("iam:GetRole", &format!("role {name}"), e);
            e.absent_if_not_found()
        }
    }
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, CloudError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CloudError::new(ErrorClass::Validation, "iam:TagRole", e.to_string()))
}

pub async fn execute(aws: &Aws, op: &Op) -> Result<(), CloudError> {
    match op {
        Op::Create {
            name, attrs, tags, ..
        } => {
            let object = format!("role {name}");
            let role: RoleState = state_of(attrs, "iam:CreateRole")?;
            let create = aws
                .iam
                .create_role()
                .role_name(name)
                .path(&role.path)
                .assume_role_policy_document(role.trust_policy.to_string())
                .max_session_duration(role.max_session_duration)
                .set_description(role.description.clone())
                .set_permissions_boundary(role.permissions_boundary.clone())
                .set_tags(Some(iam_tags(tags)?));
            if let Err(e) = create.send().await {
                let e = classify("iam:CreateRole", &object, e);
                if e.class != ErrorClass::Conflict {
                    return Err(e);
                }
                let found = get(aws, name).await?;
                ensure_ours(
                    "iam:CreateRole",
                    &object,
                    tags,
                    found.as_ref().map(|r| &r.tags),
                )?;
                // Ours from an interrupted apply: bring it to the declared state.
                let all: Vec<String> = [
                    "trustPolicy",
                    "description",
                    "maxSessionDuration",
                    "permissionsBoundary",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                update_role(aws, name, &role, &all).await?;
            }
            policies(aws, name, &role.inline_policies, &role.managed_policy_arns).await
        }
        Op::Update {
            name,
            attrs,
            tags,
            fields,
            ..
        } => {
            let role: RoleState = state_of(attrs, "iam:UpdateRole")?;
            update_role(aws, name, &role, fields).await?;
            if fields
                .iter()
                .any(|f| f == "inlinePolicies" || f == "managedPolicyArns")
            {
                policies(aws, name, &role.inline_policies, &role.managed_policy_arns).await?;
            }
            set_tags(aws, name, tags).await
        }
        Op::Delete { name, .. } => delete(aws, name).await,
        Op::Untag { name, keys, .. } => aws
            .iam
            .untag_role()
            .role_name(name)
            .set_tag_keys(Some(keys.clone()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("iam:UntagRole", &format!("role {name}"), e)),
        Op::StopJob { .. } => Err(CloudError::new(
            ErrorClass::Fatal,
            "iam",
            "not an IAM operation",
        )),
    }
}

async fn update_role(
    aws: &Aws,
    name: &str,
    role: &RoleState,
    fields: &[String],
) -> Result<(), CloudError> {
    let object = format!("role {name}");
    let changed = |f: &str| fields.iter().any(|x| x == f);
    if changed("trustPolicy") {
        aws.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(role.trust_policy.to_string())
            .send()
            .await
            .map_err(|e| classify("iam:UpdateAssumeRolePolicy", &object, e))?;
    }
    if changed("description") || changed("maxSessionDuration") {
        aws.iam
            .update_role()
            .role_name(name)
            .description(role.description.as_deref().unwrap_or(""))
            .max_session_duration(role.max_session_duration)
            .send()
            .await
            .map_err(|e| classify("iam:UpdateRole", &object, e))?;
    }
    if changed("permissionsBoundary") {
        match &role.permissions_boundary {
            Some(b) => aws
                .iam
                .put_role_permissions_boundary()
                .role_name(name)
                .permissions_boundary(b)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("iam:PutRolePermissionsBoundary", &object, e))?,
            None => {
                if let Err(e) = aws
                    .iam
                    .delete_role_permissions_boundary()
                    .role_name(name)
                    .send()
                    .await
                {
                    let e = classify("iam:DeleteRolePermissionsBoundary", &object, e);
                    if e.class != ErrorClass::NotFound {
                        return Err(e);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Makes inline policies and managed attachments exactly the declared ones
/// (declared collections are authoritative).
async fn policies(
    aws: &Aws,
    name: &str,
    declared: &BTreeMap<String, Value>,
    managed: &[String],
) -> Result<(), CloudError> {
    let object = format!("role {name}");
    // Every page: a name left unread would be a stale policy left in place.
    let current: Vec<String> = aws
        .iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListRolePolicies", &object, e))?;
    for (policy_name, document) in declared {
        aws.iam
            .put_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .policy_document(document.to_string())
            .send()
            .await
            .map_err(|e| classify("iam:PutRolePolicy", &object, e))?;
    }
    for stale in current
        .iter()
        .filter(|p| !declared.contains_key(p.as_str()))
    {
        aws.iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(stale)
            .send()
            .await
            .map_err(|e| classify("iam:DeleteRolePolicy", &object, e))?;
    }
    let wanted: BTreeSet<String> = managed.iter().cloned().collect();
    let attached: BTreeSet<String> = aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListAttachedRolePolicies", &object, e))?
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    for arn in wanted.difference(&attached) {
        aws.iam
            .attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| classify("iam:AttachRolePolicy", &object, e))?;
    }
    for arn in attached.difference(&wanted) {
        aws.iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| classify("iam:DetachRolePolicy", &object, e))?;
    }
    Ok(())
}

/// Adds `tags` to the role, keeping its other tags.
pub async fn add_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    aws.iam
        .tag_role()
        .role_name(name)
        .set_tags(Some(iam_tags(tags)?))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("iam:TagRole", &format!("role {name}"), e))
}

async fn set_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let object = format!("role {name}");
    let current = aws
        .iam
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|e| classify("iam:ListRoleTags", &object, e))?;
    let stale = stale_tag_keys(current.tags().iter().map(|t| t.key()), tags);
    if !stale.is_empty() {
        aws.iam
            .untag_role()
            .role_name(name)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| classify("iam:UntagRole", &object, e))?;
    }
    aws.iam
        .tag_role()
        .role_name(name)
        .set_tags(Some(iam_tags(tags)?))
        .send()
        .await
        .map_err(|e| classify("iam:TagRole", &object, e))?;
    Ok(())
}

async fn delete(aws: &Aws, name: &str) -> Result<(), CloudError> {
    let object = format!("role {name}");
    if get(aws, name).await?.is_none() {
        return Ok(());
    }
    // A role is deleted only once no policy is left on it.
    policies(aws, name, &BTreeMap::new(), &[]).await?;
    aws.iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("iam:DeleteRole", &object, e))
}

crate::aws_face_of_functions!();
