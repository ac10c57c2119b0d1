//! CloudWatch Logs log groups: retention, KMS key, tags.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, json};

use crate::cloud::aws::{Aws, READ_CONCURRENCY, classify, ensure_ours, stale_tag_keys, tagged};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::log_group::LogGroupState;
use crate::kinds::state::{attrs_of, state_of};
use crate::model::ObservedResource;
use crate::model::Scope;
use crate::model::plan::Op;

pub const KIND: &str = "LogGroup";

struct Group {
    name: String,
    arn: String,
    retention: Option<i32>,
    kms: Option<String>,
    stored: i64,
}

async fn list(aws: &Aws, prefix: Option<&str>) -> Result<Vec<Group>, CloudError> {
    let groups = aws
        .logs
        .describe_log_groups()
        .set_log_group_name_prefix(prefix.map(str::to_string))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("logs:DescribeLogGroups", "the region", e))?;
    Ok(groups
        .iter()
        .filter_map(|g| {
            let name = g.log_group_name()?;
            // `arn` ends in `:*`; `logGroupArn` is the same without it.
            let arn = g
                .arn()
                .map(|a| a.trim_end_matches(":*").to_string())
                .or_else(|| g.log_group_arn().map(str::to_string))?;
            Some(Group {
                name: name.to_string(),
                arn,
                retention: g.retention_in_days(),
                kms: g.kms_key_id().map(str::to_string),
                stored: g.stored_bytes().unwrap_or(0),
            })
        })
        .collect())
}

