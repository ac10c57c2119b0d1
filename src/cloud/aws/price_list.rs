//! The AWS Price List Query API: every Amazon Bedrock product of a region
//! (`GetProducts`, service code `AmazonBedrock`), as the JSON documents the API
//! returns. What they mean is [`crate::pricing::price_list`]'s to say.

use aws_sdk_pricing::types::{Filter, FilterType};

use super::{Aws, classify};
use crate::cloud::error::CloudError;

/// The Price List's service code of Amazon Bedrock's models.
pub const SERVICE_CODE: &str = "AmazonBedrock";

/// The products of Amazon Bedrock in `region`, every page read.
pub async fn products(aws: &Aws, region: &str) -> Result<Vec<String>, CloudError> {
    let filter = Filter::builder()
        .r#type(FilterType::TermMatch)
        .field("regionCode")
        .value(region)
        .build()
        .map_err(|e| crate::cloud::aws::bedrock::invalid("pricing:GetProducts", e))?;
    let pages: Vec<Vec<String>> = aws
        .pricing
        .get_products()
        .service_code(SERVICE_CODE)
        .format_version("aws_v1")
        .filters(filter)
        // The most a page holds: a region's Bedrock products are about a thousand.
        .max_results(100)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| classify("pricing:GetProducts", "the AWS Price List", e))?
        .into_iter()
        .map(|page| page.price_list().to_vec())
        .collect();
    Ok(pages.into_iter().flatten().collect())
}
