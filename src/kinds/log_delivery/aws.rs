//! How a log delivery is read and written through the SDK: CloudWatch Logs'
//! `PutDeliverySource`, `PutDeliveryDestination` and `CreateDelivery`, and their
//! deletes in the reverse order. The region's delivery sources are listed with
//! their tags (`DescribeDeliverySources`), so finding the stack's costs no tag
//! reads.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::DeliveryDestinationConfiguration;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Map, Value, json};

use super::{DeliveryState, KIND};
use crate::cloud::aws::bedrock::{invalid, unsupported};
use crate::cloud::aws::{
    Aws, LOGS_PAGE, READ_CONCURRENCY, Reads, classify, stale_tag_keys, tagged,
};
use crate::cloud::error::{CloudError, ErrorClass};
use crate::kinds::aws_face::AwsFace;
use crate::kinds::state::state_of;
use crate::model::plan::Op;
use crate::model::{ObservedResource, TAG_STACK};

fn object(name: &str) -> String {
    format!("log delivery {name}")
}

/// The delivery (source, destination, delivery) named `name`, as the plan sees
/// it: the source's tags; a part that is missing leaves its attribute empty, so
/// the plan makes the three again.
async fn read(
    aws: &Aws,
    name: &str,
    source: Option<&aws_sdk_cloudwatchlogs::types::DeliverySource>,
) -> Result<Option<ObservedResource>, CloudError> {
    let fetched;
    let source = match source {
        Some(s) => s,
        None => match aws.logs.get_delivery_source().name(name).send().await {
            Ok(out) => match out.delivery_source {
                Some(s) => {
                    fetched = s;
                    &fetched
                }
                None => return Ok(None),
            },
            Err(e) => {
                return classify("logs:GetDeliverySource", &object(name), e).absent_if_not_found();
            }
        },
    };
    let destination = match aws.logs.get_delivery_destination().name(name).send().await {
        Ok(out) => out
            .delivery_destination()
            .and_then(|d| d.delivery_destination_configuration())
            .map(|c| c.destination_resource_arn().to_string()),
        Err(e) => classify("logs:GetDeliveryDestination", &object(name), e)
            .absent_if_not_found::<()>()
            .map(|_| None)?,
    };
    let deliveries = aws
        .logs
        .describe_deliveries()
        .delivery_source_names(name)
        .limit(LOGS_PAGE)
        .send()
        .await
        .map_err(|e| classify("logs:DescribeDeliveries", &object(name), e))?;
    let delivered = deliveries
        .deliveries()
        .iter()
        .any(|d| d.delivery_source_name() == Some(name));
    let mut attrs = Map::new();
    attrs.insert(
        "sourceResourceArn".into(),
        json!(source.resource_arns().first()),
    );
    attrs.insert("logType".into(), json!(source.log_type()));
    // Without the delivery between them, nothing is delivered anywhere.
    attrs.insert(
        "destinationArn".into(),
        destination
            .filter(|_| delivered)
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    Ok(Some(ObservedResource {
        kind: KIND.into(),
        aws_name: name.to_string(),
        arn: source.arn().map(str::to_string),
        attrs,
        tags: source
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        ..ObservedResource::default()
    }))
}

async fn observe(aws: &Aws, reads: &Reads<'_>) -> Result<Vec<ObservedResource>, CloudError> {
    let scope = reads.scope;
    let owned = reads.owned(aws, "logs").await?;
    if !tagged::needs_listing(scope, KIND, owned.keys(), &["delivery-source"]) {
        return Ok(Vec::new());
    }
    let sources: Vec<_> = aws
        .logs
        .describe_delivery_sources()
        .limit(LOGS_PAGE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("logs:DescribeDeliverySources", "the region", e))?;
    let ours: Vec<aws_sdk_cloudwatchlogs::types::DeliverySource> = sources
        .into_iter()
        .filter_map(|source| {
            let name = source.name()?;
            let owned = source
                .tags()
                .and_then(|t| t.get(TAG_STACK))
                .is_some_and(|s| s == &scope.stack);
            (owned || scope.declares(KIND, name)).then_some(source)
        })
        .collect();
    // Each of the stack's sources has its destination and delivery read, at once.
    let found: Vec<Option<ObservedResource>> = futures::stream::iter(ours)
        .map(|source| async move {
            let name = source.name().unwrap_or_default();
            read(aws, name, Some(&source)).await
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn create(
    aws: &Aws,
    name: &str,
    attrs: &Map<String, Value>,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let state: DeliveryState = state_of(attrs, "logs:PutDeliverySource")?;
    let declared = tags;
    let tags: std::collections::HashMap<String, String> = tags.clone().into_iter().collect();
    // Each part is made only if it is not there yet (a re-run after a cut-off
    // apply), as tags are taken only on creation.
    let has_source = read_part(
        aws.logs.get_delivery_source().name(name).send().await,
        "logs:GetDeliverySource",
        name,
    )?;
    if !has_source {
        let out = aws
            .logs
            .put_delivery_source()
            .name(name)
            .resource_arn(&state.source_resource_arn)
            .log_type(&state.log_type)
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(|e| classify("logs:PutDeliverySource", &object(name), e))?;
        if let Some(arn) = out.delivery_source().and_then(|s| s.arn()) {
            tagged::await_indexed(aws, arn, declared, &object(name)).await;
        }
    }
    let destination_arn = match aws.logs.get_delivery_destination().name(name).send().await {
        Ok(out) => out
            .delivery_destination()
            .and_then(|d| d.arn())
            .map(str::to_string),
        Err(e) => classify("logs:GetDeliveryDestination", &object(name), e)
            .absent_if_not_found::<()>()
            .map(|_| None)?,
    };
    let destination_arn = match destination_arn {
        Some(arn) => arn,
        None => aws
            .logs
            .put_delivery_destination()
            .name(name)
            .delivery_destination_configuration(
                DeliveryDestinationConfiguration::builder()
                    .destination_resource_arn(&state.destination_arn)
                    .build()
                    .map_err(|e| invalid("logs:PutDeliveryDestination", e))?,
            )
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(|e| classify("logs:PutDeliveryDestination", &object(name), e))?
            .delivery_destination()
            .and_then(|d| d.arn())
            .map(str::to_string)
            .ok_or_else(|| {
                invalid(
                    "logs:PutDeliveryDestination",
                    "AWS returned no destination ARN",
                )
            })?,
    };
    match aws
        .logs
        .create_delivery()
        .delivery_source_name(name)
        .delivery_destination_arn(destination_arn)
        .set_tags(Some(tags))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = classify("logs:CreateDelivery", &object(name), e);
            // Made by an earlier, cut-off run: the same delivery.
            if e.class == ErrorClass::Conflict {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Whether a part exists, from its Get.
fn read_part<T, E>(
    result: Result<
        T,
        aws_sdk_cloudwatchlogs::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
    >,
    operation: &str,
    name: &str,
) -> Result<bool, CloudError>
where
    E: std::error::Error
        + Send
        + Sync
        + 'static
        + aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) => classify(operation, &object(name), e)
            .absent_if_not_found::<()>()
            .map(|_| false),
    }
}

async fn delete(aws: &Aws, name: &str) -> Result<(), CloudError> {
    let deliveries = aws
        .logs
        .describe_deliveries()
        .delivery_source_names(name)
        .limit(LOGS_PAGE)
        .send()
        .await
        .map_err(|e| classify("logs:DescribeDeliveries", &object(name), e))?;
    for id in deliveries
        .deliveries()
        .iter()
        .filter(|d| d.delivery_source_name() == Some(name))
        .filter_map(|d| d.id())
    {
        gone(
            aws.logs.delete_delivery().id(id).send().await.map(|_| ()),
            "logs:DeleteDelivery",
            name,
        )?;
    }
    gone(
        aws.logs
            .delete_delivery_destination()
            .name(name)
            .send()
            .await
            .map(|_| ()),
        "logs:DeleteDeliveryDestination",
        name,
    )?;
    gone(
        aws.logs
            .delete_delivery_source()
            .name(name)
            .send()
            .await
            .map(|_| ()),
        "logs:DeleteDeliverySource",
        name,
    )
}

/// A delete of what is already gone is done.
fn gone<E>(
    result: Result<
        (),
        aws_sdk_cloudwatchlogs::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
    >,
    operation: &str,
    name: &str,
) -> Result<(), CloudError>
where
    E: std::error::Error
        + Send
        + Sync
        + 'static
        + aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata,
{
    result.or_else(|e| {
        classify(operation, &object(name), e)
            .absent_if_not_found::<()>()
            .map(|_| ())
    })
}

/// The error of a tag change on a delivery whose source is gone.
fn no_source(name: &str) -> CloudError {
    CloudError::new(
        ErrorClass::NotFound,
        format!("logs:TagResource on {}", object(name)),
        "the delivery source does not exist",
    )
}

/// Makes the source's tags exactly `tags`.
async fn set_tags(
    aws: &Aws,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), CloudError> {
    let Some(found) = read(aws, name, None).await? else {
        return Err(no_source(name));
    };
    let arn = found.arn.unwrap_or_default();
    let stale = stale_tag_keys(found.tags.keys().map(String::as_str), tags);
    if !stale.is_empty() {
        aws.logs
            .untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| classify("logs:UntagResource", &object(name), e))?;
    }
    if !tags.is_empty() {
        aws.logs
            .tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| classify("logs:TagResource", &object(name), e))?;
    }
    Ok(())
}

/// The kind's AWS face.
pub struct Face;
pub static AWS: Face = Face;

#[async_trait]
impl AwsFace for Face {
    async fn observe(
        &self,
        aws: &Aws,
        reads: &Reads<'_>,
    ) -> Result<Vec<ObservedResource>, CloudError> {
        observe(aws, reads).await
    }
    async fn get(&self, aws: &Aws, name: &str) -> Result<Option<ObservedResource>, CloudError> {
        read(aws, name, None).await
    }
    async fn execute(&self, aws: &Aws, op: &Op) -> Result<(), CloudError> {
        match op {
            Op::Create {
                name, attrs, tags, ..
            } => create(aws, name, attrs, tags).await,
            Op::Update { name, tags, .. } => set_tags(aws, name, tags).await,
            Op::Delete { name, .. } => delete(aws, name).await,
            Op::Untag { name, keys, .. } => {
                let Some(found) = read(aws, name, None).await? else {
                    return Ok(());
                };
                let mut tags = found.tags;
                for key in keys {
                    tags.remove(key);
                }
                set_tags(aws, name, &tags).await
            }
            Op::StopJob { .. } => Err(unsupported(op, "a log delivery is not a job")),
        }
    }
    async fn add_tags(
        &self,
        aws: &Aws,
        name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        let Some(found) = read(aws, name, None).await? else {
            return Err(no_source(name));
        };
        let mut all = found.tags;
        all.extend(tags.clone());
        set_tags(aws, name, &all).await?;
        if let Some(arn) = &found.arn {
            tagged::await_indexed(aws, arn, &all, &object(name)).await;
        }
        Ok(())
    }
}