async fn tags(aws: &Aws, group: &Group) -> Result<BTreeMap<String, String>, CloudError> {
    let out = aws
        .logs
        .list_tags_for_resource()
        .resource_arn(&group.arn)
        .send()
        .await
        .map_err(|e| {
            classify(
                "logs:ListTagsForResource",
                &format!("log group {}", group.name),
                e,
            )
        })?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

fn observed(group: &Group, tags: BTreeMap<String, String>) -> ObservedResource {
    ObservedResource {
        kind: KIND.into(),
        aws_name: group.name.clone(),
        arn: Some(group.arn.clone()),
        attrs: attrs_of(&LogGroupState {
            retention_days: group.retention,
            kms_key_id: group.kms.clone(),
        }),
        tags,
        facts: Map::from_iter([("storedBytes".to_string(), json!(group.stored))]),
        ..ObservedResource::default()
    }
}

pub async fn observe(aws: &Aws, scope: &Scope) -> Result<Vec<ObservedResource>, CloudError> {
    let groups = list(aws, None).await?;
    // This stack's groups come with their tags in pages; only declared groups the
    // index does not list as this stack's need a tag read of their own.
    let mut owned = tagged::owned(aws, &scope.stack, "logs").await?;
    let wanted: Vec<(Group, Option<BTreeMap<String, String>>)> = groups
        .into_iter()
        .filter_map(|group| match owned.remove(&group.arn) {
            Some(tags) => Some((group, Some(tags))),
            None => scope.declares(KIND, &group.name).then_some((group, None)),
        })
        .collect();
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(wanted)
        .map(|(group, known)| async move {
            let tags = match known {
                Some(tags) => tags,
                None => tags(aws, &group).await?,
            };
            let owned = tags
                .get(crate::model::TAG_STACK)
                .is_some_and(|s| s == &scope.stack);
            Ok::<_, CloudError>(
                (owned || scope.declares(KIND, &group.name)).then(|| observed(&group, tags)),
            )
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

pub async fn get(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    for group in list(aws, Some(name)).await? {
        if group.name == name {
            let tags = tags(aws, &group).await?;
            return Ok(Some(observed(&group, tags)));
        }
    }
    Ok(None)
}

fn arn(aws_account_arn: Option<String>, name: &str) -> String {
    aws_account_arn.unwrap_or_else(|| name.to_string())
}

pub async fn execute(aws: &Aws, op: &Op) -> Result<(), CloudError> {
    match op {
        Op::Create {
            name, attrs, tags, ..
        } => {
            let object = format!("log group {name}");
            let state: LogGroupState = state_of(attrs, &op.describe())?;
            let mut create = aws
                .logs
                .create_log_group()
                .log_group_name(name)
                .set_tags(Some(tags.clone().into_iter().collect()));
            if let Some(key) = &state.kms_key_id {
                create = create.kms_key_id(key);
            }
            if let Err(e) = create.send().await {
                let e = classify("logs:CreateLogGroup", &object, e);
                if e.class != ErrorClass::Conflict {
                    return Err(e);
                }
                let found = get(aws, name).await?;
                ensure_ours(
                    "logs:CreateLogGroup",
                    &object,
                    tags,
                    found.as_ref().map(|g| &g.tags),
                )?;
            }
            retention(aws, name, state.retention_days).await
        }
        Op::Update {
            name,
            attrs,
            tags,
            fields,
            ..
        } => {
            let object = format!("log group {name}");
            let state: LogGroupState = state_of(attrs, &op.describe())?;
            if fields.iter().any(|f| f == "retentionDays") {
                retention(aws, name, state.retention_days).await?;
            }
            if fields.iter().any(|f| f == "kmsKeyId") {
                match &state.kms_key_id {
                    Some(key) => aws
                        .logs
                        .associate_kms_key()
                        .log_group_name(name)
                        .kms_key_id(key)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| classify("logs:AssociateKmsKey", &object, e))?,
                    None => aws
                        .logs
                        .disassociate_kms_key()
                        .log_group_name(name)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| classify("logs:DisassociateKmsKey", &object, e))?,
                }
            }
            set_tags(aws, name, tags).await
        }
        Op::Delete { name, .. } => match aws
            .logs
            .delete_log_group()
            .log_group_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = classify("logs:DeleteLogGroup", &format!("log group {name}"), e);
                if e.class == ErrorClass::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        },
        Op::Untag { name, keys, .. } => {
            let Some(current) = get(aws, name).await? else {
                return Ok(());
            };
            aws.logs
                .untag_resource()
                .resource_arn(arn(current.arn, name))
                .set_tag_keys(Some(keys.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("logs:UntagResource", &format!("log group {name}"), e))
        }
        Op::StopJob { .. } => Err(CloudError::new(
            ErrorClass::Fatal,
            "logs",
            "not a CloudWatch Logs operation",
        )),
    }
}

async fn retention(aws: &Aws, name: &str, days: Option<i32>) -> Result<(), CloudError> {
    let object = format!("log group {name}");
    match days {
        Some(days) => aws
            .logs
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("logs:PutRetentionPolicy", &object, e)),
        None => aws
            .logs
            .delete_retention_policy()
            .log_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("logs:DeleteRetentionPolicy", &object, e)),
    }
}

/// Adds `tags` to the group, keeping its other tags.
pub async fn add_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let object = format!("log group {name}");
    let Some(current) = get(aws, name).await? else {
        return Err(CloudError::new(
            ErrorClass::NotFound,
            format!("logs:TagResource on {object}"),
            "the log group does not exist",
        ));
    };
    aws.logs
        .tag_resource()
        .resource_arn(arn(current.arn, name))
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify("logs:TagResource", &object, e))
}

/// Makes the group's tags exactly `tags`.
async fn set_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let object = format!("log group {name}");
    let Some(current) = get(aws, name).await? else {
        return Err(CloudError::new(
            ErrorClass::NotFound,
            format!("logs:TagResource on {object}"),
            "the log group does not exist",
        ));
    };
    let resource = arn(current.arn.clone(), name);
    let stale = stale_tag_keys(current.tags.keys().map(String::as_str), tags);
    if !stale.is_empty() {
        aws.logs
            .untag_resource()
            .resource_arn(&resource)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| classify("logs:UntagResource", &object, e))?;
    }
    if !tags.is_empty() {
        aws.logs
            .tag_resource()
            .resource_arn(&resource)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| classify("logs:TagResource", &object, e))?;
    }
    Ok(())
}

crate::aws_face_of_functions!();
