//! The plan for a terminal, Terraform-like.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{field_lines, summary_line};
use crate::plan::{Action, Change, Plan};

struct Paint {
    color: bool,
}

impl Paint {
    fn code(&self, symbol: &str) -> &'static str {
        if !self.color {
            return "";
        }
        match symbol {
            "+" => "\x1b[32m",
            "~" | "…" | "." => "\x1b[33m",
            "-" | "!" | "x" | "?" => "\x1b[31m",
            "-/+" | "+/-" => "\x1b[35m",
            _ => "\x1b[1m",
        }
    }
    fn paint(&self, symbol: &str, text: &str) -> String {
        if self.color {
            format!("{}{text}\x1b[0m", self.code(symbol))
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub fn render(plan: &Plan, color: bool) -> String {
    let plan = &super::for_people(plan);
    let paint = Paint { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "bedform plan for stack {} (account {}, region {})",
        paint.bold(&plan.stack),
        plan.account_id,
        plan.region
    );
    let visible: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.is_change() || !c.warnings.is_empty())
        .collect();
    let unchanged_with_status: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| {
            !c.is_change() && c.warnings.is_empty() && (c.status.is_some() || !c.notes.is_empty())
        })
        .collect();
    if visible.is_empty() {
        let _ = writeln!(out, "\nNo changes. The account matches the manifests.");
        render_status(&mut out, &unchanged_with_status);
        return out;
    }
    // In the order of the actions, not of the symbols' characters.
    let used: BTreeSet<(Action, bool)> = visible
        .iter()
        .filter(|c| c.is_change())
        // The order of a replacement is the only one its symbol shows.
        .map(|c| {
            let order_shown = c.action.symbol(true) != c.action.symbol(false);
            (c.action, order_shown && c.create_before_destroy)
        })
        .collect();
    if !used.is_empty() {
        let _ = writeln!(out, "\nSymbols:");
    }
    for &(action, create_first) in &used {
        let symbol = action.symbol(create_first);
        let _ = writeln!(
            out,
            "  {} {}",
            paint.paint(symbol, &format!("{symbol:>3}")),
            legend_text(action, create_first)
        );
    }
    let (drift, rest): (Vec<&Change>, Vec<&Change>) = visible.into_iter().partition(|c| c.drift);
    if !drift.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold(
                "Changed outside bedform (the manifests did not change; each says what apply does):"
            )
        );
        for change in drift {
            render_change(&mut out, &paint, change);
        }
    }
    // What only warns (a job that failed) is sent nothing: it is not an action.
    let (acting, attention): (Vec<&Change>, Vec<&Change>) =
        rest.into_iter().partition(|c| c.is_change());
    if !acting.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("bedform will perform these actions:")
        );
        for change in acting {
            render_change(&mut out, &paint, change);
        }
    }
    if !attention.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold("Needs attention (nothing is sent for these):")
        );
        for change in attention {
            render_change(&mut out, &paint, change);
        }
    }
    render_status(&mut out, &unchanged_with_status);
    render_costs(&mut out, plan);
    let _ = writeln!(out, "\n{}", paint.bold(&summary_line(&plan.summary)));
    for (change, purchase) in plan.purchases() {
        let _ = writeln!(
            out,
            "{}",
            paint.paint(
                "!",
                &format!(
                    "Purchase: {} buys {} model unit(s) of {} with a {} commitment; apply needs --allow-commitment.",
                    change.address, purchase.model_units, purchase.model, purchase.commitment
                )
            )
        );
    }
    let blocking: Vec<&Change> = plan.blocking().collect();
    if !blocking.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.paint(
                "x",
                &format!(
                    "Error: this plan cannot be applied: {} change(s) refused (marked x or ?).",
                    blocking.len()
                )
            )
        );
    }
    out
}

/// What the provisioned throughput in the plan costs, one line per resource.
fn render_costs(out: &mut String, plan: &Plan) {
    use crate::pricing::{commitment_words, dollars, group_thousands};
    let mut sources: Vec<&str> = Vec::new();
    for (n, (change, cost)) in plan.costs().enumerate() {
        if n == 0 {
            let _ = writeln!(out, "\nCost of provisioned throughput (USD):");
        }
        let model = match (&cost.priced_model, cost.custom) {
            (Some(model), false) => model.clone(),
            (Some(model), true) => format!("custom model of {model}"),
            (None, _) => "custom model of unknown base".into(),
        };
        let what = format!(
            "{} × {model}, {}",
            cost.model_units,
            commitment_words(&cost.commitment)
        );
        let price = match (cost.usd_per_unit_hour, cost.usd_per_hour) {
            (Some(unit), Some(hour)) => {
                if !sources.contains(&cost.source.as_str()) {
                    sources.push(&cost.source);
                }
                let term = match (cost.usd_term_total, cost.term_hours) {
                    (Some(total), Some(hours)) => format!(
                        ", {} for the whole term ({} hours)",
                        dollars(total),
                        group_thousands(hours)
                    ),
                    _ => ", billed every hour until deleted".into(),
                };
                format!(
                    "{} per unit-hour = {} per hour{term}",
                    dollars(unit),
                    dollars(hour)
                )
            }
            _ => format!("price {}", cost.source),
        };
        let _ = writeln!(out, "  {}: {what}: {price}", change.address);
        if let Some(line) = super::break_even_line(cost) {
            let _ = writeln!(out, "    {line}.");
        }
    }
    for source in sources {
        let _ = writeln!(out, "  Prices from {source}.");
    }
}

fn legend_text(action: Action, create_before_destroy: bool) -> &'static str {
    match (action, create_before_destroy) {
        (Action::Replace, true) => "create replacement, then delete",
        (Action::Replace, false) => "delete, then create replacement",
        (action, _) => action.describe(),
    }
}

fn render_change(out: &mut String, paint: &Paint, change: &Change) {
    let symbol = change.action.symbol(change.create_before_destroy);
    let _ = writeln!(out);
    for line in super::change_comments(change) {
        let _ = writeln!(out, "  {line}");
    }
    let head = paint.paint(symbol, &format!("{symbol:>3}"));
    if change.fields.is_empty() {
        let _ = writeln!(out, "{head} {}", change.address);
    } else {
        let _ = writeln!(out, "{head} {} {{", change.address);
        for field in &change.fields {
            for (sign, line) in field_lines(change.action, field) {
                let sign_text = sign.to_string();
                let _ = writeln!(
                    out,
                    "      {} {}",
                    paint.paint(&sign_text, &sign_text),
                    line
                );
            }
        }
        let _ = writeln!(out, "    }}");
    }
    for warning in &change.warnings {
        let _ = writeln!(out, "    {} {warning}", paint.paint("!", "warning:"));
    }
    for note in &change.notes {
        let _ = writeln!(out, "    note: {note}");
    }
}

fn render_status(out: &mut String, unchanged: &[&Change]) {
    if unchanged.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nUnchanged, for information:");
    for change in unchanged {
        let status = change
            .status
            .as_deref()
            .map(|s| format!(" [{s}]"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}{status}", change.address);
        if let Some(message) = &change.status_message {
            let _ = writeln!(out, "    {message}");
        }
        for note in &change.notes {
            let _ = writeln!(out, "    note: {note}");
        }
    }
}
