//! Prices of provisioned throughput and of on-demand tokens, so a plan says what a
//! purchase costs and what serving on demand would cost instead.
//!
//! Tables in order of precedence: a user's own (`--prices FILE`), the AWS Price
//! List read at plan time ([`price_list`], cached for a day), and the table
//! bedform ships (`prices.yaml` beside this file), each figure with its source
//! and date. A model that no table prices is said to be unknown, never guessed.

pub mod cache;
pub mod price_list;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

/// Hours AWS bills per month of commitment in its estimates (8,760 / 12).
pub const HOURS_PER_MONTH: u64 = 730;

/// The table shipped with bedform.
const BUILTIN: &str = include_str!("prices.yaml");

/// One price table file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriceTable {
    /// Where the figures come from (a URL or a document).
    pub source: String,
    /// When they were read from the source (YYYY-MM-DD).
    pub date: String,
    /// Only USD is understood.
    #[serde(default = "usd")]
    pub currency: String,
    pub prices: Vec<PriceEntry>,
    /// The file the table was read from (set by the loader).
    #[serde(skip)]
    pub origin: String,
}

fn usd() -> String {
    "USD".into()
}

/// Prices of one model in one region, per model unit per hour.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriceEntry {
    /// Foundation model id (`anthropic.claude-v2:1`). A custom model is priced as
    /// its base model.
    pub model: String,
    /// A region, or `*` for every region.
    pub region: String,
    /// Prices custom models trained from `model`, which otherwise are priced as
    /// `model` itself.
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub no_commitment: Option<f64>,
    #[serde(default)]
    pub one_month: Option<f64>,
    #[serde(default)]
    pub six_months: Option<f64>,
    /// USD per 1,000 input tokens on demand.
    #[serde(default)]
    pub on_demand_input_per_1k: Option<f64>,
    /// USD per 1,000 output tokens on demand.
    #[serde(default)]
    pub on_demand_output_per_1k: Option<f64>,
    /// Where this entry's figures come from, when not the table's source.
    #[serde(default)]
    pub source: Option<String>,
    /// When this entry's figures were read (YYYY-MM-DD), when not the table's date.
    #[serde(default)]
    pub date: Option<String>,
}

impl PriceEntry {
    fn for_commitment(&self, commitment: &str) -> Option<f64> {
        match commitment {
            "none" => self.no_commitment,
            "oneMonth" => self.one_month,
            "sixMonths" => self.six_months,
            _ => None,
        }
    }
}

/// A price found, with where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Quote {
    pub per_unit_hour: f64,
    /// `file (source, as of date)`.
    pub source: String,
}

/// On-demand token prices found, with where they come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnDemand {
    pub usd_per_1k_input: f64,
    pub usd_per_1k_output: f64,
    pub source: String,
}

impl PriceTable {
    /// `file (source, as of date)` of one entry.
    fn source_of(&self, entry: &PriceEntry) -> String {
        format!(
            "{} ({}, as of {})",
            self.origin,
            entry.source.as_deref().unwrap_or(&self.source),
            entry.date.as_deref().unwrap_or(&self.date)
        )
    }
}

/// Price tables in order of precedence: the user's first, then bedform's own.
#[derive(Clone, Debug)]
pub struct Prices {
    tables: Vec<Arc<PriceTable>>,
    /// Why the AWS Price List is not among the tables, when it should be.
    note: Option<String>,
}

impl Default for Prices {
    fn default() -> Self {
        Prices {
            tables: vec![builtin()],
            note: None,
        }
    }
}

/// bedform's own table, read once.
pub fn builtin() -> Arc<PriceTable> {
    static TABLE: OnceLock<Arc<PriceTable>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            // A test reads the shipped table, so a broken one never ships.
            let table = parse(BUILTIN, "bedform's price table")
                .unwrap_or_else(|e| panic!("the built-in price table is invalid: {e}"));
            Arc::new(table)
        })
        .clone()
}

