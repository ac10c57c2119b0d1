//! The AWS Price List's Amazon Bedrock products, read into a price table: what
//! each product's attributes say it prices, mapped only where bedform knows what
//! they mean. Products of other kinds (batch, cross-region, cache, images...) and
//! of models bedform cannot name are counted, never guessed at.
//!
//! What is mapped, each product named by its model's display name (`model`
//! `Nova Lite`) and told apart by its usage type:
//! - on-demand tokens: `feature` `On-demand Inference`, `inferenceType` `Input
//!   tokens` / `Output tokens`, a usage type ending in `-input-tokens` /
//!   `-output-tokens` (batch, cross-region, custom-model and tiered rows share
//!   the attributes and differ only there), per `1K tokens` or `1M tokens`;
//! - custom models' tokens: the same with a usage type ending in
//!   `-input-tokens-custom-model` / `-output-tokens-custom-model`;
//! - provisioned throughput per model unit per `hour`: usage types ending in
//!   `-ProvisionedThroughput-NoCommit-ModelUnits`, `-1month-ModelUnits` and
//!   `-6month-ModelUnits` (`-ProvisionedThroughput-Custom-...` for custom
//!   models), where the Price List carries them (for a few models, and no
//!   six-month term seen).
//!
//! Customization training and custom model storage are carried too, and not used
//! by any plan yet.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{PriceEntry, PriceTable};

/// Where the table's figures come from, as plans name it.
pub const SOURCE: &str = "pricing:GetProducts, service code AmazonBedrock";

/// The Price List's display names of the models bedform prices, with their ids.
const MODELS: &[(&str, &str)] = &[
    ("Nova Micro", "amazon.nova-micro-v1:0"),
    ("Nova Lite", "amazon.nova-lite-v1:0"),
    ("Nova Pro", "amazon.nova-pro-v1:0"),
    ("Nova Premier", "amazon.nova-premier-v1:0"),
    ("Nova 2.0 Lite", "amazon.nova-2-lite-v1:0"),
];

/// The model id of a Price List display name.
pub fn model_id(display: &str) -> Option<&'static str> {
    MODELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(display.trim()))
        .map(|(_, id)| *id)
}

#[derive(Debug, Deserialize)]
struct Product {
    product: ProductPart,
    #[serde(default)]
    terms: Terms,
}

#[derive(Debug, Deserialize)]
struct ProductPart {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct Terms {
    #[serde(default, rename = "OnDemand")]
    on_demand: BTreeMap<String, Term>,
}

#[derive(Debug, Deserialize)]
struct Term {
    #[serde(default, rename = "priceDimensions")]
    price_dimensions: BTreeMap<String, Dimension>,
    #[serde(default, rename = "effectiveDate")]
    effective_date: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dimension {
    #[serde(default)]
    unit: String,
    #[serde(default, rename = "pricePerUnit")]
    price_per_unit: BTreeMap<String, String>,
}

/// What one mapped product prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Priced {
    InputTokens,
    OutputTokens,
    NoCommitment,
    OneMonth,
    SixMonths,
}

impl Priced {
    fn said(self) -> &'static str {
        match self {
            Priced::InputTokens => "input tokens",
            Priced::OutputTokens => "output tokens",
            Priced::NoCommitment => "provisioned throughput, no commitment",
            Priced::OneMonth => "provisioned throughput, one month",
            Priced::SixMonths => "provisioned throughput, six months",
        }
    }
}

/// One price a product gives: model id, what it prices, USD (per 1,000 tokens
/// or per model unit per hour), its SKU.
#[derive(Clone, Debug, PartialEq)]
struct Price {
    model: &'static str,
    priced: Priced,
    custom: bool,
    usd: f64,
    sku: String,
}

/// What a read of the Price List gave.
#[derive(Clone, Debug, Default)]
pub struct Read {
    pub table: Option<PriceTable>,
    /// Products read that bedform does not map (other features, models it
    /// cannot name), by SKU.
    pub unmapped: Vec<String>,
    /// (model, direction) priced twice, differently: left unpriced.
    pub ambiguous: Vec<String>,
}

/// What a product with these attributes prices, and whether for custom models
/// of the model it names, if bedform maps it.
fn priced(attributes: &BTreeMap<String, String>) -> Option<(Priced, bool)> {
    let attr = |k: &str| attributes.get(k).map(|v| v.trim());
    let usage = attr("usagetype")?;
    if let Some(inference) = attr("inferenceType") {
        // Custom models' tokens are told apart by their usage type alone.
        let (usage, custom) = match usage.strip_suffix("-custom-model") {
            Some(base) => (base, true),
            None if attr("feature") == Some("On-demand Inference") => (usage, false),
            None => return None,
        };
        return match inference {
            "Input tokens" if usage.ends_with("-input-tokens") => {
                Some((Priced::InputTokens, custom))
            }
            "Output tokens" if usage.ends_with("-output-tokens") => {
                Some((Priced::OutputTokens, custom))
            }
            _ => None,
        };
    }
    [
        (
            "-ProvisionedThroughput-NoCommit-ModelUnits",
            Priced::NoCommitment,
            false,
        ),
        (
            "-ProvisionedThroughput-1month-ModelUnits",
            Priced::OneMonth,
            false,
        ),
        (
            "-ProvisionedThroughput-6month-ModelUnits",
            Priced::SixMonths,
            false,
        ),
        (
            "-ProvisionedThroughput-Custom-NoCommit-ModelUnits",
            Priced::NoCommitment,
            true,
        ),
        (
            "-ProvisionedThroughput-Custom-1month-ModelUnits",
            Priced::OneMonth,
            true,
        ),
        (
            "-ProvisionedThroughput-Custom-6month-ModelUnits",
            Priced::SixMonths,
            true,
        ),
    ]
    .into_iter()
    .find(|(suffix, _, _)| usage.ends_with(suffix))
    .map(|(_, priced, custom)| (priced, custom))
}

