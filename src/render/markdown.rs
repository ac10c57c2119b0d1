//! The plan as a pull-request comment: what a reviewer must see first (warnings,
//! cost, permission changes, drift) above the fold, details folded below, and the
//! whole within the size a pull-request comment may have.

use std::fmt::Write as _;

use super::{change_comments, cost_rows, field_lines, policy_lines, summary_line};
use crate::plan::{Action, Change, Plan};

/// The longest comment GitHub accepts, in characters. Lengths here are counted in
/// UTF-8 bytes, never fewer than the characters GitHub counts.
pub const COMMENT_LIMIT: usize = 65_536;

/// Room kept for the note that says what was cut.
const NOTE_ROOM: usize = 600;

/// Room kept for the section headings and fences, written once each.
const FRAMING: usize = 400;

pub fn render(plan: &Plan) -> String {
    render_within(plan, COMMENT_LIMIT)
}

/// The comment, cut to at most `limit` bytes: whole entries are left out, details
/// first, and a closing note says what was left out and where to see it.
pub fn render_within(plan: &Plan, limit: usize) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### bedform plan: `{}` · account `{}` · `{}`\n",
        plan.stack, plan.account_id, plan.region
    );
    if !plan.has_changes() && plan.blocking().next().is_none() {
        let _ = writeln!(head, "**No changes.** The account matches the manifests.");
        return head;
    }
    let _ = writeln!(head, "**{}**\n", summary_line(&plan.summary));
    let cost = cost_section(plan);
    let sections = Sections {
        warnings: warnings(plan),
        drift: plan
            .changes
            .iter()
            .filter(|c| c.drift)
            .map(drift_line)
            .collect(),
        policies: plan.changes.iter().filter_map(policy_block).collect(),
        details: plan
            .changes
            .iter()
            .filter(|c| c.is_change())
            .map(detail_entry)
            .collect(),
    };
    let total_details = sections.details.len();
    let mut budget = Budget {
        left: limit.saturating_sub(head.len() + cost.len() + NOTE_ROOM + FRAMING),
        cut: Vec::new(),
    };
    // Each entry is counted with the bytes written around it: `> - ` and a line
    // end for a warning, a line end for a drift line; diffs and details carry
    // their own.
    let warnings = budget.take("warnings", sections.warnings, 5);
    let drift = budget.take("drift lines", sections.drift, 1);
    let policies = budget.take("permission diffs", sections.policies, 0);
    let details = budget.take("change details", sections.details, 0);

    let mut out = head;
    if !warnings.is_empty() {
        let _ = writeln!(out, "> [!WARNING]");
        for warning in &warnings {
            let _ = writeln!(out, "> - {warning}");
        }
        let _ = writeln!(out);
    }
    out.push_str(&cost);
    if !policies.is_empty() {
        let _ = writeln!(out, "#### Permission changes\n");
        for block in &policies {
            out.push_str(block);
        }
    }
    if !drift.is_empty() {
        let _ = writeln!(out, "#### Changed outside bedform\n");
        for line in &drift {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out);
    }
    let shown = if details.len() < total_details {
        format!("; the first {} shown", details.len())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<details><summary>Details ({} change{}{shown})</summary>\n",
        total_details,
        if total_details == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "```diff");
    for entry in &details {
        out.push_str(entry);
    }
    let _ = writeln!(out, "```\n\n</details>");
    if !budget.cut.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!NOTE]\n> ✂️ Cut to fit a pull-request comment ({limit} characters): left out {}. \
             The whole plan is in `bedform plan --format human` or the saved plan file.",
            budget.cut.join(", ")
        );
    }
    out
}

/// Parts of the comment that may be cut, in the order they are given room.
struct Sections {
    warnings: Vec<String>,
    drift: Vec<String>,
    policies: Vec<String>,
    details: Vec<String>,
}

struct Budget {
    left: usize,
    /// What was left out, as `3 of 10 change details`.
    cut: Vec<String>,
}

