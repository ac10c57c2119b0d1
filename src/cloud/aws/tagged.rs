//! Finding the stack's own objects in pages, through the Resource Groups Tagging
//! API, instead of reading every object's tags one call at a time.
//!
//! The tagging index trails the services by a little: an object tagged a moment ago
//! may not be listed yet. Callers therefore still read, one by one, the tags of
//! declared objects that the index did not list as this stack's, so a fresh object
//! is never mistaken for someone else's; in a settled account that is none.

use std::collections::BTreeMap;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use super::{Aws, classify};
use crate::cloud::CloudError;

/// Tags by ARN of the objects of a service (`s3`, `logs`) that carry this stack's
/// `bedform:stack` tag. The filter names the service only (moto_server does not
/// match `logs:log-group`); callers keep the ARNs of the objects they list.
pub async fn owned(
    aws: &Aws,
    stack: &str,
    service: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, CloudError> {
    let filter = TagFilter::builder()
        .key(crate::model::TAG_STACK)
        .values(stack)
        .build();
    let mut pages = aws
        .tagging
        .get_resources()
        .tag_filters(filter)
        .resource_type_filters(service)
        .resources_per_page(100)
        .into_paginator()
        .send();
    let mut found = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            classify(
                "tag:GetResources",
                &format!("{service} objects of stack {stack}"),
                e,
            )
        })?;
        for mapping in page.resource_tag_mapping_list() {
            let Some(arn) = mapping.resource_arn() else {
                continue;
            };
            let tags = super::tag_map(mapping.tags().iter().map(|t| (t.key(), t.value())));
            found.insert(arn.to_string(), tags);
        }
    }
    Ok(found)
}
