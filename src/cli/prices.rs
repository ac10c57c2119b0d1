//! Prices from the AWS Price List for plans, and `bedform prices`: what bedform
//! knows of a region's prices, table by table, for people checking a plan's
//! figures.

use std::fmt::Write as _;

use crate::cloud::{Cloud, ErrorClass};
use crate::exit::ExitStatus;
use crate::model::DesiredStack;
use crate::model::plan::PlanOptions;
use crate::pricing::{PriceTable, Prices, cache, dollars, price_list};

use super::CliError;
use super::flags::*;
use super::settings::*;

/// The kinds whose plans show prices.
const PRICED: &[&str] = &["ProvisionedThroughput", "CustomModelDeployment"];

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What reading the Price List for `region` gave: the table and what was not
/// mapped, or why there is none.
async fn read(cloud: &dyn Cloud, region: &str) -> Result<price_list::Read, String> {
    let now = now();
    let (products, read_at) = match cache::load(region, now) {
        Some(cached) => cached,
        None => match cloud.price_list(region).await {
            Ok(products) => {
                if let Err(e) = cache::store(region, &products, now) {
                    tracing::debug!("the price list cache was not written: {e}");
                }
                (products, now)
            }
            Err(e) if e.class == ErrorClass::AccessDenied => {
                return Err(
                    "the AWS Price List could not be read (pricing:GetProducts was denied to these credentials), so prices come from the other tables".to_string(),
                );
            }
            Err(e) => {
                return Err(format!(
                    "the AWS Price List could not be read ({e}), so prices come from the other tables"
                ));
            }
        },
    };
    Ok(price_list::read(&products, region, &cache::day(read_at)))
}

/// `prices` with the AWS Price List's table for `region`, or with a note of why
/// it is not there.
async fn add_price_list(
    prices: Prices,
    cloud: &dyn Cloud,
    region: &str,
) -> (Prices, Option<price_list::Read>) {
    match read(cloud, region).await {
        Ok(read) => match read.table.clone() {
            Some(table) => (prices.with_price_list(table), Some(read)),
            None => (
                prices.noting(format!(
                    "the AWS Price List holds no Amazon Bedrock token price bedform maps in {region}"
                )),
                Some(read),
            ),
        },
        Err(note) => (prices.noting(note), None),
    }
}

/// `options` with the AWS Price List's prices for the stack's region, when the
/// stack buys or serves something priced and the account reads the Price List.
pub(super) async fn with_price_list(
    mut options: PlanOptions,
    cloud: &dyn Cloud,
    desired: &DesiredStack,
) -> PlanOptions {
    let priced = desired
        .resources
        .iter()
        .any(|r| !r.absent && PRICED.contains(&r.address.kind.as_str()));
    if !priced || !cloud.reads_price_list() {
        return options;
    }
    let prices = std::mem::take(&mut options.prices);
    options.prices = add_price_list(prices, cloud, &desired.stack.region).await.0;
    options
}

/// One table's lines for `model` (or every model) in `region`.
fn table_lines(table: &PriceTable, region: &str, model: Option<&str>) -> Vec<String> {
    let wanted = model.map(crate::models::normalise_model);
    let mut lines = Vec::new();
    for entry in table
        .prices
        .iter()
        .filter(|e| e.region == region || e.region == "*")
        .filter(|e| wanted.as_deref().is_none_or(|m| e.model == m))
    {
        let mut terms = Vec::new();
        for (term, price) in [
            ("no commitment", entry.no_commitment),
            ("one month", entry.one_month),
            ("six months", entry.six_months),
        ] {
            if let Some(price) = price {
                terms.push(format!("{term} {} per model unit-hour", dollars(price)));
            }
        }
        if let (Some(input), Some(output)) =
            (entry.on_demand_input_per_1k, entry.on_demand_output_per_1k)
        {
            terms.push(format!(
                "on demand ${input} per 1,000 input tokens and ${output} per 1,000 output tokens"
            ));
        }
        let mut line = format!(
            "  {}{}{}: {}",
            entry.model,
            if entry.custom { " (custom models)" } else { "" },
            if entry.region == "*" {
                " (every region)"
            } else {
                ""
            },
            terms.join("; ")
        );
        if entry.source.is_some() || entry.date.is_some() {
            let _ = write!(
                line,
                " ({}, as of {})",
                entry.source.as_deref().unwrap_or(&table.source),
                entry.date.as_deref().unwrap_or(&table.date)
            );
        }
        lines.push(line);
    }
    lines
}

pub(super) async fn prices_command(cli: &Cli, args: &PricesArgs) -> Result<ExitStatus, CliError> {
    let region = region_without_manifests(&cli.global, "prices")?;
    let options = plan_options(&cli.global, &[], false)?;
    let cloud = open_cloud(&cli.global, None, &region).await?;
    let (prices, read) = if cloud.reads_price_list() {
        add_price_list(options.prices, cloud.as_ref(), &region).await
    } else {
        (
            options
                .prices
                .noting("the sandbox reads no AWS Price List".into()),
            None,
        )
    };
    let mut out = format!("Prices bedform knows for {region} (USD):\n");
    let mut any = false;
    for table in prices.tables() {
        let lines = table_lines(table, &region, args.model.as_deref());
        let _ = writeln!(
            out,
            "\n{} ({}, as of {}):",
            table.origin, table.source, table.date
        );
        if lines.is_empty() {
            let _ = writeln!(
                out,
                "  nothing for this region{}",
                match &args.model {
                    Some(m) => format!(" and `{m}`"),
                    None => String::new(),
                }
            );
        }
        any |= !lines.is_empty();
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    }
    if let Some(note) = prices.note() {
        let _ = writeln!(out, "\nNote: {note}.");
    }
    if let Some(read) = &read {
        if !read.unmapped.is_empty() {
            let _ = writeln!(
                out,
                "\nThe AWS Price List holds {} more Amazon Bedrock product(s) in {region} that bedform does not map (other features, or models it does not name).",
                read.unmapped.len()
            );
        }
        for ambiguous in &read.ambiguous {
            let _ = writeln!(
                out,
                "Priced more than once, differently, so left unpriced: {ambiguous}."
            );
        }
    }
    if !any && let Some(model) = &args.model {
        let _ = writeln!(
            out,
            "\nNo table prices `{model}` in {region}: bedform says its price is unknown; give one with --prices FILE."
        );
    }
    crate::out!("{}", out.trim_end());
    Ok(ExitStatus::Success)
}
