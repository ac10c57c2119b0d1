//! CloudWatch Logs log groups: retention, KMS key, tags.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, json};

use crate::cloud::aws::{Aws, LOGS_PAGE, READ_CONCURRENCY, classify, ensure_ours, stale_tag_keys};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::log_group::LogGroupState;
use crate::kinds::state::{attrs_of, state_of};
use crate::model::ObservedResource;
use crate::model::plan::Op;

pub const KIND: &str = "LogGroup";

struct Group {
    name: String,
    arn: String,
    retention: Option<i32>,
    kms: Option<String>,
    stored: i64,
}

fn group_of(g: &aws_sdk_cloudwatchlogs::types::LogGroup) -> Option<Group> {
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
}

/// The log group named `name`, read with one call: groups are listed by name, so
/// the group whose name is the prefix itself comes first.
async fn find(aws: &Aws, name: &str) -> Result<Option<Group>, CloudError> {
    let out = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .limit(1)
        .send()
        .await
        .map_err(|e| classify("logs:DescribeLogGroups", &format!("log group {name}"), e))?;
    Ok(out
        .log_groups()
        .iter()
        .filter_map(group_of)
        .find(|g| g.name == name))
}

/// `NAME` of `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`.
fn name_of_arn(arn: &str) -> Option<&str> {
    arn.splitn(7, ':').nth(6)
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

/// The stack's declared groups, each read by its name, and the groups its tags say
/// it owns (from the tagging index): the cost is the stack's, whatever else the
/// region holds. A declared group the index does not list as the stack's (fresh,
/// or someone else's) has its tags read on its own; in a settled account none.
pub async fn observe(
    aws: &Aws,
    reads: &crate::cloud::aws::Reads<'_>,
) -> Result<Vec<ObservedResource>, CloudError> {
    let scope = reads.scope;
    if scope.everything {
        return observe_everything(aws).await;
    }
    let owned = reads.owned(aws, "logs").await?;
    let mut names: BTreeMap<String, Option<BTreeMap<String, String>>> = scope
        .declared
        .get(KIND)
        .into_iter()
        .flatten()
        .map(|name| (name.clone(), None))
        .collect();
    for (arn, tags) in owned {
        if let Some(name) = name_of_arn(&arn) {
            names.insert(name.to_string(), Some(tags));
        }
    }
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(names)
        .map(|(name, known)| async move {
            let Some(group) = find(aws, &name).await? else {
                return Ok(None);
            };
            let tags = match known {
                Some(tags) => tags,
                None => tags(aws, &group).await?,
            };
            Ok::<_, CloudError>(Some(observed(&group, tags)))
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Every group of the region (`bedform export`), in pages.
async fn observe_everything(aws: &Aws) -> Result<Vec<ObservedResource>, CloudError> {
    let listed: Vec<aws_sdk_cloudwatchlogs::types::LogGroup> = aws
        .logs
        .describe_log_groups()
        .limit(LOGS_PAGE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("logs:DescribeLogGroups", "the region", e))?;
    let groups: Vec<Group> = listed.iter().filter_map(group_of).collect();
    futures::stream::iter(groups)
        .map(|group| async move {
            let tags = tags(aws, &group).await?;
            Ok::<_, CloudError>(observed(&group, tags))
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await
}

pub async fn get(aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
    match find(aws, name).await? {
        Some(group) => {
            let tags = tags(aws, &group).await?;
            Ok(Some(observed(&group, tags)))
        }
        None => Ok(None),
    }
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