impl Budget {
    /// The leading entries that fit, each counted with `overhead` bytes of framing.
    fn take(&mut self, what: &str, entries: Vec<String>, overhead: usize) -> Vec<String> {
        let total = entries.len();
        let mut kept = Vec::new();
        for entry in entries {
            let size = entry.len() + overhead;
            if size > self.left {
                break;
            }
            self.left -= size;
            kept.push(entry);
        }
        if kept.len() < total {
            self.cut
                .push(format!("the last {} of {total} {what}", total - kept.len()));
        }
        kept
    }
}

fn warnings(plan: &Plan) -> Vec<String> {
    let mut warnings: Vec<String> = plan.changes.iter().filter_map(warning_line).collect();
    for (change, purchase) in plan.purchases() {
        warnings.push(format!(
            "💰 **{}** buys {} model unit(s) of `{}` with a **{}** commitment (apply needs `--allow-commitment`)",
            change.address, purchase.model_units, purchase.model, purchase.commitment
        ));
    }
    for change in plan.changes.iter().filter(|c| policy_block(c).is_some()) {
        warnings.push(format!(
            "🔐 **{}** changes who may do what: {} (diff below)",
            change.address,
            permission_fields(change)
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    warnings
}

/// Fields that grant or take away permissions: a role's trust and permission
/// policies, and a bucket's resource policy.
fn permission_fields(change: &Change) -> Vec<&str> {
    let permission = |path: &str| match change.address.kind.as_str() {
        "IamRole" => matches!(path, "trustPolicy" | "inlinePolicies" | "managedPolicyArns"),
        "Bucket" => path == "policy",
        _ => false,
    };
    // An empty collection where there was none grants nothing.
    let grants_nothing = |f: &&crate::plan::FieldDiff| {
        f.before.is_none()
            && match &f.after {
                Some(serde_json::Value::Array(items)) => items.is_empty(),
                Some(serde_json::Value::Object(map)) => map.is_empty(),
                _ => false,
            }
    };
    change
        .fields
        .iter()
        .filter(|f| permission(&f.path) && !grants_nothing(f))
        .map(|f| f.path.as_str())
        .collect()
}

/// A readable diff of the permission policies a change creates or changes.
fn policy_block(change: &Change) -> Option<String> {
    if !matches!(
        change.action,
        Action::Create | Action::Update | Action::Replace | Action::Wait
    ) {
        return None;
    }
    let fields: Vec<_> = change
        .fields
        .iter()
        .filter(|f| permission_fields(change).contains(&f.path.as_str()))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let mut block = format!("**{}** ({}):\n\n```diff\n", change.address, change.aws_name);
    for field in fields {
        let _ = writeln!(block, "# {}", field.path);
        for (sign, line) in policy_lines(field) {
            let _ = writeln!(block, "{sign} {line}");
        }
    }
    block.push_str("```\n\n");
    Some(block)
}

fn drift_line(change: &Change) -> String {
    format!(
        "- `{}`: {}",
        change.address,
        change
            .fields
            .iter()
            .map(|f| format!("`{}`", f.path))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The cost table of the provisioned throughput the plan buys, if any.
fn cost_section(plan: &Plan) -> String {
    let rows = cost_rows(plan);
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("#### Cost of provisioned throughput (USD)\n\n");
    out.push_str(
        "| Resource | Priced as | Units | Term | Per unit-hour | Per hour | Whole term |\n",
    );
    out.push_str("|---|---|---:|---|---:|---:|---:|\n");
    for row in &rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            row.address,
            row.priced_as,
            row.units,
            row.term,
            row.per_unit_hour,
            row.per_hour,
            row.term_total
        );
    }
    out.push('\n');
    for source in super::cost_sources(&rows) {
        let _ = writeln!(out, "- {source}");
    }
    out.push('\n');
    out
}

fn detail_entry(change: &Change) -> String {
    let mut out = String::new();
    for line in change_comments(change) {
        let _ = writeln!(out, "{line}");
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