/// Why a price table could not be used; each names the table.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    #[error("reading the price table {shown}: {source}")]
    Unreadable {
        shown: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the price table {0}")]
    File(#[from] crate::files::FileError),
    #[error("{origin}: not a price table (not UTF-8 text); not quoted")]
    NotText { origin: String },
    /// A file that may be anything: where it broke, never what it says.
    #[error(
        "{origin}: not a bedform price table{at}; the file is not quoted (the README says what a price table holds)"
    )]
    NotATable { origin: String, at: String },
    #[error("{origin}: {source}")]
    Yaml {
        origin: String,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("{origin}: currency `{currency}` is not supported; prices must be in USD")]
    Currency { origin: String, currency: String },
    #[error(
        "{origin}: the {term} price of `{model}` in {region} must be a positive number of USD, not {price}"
    )]
    Price {
        origin: String,
        term: &'static str,
        model: String,
        region: String,
        price: f64,
    },
}

/// Largest price table read.
const MAX_TABLE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a table from a file that may be anything (a flag or `BEDFORM_PRICES` can
/// name any file): a parse error gives where, never what, so no line of a file
/// that is not a price table is printed.
fn parse_untrusted(text: &str, origin: &str) -> Result<PriceTable, PriceError> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    let mut table: PriceTable =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" at line {} column {}", l.line(), l.column()))
                .unwrap_or_default();
            PriceError::NotATable {
                origin: origin.to_string(),
                at,
            }
        })?;
    table.origin = origin.to_string();
    check_table(table, origin)
}

/// Reads a price table, checking that every figure is a usable price.
pub fn parse(text: &str, origin: &str) -> Result<PriceTable, PriceError> {
    let mut table: PriceTable =
        serde_saphyr::from_str(text).map_err(|source| PriceError::Yaml {
            origin: origin.to_string(),
            source: Box::new(source),
        })?;
    table.origin = origin.to_string();
    check_table(table, origin)
}

fn check_table(table: PriceTable, origin: &str) -> Result<PriceTable, PriceError> {
    if table.currency != "USD" {
        return Err(PriceError::Currency {
            origin: origin.to_string(),
            currency: table.currency.clone(),
        });
    }
    for entry in &table.prices {
        for (term, price) in [
            ("noCommitment", entry.no_commitment),
            ("oneMonth", entry.one_month),
            ("sixMonths", entry.six_months),
            ("onDemandInputPer1k", entry.on_demand_input_per_1k),
            ("onDemandOutputPer1k", entry.on_demand_output_per_1k),
        ] {
            if let Some(price) = price
                && !(price.is_finite() && price > 0.0)
            {
                return Err(PriceError::Price {
                    origin: origin.to_string(),
                    term,
                    model: entry.model.clone(),
                    region: entry.region.clone(),
                    price,
                });
            }
        }
    }
    Ok(table)
}

impl Prices {
    /// bedform's table behind the user's table in `path`.
    pub fn with_user_file(path: &Path) -> Result<Prices, PriceError> {
        let shown = crate::files::shown(path);
        let real = std::fs::canonicalize(path).map_err(|source| PriceError::Unreadable {
            shown: shown.clone(),
            source,
        })?;
        let bytes = crate::files::read_regular(&real, &shown, MAX_TABLE_BYTES)?;
        let text = String::from_utf8(bytes).map_err(|_| PriceError::NotText {
            origin: shown.clone(),
        })?;
        let user = parse_untrusted(&text, &shown)?;
        Ok(Prices {
            tables: vec![Arc::new(user), builtin()],
            note: None,
        })
    }

    /// These prices with `table` (the AWS Price List) before bedform's own table,
    /// after the user's.
    pub fn with_price_list(mut self, table: PriceTable) -> Prices {
        let at = self.tables.len().saturating_sub(1);
        self.tables.insert(at, Arc::new(table));
        self
    }

    /// These prices, saying why the AWS Price List is not among them.
    pub fn noting(mut self, note: String) -> Prices {
        self.note = Some(note);
        self
    }

    /// Why the AWS Price List is not among the tables, if it should be.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// The tables, first first.
    pub fn tables(&self) -> &[Arc<PriceTable>] {
        &self.tables
    }

    /// The on-demand token prices of `model` (or, when `custom`, of custom
    /// models trained from it) in `region`, from the first table that has both.
    pub fn on_demand(&self, model: &str, region: &str, custom: bool) -> Option<OnDemand> {
        let candidates = model_candidates(model);
        for table in &self.tables {
            for wanted_region in [region, "*"] {
                for candidate in &candidates {
                    let found = table.prices.iter().find(|e| {
                        e.region == wanted_region
                            && &e.model == candidate
                            && e.custom == custom
                            && e.on_demand_input_per_1k.is_some()
                            && e.on_demand_output_per_1k.is_some()
                    });
                    if let Some(e) = found {
                        return Some(OnDemand {
                            usd_per_1k_input: e.on_demand_input_per_1k.unwrap_or_default(),
                            usd_per_1k_output: e.on_demand_output_per_1k.unwrap_or_default(),
                            source: table.source_of(e),
                        });
                    }
                }
            }
        }
        None
    }

