//! Drawing a plan. JSON is the plan itself; the human and markdown renderers draw
//! from the same model, so they cannot disagree.

pub mod graph;
pub mod human;
pub mod markdown;

use serde_json::{Map, Value};

use crate::plan::{Action, Change, FieldDiff, Plan, Summary};

/// Output formats of `plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For a terminal: the changes, their diffs and what they cost
    Human,
    /// The machine-readable plan, as `plan --out` saves it
    Json,
    /// A pull-request comment, within `--max-length`
    Markdown,
}

pub fn render(plan: &Plan, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(plan, color),
        Format::Json => json(plan),
        Format::Markdown => markdown::render(plan),
    }
}

/// The JSON plan as printed: every value the API marks sensitive masked. Only the
/// saved plan (`plan --out`, written private) keeps them, because apply sends them.
pub fn json(plan: &Plan) -> String {
    let masked = redacted(plan);
    // Read back into the plan's own types, so members keep the plan's order.
    let mut text = match serde_json::from_value::<Plan>(masked.clone()) {
        Ok(plan) => serde_json::to_string_pretty(&plan),
        Err(_) => serde_json::to_string_pretty(&masked),
    }
    .unwrap_or_default();
    text.push('\n');
    text
}

/// The plan as a value with sensitive members and sensitive fields' values masked.
pub fn redacted(plan: &Plan) -> Value {
    let mut value = serde_json::to_value(plan).unwrap_or(Value::Null);
    redact(&mut value);
    value
}

