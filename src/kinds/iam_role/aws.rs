//! IAM roles: trust policy, inline policies, managed attachments, tags. A plan
//! reads the declared roles by name and finds the undeclared ones it owns with
//! ListRoles (under the stack's `rolePath` when it has one); `bedform export`
//! reads every role in pages of GetAccountAuthorizationDetails, which returns
//! roles with their policies and tags.

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

/// The stack's roles: each declared role read by its name (GetRole, its inline
/// policies and attachments, concurrently), and the roles it owns but no longer
/// declares. IAM roles are not in the Resource Groups Tagging API's index, and
/// ListRoles, the cheapest listing (1,000 roles a page), carries no tags: the
/// listed roles that could be bedform's, those whose trust policy names Bedrock's
/// service principal, have their tags read; other teams' roles cost no more than
/// their share of ListRoles' pages. With the stack's `rolePath`, ListRoles lists
/// that path only, and other teams' roles cost nothing.
pub async fn observe(
    aws: &Aws,
    reads: &crate::cloud::aws::Reads<'_>,
) -> Result<Vec<ObservedResource>, CloudError> {
    let scope = reads.scope;
    if scope.everything {
        return observe_account(aws, scope).await;
    }
    let declared: Vec<String> = scope
        .declared
        .get(KIND)
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let read_declared = futures::stream::iter(declared)
        .map(|name| async move { read_role(aws, &name).await })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect::<Vec<Option<ObservedResource>>>();
    let prefix = scope.role_path.as_deref();
    let (declared, mut candidates) =
        futures::try_join!(read_declared, bedrock_roles(aws, scope, prefix))?;
    // A declared role found outside the stack's path was made before the stack
    // had one (apply replaces it into the path): its stack may own other roles
    // out there too, so this plan lists them all, as without a path.
    let outside = |r: &Option<ObservedResource>| {
        r.as_ref()
            .and_then(|r| r.attrs.get("path"))
            .and_then(Value::as_str)
            .zip(prefix)
            .is_some_and(|(path, prefix)| !path.starts_with(prefix))
    };
    if declared.iter().any(outside) {
        let everywhere = bedrock_roles(aws, scope, None).await?;
        candidates.extend(everywhere);
        candidates.sort();
        candidates.dedup();
    }
    let owned = futures::stream::iter(candidates)
        .map(|name| async move {
            let object = format!("role {name}");
            let listed = aws.iam.list_role_tags().role_name(&name).send().await;
            let tags = match listed {
                Ok(out) => tag_map(out.tags().iter().map(|t| (t.key(), t.value()))),
                // Deleted since it was listed.
                Err(e) => match classify("iam:ListRoleTags", &object, e) {
                    e if e.class == ErrorClass::NotFound => return Ok(None),
                    e => return Err(e),
                },
            };
            if tags.get(crate::model::TAG_STACK) != Some(&scope.stack) {
                return Ok(None);
            }
            read_role(aws, &name).await
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect::<Vec<Option<ObservedResource>>>()
        .await?;
    Ok(declared.into_iter().chain(owned).flatten().collect())
}

/// The names of the undeclared roles under `prefix` (all of the account's
/// without one) that Bedrock may assume, read from ListRoles, 1,000 a page.
async fn bedrock_roles(
    aws: &Aws,
    scope: &Scope,
    prefix: Option<&str>,
) -> Result<Vec<String>, CloudError> {
    let mut candidates = Vec::new();
    let mut pages = aws
        .iam
        .list_roles()
        .set_path_prefix(prefix.map(str::to_string))
        .max_items(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("iam:ListRoles", "the account", e))?;
        for role in page.roles() {
            let name = role.role_name();
            let trust = role.assume_role_policy_document().map(url_decode);
            if !scope.declares(KIND, name) && trust.is_some_and(|t| t.contains(BEDROCK_PRINCIPAL)) {
                candidates.push(name.to_string());
            }
        }
    }
    Ok(candidates)
}

/// The service principal of the roles bedform makes with `assumedBy: bedrock`.
const BEDROCK_PRINCIPAL: &str = "bedrock.amazonaws.com";

/// One role by its name, with its inline policies, attachments and tags; none if
/// it does not exist.
async fn read_role(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    let object = format!("role {name}");
    let role = async {
        match aws.iam.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role),
            Err(e) => classify("iam:GetRole", &object, e).absent_if_not_found(),
        }
    };
    let inline = async {
        let names = inline_policy_names(aws, name).await?;
        futures::stream::iter(names)
            .map(|policy| async move {
                let out = aws
                    .iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(&policy)
                    .send()
                    .await
                    .map_err(|e| classify("iam:GetRolePolicy", &format!("role {name}"), e))?;
                Ok::<_, CloudError>((policy, parse_policy(out.policy_document())))
            })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect::<Map<String, Value>>()
            .await
    };
    let managed = async {
        let arns: Vec<String> = attached_policy_arns(aws, name).await?.into_iter().collect();
        Ok::<_, CloudError>(arns)
    };
    // All three are sent, whatever each answers: the requests a read makes do not
    // depend on which answer comes first.
    let (role, inline, managed) = futures::join!(role, inline, managed);
    let Some(role) = role? else {
        return Ok(None);
    };
    let (inline, managed) = match (inline, managed) {
        (Ok(inline), Ok(managed)) => (inline, managed),
        // Deleted between the reads.
        (Err(e), _) | (_, Err(e)) if e.class == ErrorClass::NotFound => return Ok(None),
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    Ok(Some(role_resource(Role {
        name,
        arn: Some(role.arn()),
        path: Some(role.path()),
        trust: role.assume_role_policy_document(),
        inline,
        managed,
        boundary: role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn()),
        description: role.description(),
        max_session: role.max_session_duration(),
        tags: tag_map(role.tags().iter().map(|t| (t.key(), t.value()))),
    })))
}