    /// The price per model unit per hour of `model` (or, when `custom`, of a custom
    /// model trained from it) in `region` under `commitment` (`none`, `oneMonth`,
    /// `sixMonths`), from the first table that has one.
    pub fn quote(
        &self,
        model: &str,
        region: &str,
        commitment: &str,
        custom: bool,
    ) -> Option<Quote> {
        let candidates = model_candidates(model);
        // A custom model's own price first, then its base model's.
        let kinds: &[bool] = if custom { &[true, false] } else { &[false] };
        for table in &self.tables {
            for (wanted_region, &wanted_custom) in [region, "*"]
                .into_iter()
                .flat_map(|r| kinds.iter().map(move |k| (r, k)))
            {
                for candidate in &candidates {
                    let found = table
                        .prices
                        .iter()
                        .filter(|e| {
                            e.region == wanted_region
                                && &e.model == candidate
                                && e.custom == wanted_custom
                        })
                        .find_map(|e| e.for_commitment(commitment).map(|p| (e, p)));
                    if let Some((entry, per_unit_hour)) = found {
                        return Some(Quote {
                            per_unit_hour,
                            source: table.source_of(entry),
                        });
                    }
                }
            }
        }
        None
    }
}

/// The model id and, for a context-window variant (`amazon.titan-text-express-v1:0:8k`),
/// the model it is a variant of.
fn model_candidates(model: &str) -> Vec<String> {
    let id = crate::models::normalise_model(model);
    let mut candidates = vec![id.clone()];
    if let Some((base, suffix)) = id.rsplit_once(':')
        && base.contains(':')
        && suffix.ends_with('k')
        && suffix[..suffix.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        candidates.push(base.to_string());
    }
    candidates
}

/// Hours in a commitment term, none for no commitment.
pub fn term_hours(commitment: &str) -> Option<u64> {
    match commitment {
        "oneMonth" => Some(HOURS_PER_MONTH),
        "sixMonths" => Some(6 * HOURS_PER_MONTH),
        _ => None,
    }
}

/// What a throughput change costs, as the plan carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// The model priced: the throughput's foundation model, or a custom model's base
    /// model (unknown when the custom model's base cannot be told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priced_model: Option<String>,
    /// The throughput serves a custom model of `priced_model`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom: bool,
    pub model_units: u64,
    /// `none`, `oneMonth` or `sixMonths`.
    pub commitment: String,
    /// Hours billed for the commitment term (730 a month, as AWS estimates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_hours: Option<u64>,
    /// USD per model unit per hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_unit_hour: Option<f64>,
    /// USD per hour for all the units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_per_hour: Option<f64>,
    /// USD for the whole commitment term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd_term_total: Option<f64>,
    /// Where the price comes from, or why it is unknown.
    pub source: String,
    /// What the same model costs on demand, when known: a reviewer sets the
    /// throughput's hourly cost beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand: Option<OnDemand>,
}

impl Cost {
    /// The cost of `model_units` of `priced_model` (a custom model's base model when
    /// `custom`) under `commitment` in `region`.
    pub fn of(
        prices: &Prices,
        priced_model: Option<&str>,
        custom: bool,
        model_units: u64,
        commitment: &str,
        region: &str,
    ) -> Cost {
        let quote = priced_model.and_then(|m| prices.quote(m, region, commitment, custom));
        let term_hours = term_hours(commitment);
        let source = match (&quote, priced_model) {
            (Some(quote), _) => quote.source.clone(),
            (None, Some(model)) => format!(
                "unknown: no {} price for {}`{model}` in {region} in the price tables; give one with --prices FILE",
                commitment_words(commitment),
                if custom { "custom models of " } else { "" }
            ),
            (None, None) => {
                "unknown: the custom model's base model is not known yet, so it cannot be priced"
                    .to_string()
            }
        };
        let per_unit = quote.map(|q| q.per_unit_hour);
        let per_hour = per_unit.map(|p| cents(p * model_units as f64));
        // On demand, a custom model is priced as custom models of its base, not
        // as the base model itself.
        let on_demand = priced_model.and_then(|m| prices.on_demand(m, region, custom));
        let source = match prices.note() {
            Some(note) if !source.contains("AWS Price List") => format!("{source}; {note}"),
            _ => source,
        };
        Cost {
            priced_model: priced_model.map(crate::models::normalise_model),
            custom,
            model_units,
            commitment: commitment.to_string(),
            term_hours,
            usd_per_unit_hour: per_unit,
            usd_per_hour: per_hour,
            usd_term_total: per_hour
                .zip(term_hours)
                .map(|(hour, hours)| cents(hour * hours as f64)),
            source,
            on_demand,
        }
    }