/// The price `product` gives, if it is one bedform maps of a model it names;
/// `Err(sku)` when it is anything else.
fn price_of(product: &Product) -> Result<Price, String> {
    let sku = product.product.sku.clone();
    let attr = |k: &str| product.product.attributes.get(k).map(|v| v.trim());
    let Some((priced, custom)) = priced(&product.product.attributes) else {
        return Err(sku);
    };
    let Some(model) = attr("model").and_then(model_id) else {
        return Err(sku);
    };
    // One price, in USD, from its start: anything tiered is not mapped.
    let dimensions: Vec<&Dimension> = product
        .terms
        .on_demand
        .values()
        .flat_map(|t| t.price_dimensions.values())
        .collect();
    let [dimension] = dimensions.as_slice() else {
        return Err(sku);
    };
    let unit = dimension.unit.trim();
    let per = match (priced, unit) {
        (Priced::InputTokens | Priced::OutputTokens, "1K tokens") => 1.0,
        (Priced::InputTokens | Priced::OutputTokens, "1M tokens") => 1000.0,
        (Priced::NoCommitment | Priced::OneMonth | Priced::SixMonths, u)
            if u.eq_ignore_ascii_case("hour") || u.eq_ignore_ascii_case("hrs") =>
        {
            1.0
        }
        _ => return Err(sku),
    };
    let usd: f64 = dimension
        .price_per_unit
        .get("USD")
        .and_then(|p| p.trim().parse().ok())
        .filter(|p: &f64| p.is_finite() && *p > 0.0)
        .ok_or_else(|| sku.clone())?;
    Ok(Price {
        model,
        priced,
        custom,
        usd: usd / per,
        sku,
    })
}

/// The newest effective date of the products' terms (YYYY-MM-DD), if any.
fn effective(products: &[Product]) -> Option<String> {
    products
        .iter()
        .flat_map(|p| p.terms.on_demand.values())
        .filter_map(|t| t.effective_date.as_deref())
        .map(|d| d.chars().take(10).collect::<String>())
        .max()
}

