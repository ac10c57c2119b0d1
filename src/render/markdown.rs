//! The plan as a pull-request comment.

use std::fmt::Write as _;

use super::{field_lines, headline, summary_line};
use crate::plan::{Action, Change, Plan};

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### bedform plan: `{}` · account `{}` · `{}`\n",
        plan.stack, plan.account_id, plan.region
    );
    if !plan.has_changes() && plan.blocking().next().is_none() {
        let _ = writeln!(out, "**No changes.** The account matches the manifests.");
        return out;
    }
    let _ = writeln!(out, "**{}**\n", summary_line(&plan.summary));
    let mut warnings = Vec::new();
    for change in &plan.changes {
        if let Some(line) = warning_line(change) {
            warnings.push(line);
        }
    }
    for (change, purchase) in plan.purchases() {
        warnings.push(format!(
            "💰 **{}** buys {} model unit(s) of `{}` with a **{}** commitment (apply needs `--allow-commitment`)",
            change.address, purchase.model_units, purchase.model, purchase.commitment
        ));
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "> [!WARNING]");
        for warning in &warnings {
            let _ = writeln!(out, "> - {warning}");
        }
        let _ = writeln!(out);
    }
    let drift: Vec<&Change> = plan.changes.iter().filter(|c| c.drift).collect();
    if !drift.is_empty() {
        let _ = writeln!(out, "#### Changed outside bedform\n");
        for change in &drift {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                change.address,
                change
                    .fields
                    .iter()
                    .map(|f| format!("`{}`", f.path))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(out);
    }
    let shown: Vec<&Change> = plan.changes.iter().filter(|c| c.is_change()).collect();
    let _ = writeln!(
        out,
        "<details><summary>Details ({} change{})</summary>\n",
        shown.len(),
        if shown.len() == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "```diff");
    for change in shown {
        let _ = writeln!(out, "# {}", headline(change));
        if let Some(reason) = &change.reason {
            let _ = writeln!(out, "# ({reason})");
        }
        if let Some(status) = &change.status {
            let message = change
                .status_message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let _ = writeln!(out, "# status: {status}{message}");
        }
        let symbol = match change.action {
            Action::Create => '+',
            Action::Delete | Action::Refused | Action::Stop => '-',
            _ => '!',
        };
        let _ = writeln!(
            out,
            "{symbol} {} ({})",
            change.address,
            change.action.describe()
        );
        for field in &change.fields {
            for (sign, line) in field_lines(change.action, field) {
                let sign = if sign == '~' { '!' } else { sign };
                let _ = writeln!(out, "{sign}     {line}");
            }
        }
        for warning in &change.warnings {
            let _ = writeln!(out, "# warning: {warning}");
        }
        for note in &change.notes {
            let _ = writeln!(out, "# note: {note}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "```\n\n</details>");
    out
}

/// The warning a reviewer must not miss, if the change has one.
fn warning_line(change: &Change) -> Option<String> {
    let reason = change.reason.as_deref().unwrap_or("");
    let line = match change.action {
        Action::Delete => Some(format!(
            "🗑️ **{}** will be deleted: {reason}",
            change.address
        )),
        Action::Replace if change.retrains => Some(format!(
            "🔁 **{}** retrains: a new customization job runs ({reason})",
            change.address
        )),
        Action::Replace => Some(format!(
            "♻️ **{}** will be replaced: {reason}",
            change.address
        )),
        Action::Create if change.retrains => Some(format!(
            "🧪 **{}** starts a customization job",
            change.address
        )),
        Action::Refused => Some(format!("⛔ **{}** refused: {reason}", change.address)),
        Action::Unmanaged => Some(format!("❓ **{}**: {reason}", change.address)),
        Action::Stop => Some(format!(
            "⏹️ **{}** job `{}` will be stopped: {reason}",
            change.address, change.aws_name
        )),
        _ => None,
    };
    // What is lost must be in the summary, not only in the details.
    line.map(|line| {
        if change.deletes_data {
            format!("{line} — **deletes data**")
        } else {
            line
        }
    })
}