    /// How many tokens an hour cost on demand what the throughput costs an hour:
    /// (input tokens, output tokens), each as if the hour held only that kind.
    pub fn break_even(&self) -> Option<(u64, u64)> {
        let hour = self.usd_per_hour?;
        let od = self.on_demand.as_ref()?;
        let tokens = |per_1k: f64| (hour / per_1k * 1000.0).round() as u64;
        Some((tokens(od.usd_per_1k_input), tokens(od.usd_per_1k_output)))
    }

    pub fn is_known(&self) -> bool {
        self.usd_per_unit_hour.is_some()
    }
}

/// `no-commitment`, `one-month` or `six-month` as said in a sentence.
pub fn commitment_words(commitment: &str) -> &'static str {
    match commitment {
        "oneMonth" => "one-month commitment",
        "sixMonths" => "six-month commitment",
        _ => "no-commitment",
    }
}

fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// `$1,234.56`.
pub fn dollars(amount: f64) -> String {
    let cents = (amount * 100.0).round() as u64;
    format!("${}.{:02}", group_thousands(cents / 100), cents % 100)
}

/// `4,380`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_models_on_demand_are_priced_by_their_own_entries_only() {
        let table = parse(
            "source: t\ndate: \"2026-12-01\"\nprices:\n  - {model: amazon.nova-lite-v1:0, region: us-east-1, onDemandInputPer1k: 0.00006, onDemandOutputPer1k: 0.00024}\n  - {model: amazon.nova-lite-v1:0, region: us-east-1, custom: true, onDemandInputPer1k: 0.0001, onDemandOutputPer1k: 0.0004, source: a rate card, date: \"2026-11-15\"}\n",
            "t.yaml",
        )
        .unwrap();
        let prices = Prices::default().with_price_list(table);
        let base = prices
            .on_demand("amazon.nova-lite-v1:0", "us-east-1", false)
            .unwrap();
        assert_eq!(base.usd_per_1k_input, 0.00006);
        let custom = prices
            .on_demand("amazon.nova-lite-v1:0", "us-east-1", true)
            .unwrap();
        assert_eq!(custom.usd_per_1k_output, 0.0004);
        assert_eq!(custom.source, "t.yaml (a rate card, as of 2026-11-15)");
        assert_eq!(
            prices.on_demand("amazon.nova-lite-v1:0", "eu-west-1", true),
            None
        );
        // A throughput's hour beside the tokens it would buy on demand.
        let cost = Cost {
            usd_per_hour: Some(24.0),
            on_demand: Some(base),
            ..Cost::of(&prices, None, false, 1, "none", "us-east-1")
        };
        assert_eq!(cost.break_even(), Some((400_000_000, 100_000_000)));
    }

    #[test]
    fn dollars_are_grouped_with_cents() {
        assert_eq!(dollars(0.5), "$0.50");
        assert_eq!(dollars(63.0), "$63.00");
        assert_eq!(dollars(45_990.0), "$45,990.00");
        assert_eq!(dollars(1_234_567.891), "$1,234,567.89");
    }

    #[test]
    fn context_window_variants_are_priced_as_their_model() {
        assert_eq!(
            model_candidates("amazon.titan-text-express-v1:0:8k"),
            vec![
                "amazon.titan-text-express-v1:0:8k".to_string(),
                "amazon.titan-text-express-v1:0".to_string()
            ]
        );
        assert_eq!(
            model_candidates("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:1"),
            vec!["anthropic.claude-v2:1".to_string()]
        );
    }
}