/// Reads the products (`GetProducts`'s `PriceList` items) of `region`, read on
/// `read_on` (YYYY-MM-DD), into a table of on-demand token prices.
pub fn read(items: &[String], region: &str, read_on: &str) -> Read {
    let mut out = Read::default();
    let mut products = Vec::new();
    for item in items {
        match serde_json::from_str::<Product>(item) {
            Ok(product) => products.push(product),
            Err(_) => out.unmapped.push("(a product bedform cannot read)".into()),
        }
    }
    let mut prices: BTreeMap<(&'static str, bool, Priced), Vec<Price>> = BTreeMap::new();
    for product in &products {
        if product
            .product
            .attributes
            .get("regionCode")
            .is_some_and(|r| r != region)
        {
            out.unmapped.push(product.product.sku.clone());
            continue;
        }
        match price_of(product) {
            Ok(price) => prices
                .entry((price.model, price.custom, price.priced))
                .or_default()
                .push(price),
            Err(sku) => out.unmapped.push(sku),
        }
    }
    let mut by_model: BTreeMap<(&'static str, bool), PriceEntry> = BTreeMap::new();
    for ((model, custom, priced), found) in prices {
        let first = found[0].usd;
        if found.iter().any(|p| (p.usd - first).abs() > f64::EPSILON) {
            let skus: Vec<&str> = found.iter().map(|p| p.sku.as_str()).collect();
            out.ambiguous.push(format!(
                "{}{model} {}: {}",
                if custom { "custom models of " } else { "" },
                priced.said(),
                skus.join(", ")
            ));
            continue;
        }
        let entry = by_model
            .entry((model, custom))
            .or_insert_with(|| PriceEntry {
                model: model.to_string(),
                region: region.to_string(),
                custom,
                no_commitment: None,
                one_month: None,
                six_months: None,
                on_demand_input_per_1k: None,
                on_demand_output_per_1k: None,
                source: None,
                date: None,
            });
        let slot = match priced {
            Priced::InputTokens => &mut entry.on_demand_input_per_1k,
            Priced::OutputTokens => &mut entry.on_demand_output_per_1k,
            Priced::NoCommitment => &mut entry.no_commitment,
            Priced::OneMonth => &mut entry.one_month,
            Priced::SixMonths => &mut entry.six_months,
        };
        *slot = Some(first);
    }
    let entries: Vec<PriceEntry> = by_model.into_values().collect();
    if !entries.is_empty() {
        let effective = effective(&products);
        out.table = Some(PriceTable {
            source: match effective {
                Some(date) => format!("{SOURCE}, effective {date}"),
                None => SOURCE.to_string(),
            },
            date: read_on.to_string(),
            currency: "USD".into(),
            prices: entries,
            origin: "the AWS Price List".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(sku: &str, attrs: &[(&str, &str)], unit: &str, usd: &str) -> String {
        let attributes: serde_json::Map<String, serde_json::Value> = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
            .collect();
        serde_json::json!({
            "product": {"sku": sku, "attributes": attributes},
            "terms": {"OnDemand": {format!("{sku}.T"): {
                "effectiveDate": "2026-11-01T00:00:00Z",
                "priceDimensions": {format!("{sku}.T.R"): {
                    "unit": unit, "pricePerUnit": {"USD": usd}
                }}
            }}}
        })
        .to_string()
    }

    fn tokens(sku: &str, model: &str, direction: &str, unit: &str, usd: &str) -> String {
        let usage = format!(
            "USE1-{}-{}",
            model.replace(' ', ""),
            direction.to_lowercase().replace(' ', "-")
        );
        product(
            sku,
            &[
                ("regionCode", "us-east-1"),
                ("feature", "On-demand Inference"),
                ("inferenceType", direction),
                ("model", model),
                ("usagetype", &usage),
            ],
            unit,
            usd,
        )
    }

    #[test]
    fn on_demand_token_prices_are_read_per_1k_and_the_rest_is_counted() {
        let items = vec![
            tokens("A", "Nova Lite", "Input tokens", "1K tokens", "0.00006"),
            tokens("B", "Nova Lite", "Output tokens", "1M tokens", "0.24"),
            tokens("C", "Some Future Model", "Input tokens", "1K tokens", "1"),
            product(
                "D",
                &[("regionCode", "us-east-1"), ("feature", "Batch Inference")],
                "1K tokens",
                "0.00003",
            ),
        ];
        let read = read(&items, "us-east-1", "2026-12-04");
        let table = read.table.expect("a table");
        assert_eq!(table.prices.len(), 1);
        let lite = &table.prices[0];
        assert_eq!(lite.model, "amazon.nova-lite-v1:0");
        assert_eq!(lite.on_demand_input_per_1k, Some(0.00006));
        assert!((lite.on_demand_output_per_1k.unwrap() - 0.00024).abs() < 1e-12);
        assert_eq!(read.unmapped, ["C", "D"]);
        assert!(
            table.source.contains("effective 2026-11-01"),
            "{}",
            table.source
        );
    }

    #[test]
    fn rows_told_apart_only_by_their_usage_type_are_not_taken_for_on_demand() {
        let mut global = tokens("G", "Nova Lite", "Input tokens", "1K tokens", "0.00005");
        global = global.replace(
            "USE1-NovaLite-input-tokens",
            "USE1-NovaLite-input-tokens-cross-region-global",
        );
        let items = vec![
            tokens("A", "Nova Lite", "Input tokens", "1K tokens", "0.00006"),
            tokens("B", "Nova Lite", "Output tokens", "1K tokens", "0.00024"),
            global,
            product(
                "P",
                &[
                    ("regionCode", "us-east-1"),
                    ("feature", "Provisioned Throughput Inference - no commit"),
                    ("model", "Nova Lite"),
                    (
                        "usagetype",
                        "USE1-NovaLite-ProvisionedThroughput-NoCommit-ModelUnits",
                    ),
                ],
                "hour",
                "21.18",
            ),
        ];
        let read = read(&items, "us-east-1", "2026-12-04");
        assert!(read.ambiguous.is_empty(), "{:?}", read.ambiguous);
        assert_eq!(read.unmapped, ["G"]);
        let lite = &read.table.expect("a table").prices[0];
        assert_eq!(lite.on_demand_input_per_1k, Some(0.00006));
        assert_eq!(lite.no_commitment, Some(21.18));
        assert_eq!(lite.one_month, None);
    }

    #[test]
    fn two_different_prices_for_one_thing_price_nothing() {
        let items = vec![
            tokens("A", "Nova Pro", "Input tokens", "1K tokens", "0.0008"),
            tokens("B", "Nova Pro", "Input tokens", "1K tokens", "0.0009"),
            tokens("C", "Nova Pro", "Output tokens", "1K tokens", "0.0032"),
        ];
        let read = read(&items, "us-east-1", "2026-12-04");
        let pro = &read.table.as_ref().expect("a table").prices[0];
        assert_eq!(pro.on_demand_input_per_1k, None);
        let prices = crate::pricing::Prices::default().with_price_list(read.table.clone().unwrap());
        assert_eq!(
            prices.on_demand("amazon.nova-pro-v1:0", "us-east-1", false),
            None
        );
        assert_eq!(read.ambiguous, ["amazon.nova-pro-v1:0 input tokens: A, B"]);
    }
}