/// The plan as people read it (human and markdown): sensitive values masked, and
/// every string made [`printable`](crate::diag::printable), so neither terminal
/// escapes nor invisible bidi controls from a manifest reach the reader. Done on
/// the plan's own types, member by member, so nothing can fall through unmasked.
pub fn for_people(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    let shown = |text: &mut String| {
        if let std::borrow::Cow::Owned(escaped) = crate::diag::printable(text) {
            *text = escaped;
        }
    };
    let shown_all = |texts: &mut Vec<String>| texts.iter_mut().for_each(shown);
    shown(&mut plan.stack);
    shown(&mut plan.account_id);
    shown(&mut plan.region);
    for change in &mut plan.changes {
        // `ops` (what apply sends) are not drawn by the human and markdown plans.
        shown(&mut change.address.name);
        shown(&mut change.aws_name);
        change.reason.iter_mut().for_each(shown);
        change.status.iter_mut().for_each(shown);
        change.status_message.iter_mut().for_each(shown);
        change.source.iter_mut().for_each(shown);
        shown_all(&mut change.warnings);
        shown_all(&mut change.notes);
        if let Some(wait) = &mut change.waits_on {
            shown(&mut wait.name);
            shown(&mut wait.reason);
            wait.job.iter_mut().for_each(shown);
        }
        if let Some(purchase) = &mut change.purchase {
            shown(&mut purchase.model);
            shown(&mut purchase.commitment);
        }
        if let Some(cost) = &mut change.cost {
            cost.priced_model.iter_mut().for_each(shown);
            shown(&mut cost.commitment);
            shown(&mut cost.source);
        }
        for field in &mut change.fields {
            shown(&mut field.path);
            let sensitive = field.sensitive || is_sensitive_path(&field.path);
            for value in [&mut field.before, &mut field.after].into_iter().flatten() {
                if sensitive {
                    *value = Value::String("(sensitive)".into());
                } else {
                    redact(value);
                    escape_strings(value);
                }
            }
        }
    }
    plan
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let sensitive_field = map.get("sensitive") == Some(&Value::Bool(true))
                || map
                    .get("path")
                    .and_then(Value::as_str)
                    .is_some_and(is_sensitive_path);
            for (key, member) in map.iter_mut() {
                let hide = is_sensitive_member(key)
                    || (sensitive_field && matches!(key.as_str(), "before" | "after"));
                if hide {
                    if !member.is_null() {
                        *member = Value::String("(sensitive)".into());
                    }
                } else {
                    redact(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn is_sensitive_path(path: &str) -> bool {
    path.split(['.', '[']).any(is_sensitive_member)
}

fn escape_strings(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(shown) = crate::diag::printable(text) {
                *text = shown;
            }
        }
        Value::Object(map) => {
            // Keys too: tag keys and policy names come from manifests.
            *map = std::mem::take(map)
                .into_iter()
                .map(|(key, mut member)| {
                    escape_strings(&mut member);
                    (crate::diag::printable(&key).into_owned(), member)
                })
                .collect();
        }
        Value::Array(items) => items.iter_mut().for_each(escape_strings),
        _ => {}
    }
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

/// Whether the Bedrock API marks a member sensitive (for any kind), wherever it
/// appears in a value.
fn is_sensitive_member(name: &str) -> bool {
    crate::kinds::Kind::sensitive_members().any(|member| member == name)
}

/// A value for display, with sensitive members replaced by `(sensitive)`. The plan
/// itself (JSON, saved plans) keeps the real values: apply needs them.
pub fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = if is_sensitive_member(k) {
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
    if !field.sensitive
        && let Some(lines) = leaf_diff_lines(field, forces)
    {
        return lines;
    }
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

/// A change inside a mapping (hyper-parameters, a teacher, tags) as one line per
/// leaf that changes, each marked when the field forces replacement, as long as
/// every changed leaf is a plain value; none otherwise (a policy's statements are
/// better read as a diff of the document).
fn leaf_diff_lines(field: &FieldDiff, forces: &str) -> Option<Vec<(char, String)>> {
    let (Some(Value::Object(before)), Some(Value::Object(after))) = (&field.before, &field.after)
    else {
        return None;
    };
    let mut lines = vec![('~', format!("{}:", field.path))];
    let mut unchanged = 0;
    leaves(&mut lines, &mut unchanged, "", before, after, forces)?;
    if unchanged > 0 {
        let what = if unchanged == 1 { "entry" } else { "entries" };
        lines.push((
            ' ',
            format!("    # ({unchanged} unchanged {what} not shown)"),
        ));
    }
    Some(lines)
}

fn leaves(
    lines: &mut Vec<(char, String)>,
    unchanged: &mut usize,
    prefix: &str,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    forces: &str,
) -> Option<()> {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let path = format!("{prefix}{key}");
        let sensitive = is_sensitive_member(key);
        let shown = |v: &Value| show_value(Some(v), sensitive);
        match (before.get(key), after.get(key)) {
            (Some(b), Some(a)) if b == a => *unchanged += 1,
            (Some(Value::Object(b)), Some(Value::Object(a))) => {
                leaves(lines, unchanged, &format!("{path}."), b, a, forces)?;
            }
            (b, a) => {
                let plain =
                    |v: Option<&Value>| !matches!(v, Some(Value::Object(_) | Value::Array(_)));
                if !plain(b) || !plain(a) {
                    return None;
                }
                lines.push(match (b, a) {
                    (Some(b), Some(a)) => (
                        '~',
                        format!("    {path}: {} -> {}{forces}", shown(b), shown(a)),
                    ),
                    (None, Some(a)) => ('+', format!("    {path} = {}{forces}", shown(a))),
                    (Some(b), _) => ('-', format!("    {path} = {}{forces}", shown(b))),
                    (None, None) => continue,
                });
            }
        }
    }
    Some(())
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
    /// The throughput's hourly cost beside the on-demand price of its model.
    pub break_even: Option<String>,
}

/// `on demand, amazon.nova-lite-v1:0 costs $0.00006 / $0.00024 per 1,000
/// input / output tokens: $21.18 per hour buys 353,000,000 input or ...`.
pub fn break_even_line(cost: &crate::pricing::Cost) -> Option<String> {
    let (input, output) = cost.break_even()?;
    let od = cost.on_demand.as_ref()?;
    let hour = cost.usd_per_hour?;
    Some(format!(
        "On demand, {} costs ${} per 1,000 input tokens and ${} per 1,000 output tokens ({}): the throughput's {} per hour buys {} input or {} output tokens an hour on demand, the break-even",
        cost.priced_model.as_deref().unwrap_or("the model"),
        od.usd_per_1k_input,
        od.usd_per_1k_output,
        od.source,
        crate::pricing::dollars(hour),
        crate::pricing::group_thousands(input),
        crate::pricing::group_thousands(output)
    ))
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
                break_even: break_even_line(cost),
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