/// What a role is read as, from whichever listing read it.
struct Role<'a> {
    name: &'a str,
    arn: Option<&'a str>,
    path: Option<&'a str>,
    /// URL-encoded, as IAM answers it.
    trust: Option<&'a str>,
    inline: Map<String, Value>,
    managed: Vec<String>,
    boundary: Option<&'a str>,
    description: Option<&'a str>,
    max_session: Option<i32>,
    tags: BTreeMap<String, String>,
}

fn role_resource(role: Role<'_>) -> ObservedResource {
    let mut managed = role.managed;
    managed.sort();
    ObservedResource {
        kind: KIND.into(),
        aws_name: role.name.to_string(),
        arn: role.arn.map(str::to_string),
        attrs: Map::from_iter([
            ("path".to_string(), json!(role.path.unwrap_or("/"))),
            (
                "trustPolicy".to_string(),
                role.trust.map(parse_policy).unwrap_or(Value::Null),
            ),
            ("inlinePolicies".to_string(), Value::Object(role.inline)),
            ("managedPolicyArns".to_string(), json!(managed)),
            (
                "permissionsBoundary".to_string(),
                role.boundary.map(|a| json!(a)).unwrap_or(Value::Null),
            ),
            // UpdateRole can only set a description, so one cleared (or never
            // given, after a re-run create) reads back as "".
            (
                "description".to_string(),
                role.description
                    .filter(|d| !d.is_empty())
                    .map(|d| json!(d))
                    .unwrap_or(Value::Null),
            ),
            (
                "maxSessionDuration".to_string(),
                json!(role.max_session.unwrap_or(3600)),
            ),
        ]),
        tags: role.tags,
        ..ObservedResource::default()
    }
}

/// Every role of the account with its policies and tags, in pages of
/// GetAccountAuthorizationDetails, and their descriptions and session lengths from
/// ListRoles (`bedform export`).
async fn observe_account(aws: &Aws, scope: &Scope) -> Result<Vec<ObservedResource>, CloudError> {
    let mut details = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = aws
            .iam
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .max_items(1000)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| classify("iam:GetAccountAuthorizationDetails", "the account", e))?;
        details.extend(page.role_detail_list().iter().cloned());
        if !page.is_truncated() {
            break;
        }
        marker = page.marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
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
    let mut roles = Vec::new();
    for role in &details {
        let Some(name) = role.role_name() else {
            continue;
        };
        if !scope.declares(KIND, name) {
            continue;
        }
        // A role created between the two listings has no settings: its defaults.
        let (description, max_session) = settings.get(name).cloned().unwrap_or_default();
        roles.push(role_resource(Role {
            name,
            arn: role.arn(),
            path: role.path(),
            trust: role.assume_role_policy_document(),
            inline: role
                .role_policy_list()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.policy_name()?.to_string(),
                        parse_policy(p.policy_document()?),
                    ))
                })
                .collect(),
            managed: role
                .attached_managed_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect(),
            boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn()),
            description: description.as_deref(),
            max_session,
            tags: tag_map(role.tags().iter().map(|t| (t.key(), t.value()))),
        }));
    }
    Ok(roles)
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
            // A role just made holds no policies: none to look for and remove.
            let made = match create.send().await {
                Ok(_) => true,
                Err(e) => {
                    let e = classify("iam:CreateRole", &object, e);
                    if e.class != ErrorClass::Conflict {
                        return Err(e);
                    }
                    false
                }
            };
            if !made {
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
            policies(
                aws,
                name,
                &role.inline_policies,
                &role.managed_policy_arns,
                made,
            )
            .await
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
                policies(
                    aws,
                    name,
                    &role.inline_policies,
                    &role.managed_policy_arns,
                    false,
                )
                .await?;
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

/// The names of the role's inline policies, every page.
async fn inline_policy_names(aws: &Aws, name: &str) -> Result<Vec<String>, CloudError> {
    aws.iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListRolePolicies", &format!("role {name}"), e))
}

/// The ARNs of the managed policies attached to the role, every page.
async fn attached_policy_arns(aws: &Aws, name: &str) -> Result<BTreeSet<String>, CloudError> {
    let attached: Vec<_> = aws
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListAttachedRolePolicies", &format!("role {name}"), e))?;
    Ok(attached
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

/// Makes inline policies and managed attachments exactly the declared ones
/// (declared collections are authoritative). A role `made` by this apply holds
/// none yet, so its policies are not listed.
async fn policies(
    aws: &Aws,
    name: &str,
    declared: &BTreeMap<String, Value>,
    managed: &[String],
    made: bool,
) -> Result<(), CloudError> {
    let object = format!("role {name}");
    // Every page: a name left unread would be a stale policy left in place.
    let current = if made {
        Vec::new()
    } else {
        inline_policy_names(aws, name).await?
    };
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
    let attached = if made {
        BTreeSet::new()
    } else {
        attached_policy_arns(aws, name).await?
    };
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
    policies(aws, name, &BTreeMap::new(), &[], false).await?;
    aws.iam
        .delete_role()
        .role_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("iam:DeleteRole", &object, e))
}

crate::aws_face_of_functions!();
