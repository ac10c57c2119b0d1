//! Drawing a plan. JSON is the plan itself; the human and markdown renderers draw
//! from the same model, so they cannot disagree.

pub mod human;
pub mod markdown;

use serde_json::Value;

use crate::plan::{Action, Change, FieldDiff, Plan, Summary};

/// Output formats of `plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

pub fn render(plan: &Plan, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(plan, color),
        Format::Json => json(plan),
        Format::Markdown => markdown::render(plan),
    }
}

pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}

/// `Plan: 2 to create, 1 to update, 0 to replace, 0 to delete.` with other counts
/// appended when there are any.
pub fn summary_line(summary: &Summary) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete",
        summary.create, summary.update, summary.replace, summary.delete
    );
    for (count, what) in [
        (summary.stop, "to stop"),
        (summary.forget, "to release"),
        (summary.wait, "waiting"),
        (summary.refused, "refused"),
        (summary.unmanaged, "not managed"),
    ] {
        if count > 0 {
            line.push_str(&format!(", {count} {what}"));
        }
    }
    line.push('.');
    line
}

/// The heading of a change: `# ProvisionedThroughput/support-bot must be replaced`.
pub fn headline(change: &Change) -> String {
    let what = match change.action {
        Action::Create => "will be created",
        Action::Update => "will be updated in-place",
        Action::Replace => "must be replaced",
        Action::Delete => "will be deleted",
        Action::Stop => "will be stopped",
        Action::Forget => "will be released (kept in AWS)",
        Action::Wait => "is waiting",
        Action::NoOp => "is unchanged",
        Action::Refused => "cannot be changed as planned",
        Action::Unmanaged => "exists but is not managed by this stack",
    };
    let name = if change.aws_name != change.address.name {
        format!(" ({})", change.aws_name)
    } else {
        String::new()
    };
    format!("{}{name} {what}", change.address)
}

/// The comment lines above a change: its headline, why, and its status in AWS.
pub fn change_comments(change: &Change) -> Vec<String> {
    let mut lines = vec![format!("# {}", headline(change))];
    if let Some(reason) = &change.reason {
        lines.push(format!("# ({reason})"));
    }
    if let Some(status) = &change.status {
        let message = change
            .status_message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        lines.push(format!("# status: {status}{message}"));
    }
    lines
}

/// A value as shown in a plan.
pub fn show_value(value: Option<&Value>, sensitive: bool) -> String {
    match value.map(masked) {
        _ if sensitive => "(sensitive)".into(),
        None => "(none)".into(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

/// Members the Bedrock API marks sensitive, wherever they appear in a value.
const SENSITIVE_MEMBERS: &[&str] = &["requestMetadataFilters", "useCaseForm"];

/// A value for display, with sensitive members replaced by `(sensitive)`. The plan
/// itself (JSON, saved plans) keeps the real values: apply needs them.
pub fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = if SENSITIVE_MEMBERS.contains(&k.as_str()) {
                        Value::String("(sensitive)".into())
                    } else {
                        masked(v)
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// Lines for one field difference (without the leading symbol column).
pub fn field_lines(action: Action, field: &FieldDiff) -> Vec<(char, String)> {
    let forces = if field.forces_replacement {
        "   # forces replacement"
    } else {
        ""
    };
    let before = show_value(field.before.as_ref(), field.sensitive);
    let after = show_value(field.after.as_ref(), field.sensitive);
    let forces = if action == Action::Create { "" } else { forces };
    match (field.before.is_some(), field.after.is_some()) {
        (false, true) => whole_value(
            '+',
            &field.path,
            field.after.as_ref(),
            &after,
            forces,
            field.sensitive,
        ),
        (true, false) => whole_value(
            '-',
            &field.path,
            field.before.as_ref(),
            &before,
            forces,
            field.sensitive,
        ),
        _ => {
            let short = before.len() + after.len() < 100;
            if short {
                vec![('~', format!("{}: {before} -> {after}{forces}", field.path))]
            } else {
                let mut lines = vec![('~', format!("{}:{forces}", field.path))];
                lines.extend(pretty_diff(
                    field.before.as_ref(),
                    field.after.as_ref(),
                    field.sensitive,
                ));
                lines
            }
        }
    }
}

/// A value added or removed whole: on one line when short, else pretty-printed
/// below its name (policy documents, filters).
fn whole_value(
    sign: char,
    path: &str,
    value: Option<&Value>,
    shown: &str,
    forces: &str,
    sensitive: bool,
) -> Vec<(char, String)> {
    let structured = matches!(value, Some(Value::Object(_) | Value::Array(_)));
    if sensitive || !structured || shown.len() <= 80 {
        return vec![(sign, format!("{path} = {shown}{forces}"))];
    }
    let pretty = value
        .map(|v| serde_json::to_string_pretty(&masked(v)).unwrap_or_default())
        .unwrap_or_default();
    let mut lines = vec![(sign, format!("{path} ={forces}"))];
    lines.extend(pretty.lines().map(|l| (sign, format!("    {l}"))));
    lines
}

/// A permission policy field as a line diff of its pretty-printed JSON, whatever
/// its size, so a reviewer reads each statement granted or taken away.
pub fn policy_lines(field: &FieldDiff) -> Vec<(char, String)> {
    pretty_diff(field.before.as_ref(), field.after.as_ref(), field.sensitive)
        .into_iter()
        .map(|(sign, line)| {
            let line = line.strip_prefix("    ").unwrap_or(&line).to_string();
            (sign, line)
        })
        .collect()
}

/// One row of the cost table, as text.
pub struct CostRow {
    pub address: String,
    /// The model priced, in backticks: `` `id` `` or ``custom model of `id` ``.
    pub priced_as: String,
    pub units: u64,
    pub term: String,
    pub per_unit_hour: String,
    pub per_hour: String,
    pub term_total: String,
    pub source: String,
}

/// The cost of every throughput the plan creates, for the cost tables.
pub fn cost_rows(plan: &Plan) -> Vec<CostRow> {
    use crate::pricing::dollars;
    plan.costs()
        .map(|(change, cost)| {
            let unknown = || "unknown".to_string();
            CostRow {
                address: change.address.to_string(),
                priced_as: match (&cost.priced_model, cost.custom) {
                    (Some(model), false) => format!("`{model}`"),
                    (Some(model), true) => format!("custom model of `{model}`"),
                    (None, _) => "custom model of unknown base".into(),
                },
                units: cost.model_units,
                term: match cost.term_hours {
                    Some(hours) => format!(
                        "{} ({} h)",
                        crate::pricing::commitment_words(&cost.commitment),
                        crate::pricing::group_thousands(hours)
                    ),
                    None => "no commitment (hourly)".into(),
                },
                per_unit_hour: cost.usd_per_unit_hour.map(dollars).unwrap_or_else(unknown),
                per_hour: cost.usd_per_hour.map(dollars).unwrap_or_else(unknown),
                term_total: match (cost.term_hours, cost.usd_term_total) {
                    (None, _) => "no term".into(),
                    (Some(_), Some(total)) => dollars(total),
                    (Some(_), None) => unknown(),
                },
                source: cost.source.clone(),
            }
        })
        .collect()
}

/// The distinct sources of the prices in `rows` (or why they are unknown), each
/// said once: `Prices: ...` or `ProvisionedThroughput/x: unknown: ...`.
pub fn cost_sources(rows: &[CostRow]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for row in rows {
        let line = if row.source.starts_with("unknown") {
            format!("`{}`: price {}", row.address, row.source)
        } else {
            format!("Prices: {}", row.source)
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

/// A line diff of two JSON values, pretty-printed.
fn pretty_diff(
    before: Option<&Value>,
    after: Option<&Value>,
    sensitive: bool,
) -> Vec<(char, String)> {
    if sensitive {
        return vec![(' ', "    (sensitive)".into())];
    }
    let pretty = |v: Option<&Value>| {
        let v = v.map(masked);
        let v = v.as_ref();
        v.map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .unwrap_or_default()
    };
    let (old, new) = (pretty(before), pretty(after));
    let diff = similar::TextDiff::from_lines(&old, &new);
    let mut lines = Vec::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        lines.push((
            sign,
            format!("    {}", change.value().trim_end_matches('\n')),
        ));
    }
    lines
}
