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
    let plan = &super::for_people(plan);
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### bedform plan: {} · account {} · {}\n",
        code(&plan.stack),
        code(&plan.account_id),
        code(&plan.region)
    );
    // Nothing to do and nothing to warn about; a warning (a job that failed) is
    // never dropped from the comment.
    if !plan.has_changes()
        && plan.blocking().next().is_none()
        && plan.changes.iter().all(|c| c.warnings.is_empty())
    {
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
        graph: graph_section(plan),
    };
    let total_details = sections.details.len();
    let total_policies = sections.policies.len();
    let mut budget = Budget {
        left: limit.saturating_sub(head.len() + cost.len() + NOTE_ROOM + FRAMING),
        cut: Vec::new(),
    };
    // Each entry is counted with the bytes written around it: `> - ` and a line
    // end for a warning, a line end for a drift line; diffs and details carry
    // their own.
    let sections_warning_count = sections.warnings.len();
    let warnings = budget.take("warnings", sections.warnings, 5);
    let drift = budget.take("drift lines", sections.drift, 1);
    let policies = budget.take("permission diffs", sections.policies, 0);
    let details = budget.take("change details", sections.details, 0);
    // The picture comes last for room: it is the first thing cut.
    let graph = match sections.graph {
        Some(graph) if budget.cut.is_empty() => budget.take("graph", vec![graph], 0),
        Some(_) => {
            budget.cut.insert(0, "the graph".to_string());
            Vec::new()
        }
        None => Vec::new(),
    };
    // The permission warnings come last, one per permission diff in the same
    // order: a warning whose diff was cut does not point below.
    let first_policy_warning = sections_warning_count - total_policies;
    let warnings: Vec<String> = warnings
        .into_iter()
        .enumerate()
        .map(|(i, warning)| match i.checked_sub(first_policy_warning) {
            Some(k) if k >= policies.len() => warning.replace(DIFF_BELOW, DIFF_CUT),
            _ => warning,
        })
        .collect();

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
    // A plan of notes and warnings only has no details to fold, and a comment
    // too short for even one entry shows no empty block: the note says so.
    if !details.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Details ({} change{}{shown})</summary>\n",
            total_details,
            if total_details == 1 { "" } else { "s" }
        );
        let body: String = details.concat();
        let fence = fence_for(&body);
        let _ = writeln!(out, "{fence}diff");
        out.push_str(&body);
        let _ = writeln!(out, "{fence}\n\n</details>");
    }
    for section in &graph {
        out.push_str(section);
    }
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

/// How a permission warning points at its diff, and what it says instead when
/// the diff was cut (no longer, so the budget the warning took still holds).
const DIFF_BELOW: &str = "(diff below)";
const DIFF_CUT: &str = "(diff cut)";

/// Parts of the comment that may be cut, in the order they are given room.
struct Sections {
    warnings: Vec<String>,
    drift: Vec<String>,
    policies: Vec<String>,
    details: Vec<String>,
    graph: Option<String>,
}

/// What changes and its direct neighbours as a Mermaid graph, folded.
fn graph_section(plan: &Plan) -> Option<String> {
    let graph = super::graph::Graph::of_plan(plan).around_changes();
    if graph.is_empty() {
        return None;
    }
    // Labels are entities outside a safe set: no backtick can end the block.
    Some(format!(
        "\n<details><summary>Graph of what changes ({} resource{})</summary>\n\n```mermaid\n{}```\n\n</details>\n",
        graph.nodes.len(),
        if graph.nodes.len() == 1 { "" } else { "s" },
        graph.mermaid()
    ))
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
            self.cut.push(if total == 1 {
                format!("the {what}")
            } else {
                format!("the last {} of {total} {what}", total - kept.len())
            });
        }
        kept
    }
}

fn warnings(plan: &Plan) -> Vec<String> {
    let mut warnings: Vec<String> = plan.changes.iter().filter_map(warning_line).collect();
    // A change with nothing to send has no details entry: its warnings (a job
    // that did not complete) are said here.
    for change in plan.changes.iter().filter(|c| !c.is_change()) {
        for warning in &change.warnings {
            warnings.push(format!(
                "⚠️ **{}**: {}",
                name(&change.address.to_string()),
                prose(warning)
            ));
        }
    }
    // What governs every model invocation is said first, whatever the action.
    for change in plan.changes.iter().filter(|c| c.governs && c.is_change()) {
        for warning in &change.warnings {
            warnings.push(format!(
                "🛡️ **{}** {}",
                name(&change.address.to_string()),
                prose(warning)
            ));
        }
    }
    for (change, purchase) in plan.purchases() {
        warnings.push(format!(
            "💰 **{}** buys {} model unit(s) of {} with a **{}** commitment (apply needs `--allow-commitment`)",
            name(&change.address.to_string()),
            purchase.model_units,
            code(&purchase.model),
            name(&purchase.commitment)
        ));
    }
    for change in plan.changes.iter().filter(|c| policy_block(c).is_some()) {
        warnings.push(format!(
            "🔐 **{}** changes who may do what: {} {DIFF_BELOW}",
            name(&change.address.to_string()),
            permission_fields(change)
                .iter()
                .map(|f| code(f))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    warnings
}

/// Fields that grant or take away permissions: a role's trust and permission
/// policies, and a bucket's resource policy.
fn permission_fields(change: &Change) -> Vec<&str> {
    let granting = crate::kinds::Kind::parse(&change.address.kind)
        .map_or(&[][..], |kind| kind.facts().permission_fields);
    let permission = |path: &str| granting.contains(&path);
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
    let mut diff = String::new();
    for field in fields {
        let _ = writeln!(diff, "# {}", field.path);
        for (sign, line) in policy_lines(field) {
            let _ = writeln!(diff, "{sign} {line}");
        }
    }
    let fence = fence_for(&diff);
    Some(format!(
        "**{}** ({}):\n\n{fence}diff\n{diff}{fence}\n\n",
        name(&change.address.to_string()),
        name(&change.aws_name)
    ))
}

fn drift_line(change: &Change) -> String {
    format!(
        "- {}: {}",
        code(&change.address.to_string()),
        change
            .fields
            .iter()
            .map(|f| code(&f.path))
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
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&code(&row.address)),
            cell(&prose(&row.priced_as)),
            row.units,
            cell(&prose(&row.term)),
            cell(&prose(&row.per_unit_hour)),
            cell(&prose(&row.per_hour)),
            cell(&prose(&row.term_total))
        );
    }
    out.push('\n');
    for source in super::cost_sources(&rows) {
        let _ = writeln!(out, "- {}", prose(&source));
    }
    for row in &rows {
        if let Some(line) = &row.break_even {
            let _ = writeln!(out, "- {}: {}", code(&row.address), prose(line));
        }
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
    let address = name(&change.address.to_string());
    let reason = prose(change.reason.as_deref().unwrap_or(""));
    let line = match change.action {
        Action::Delete => Some(format!("🗑️ **{address}** will be deleted: {reason}")),
        Action::Replace if change.retrains => Some(format!(
            "🔁 **{address}** retrains: a new customization job runs ({reason})"
        )),
        Action::Replace => Some(format!("♻️ **{address}** will be replaced: {reason}")),
        Action::Create if change.retrains => {
            Some(format!("🧪 **{address}** starts a customization job"))
        }
        Action::Refused => Some(format!("⛔ **{address}** refused: {reason}")),
        Action::Unmanaged => Some(format!("❓ **{address}**: {reason}")),
        Action::Stop => Some(format!(
            "⏹️ **{address}** job {} will be stopped: {reason}",
            code(&change.aws_name)
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

/// `text` as an inline code span that nothing in it can end: text from manifests
/// and from AWS is never read as Markdown, HTML, a link or a mention. The fence is
/// longer than any run of backticks inside, and line breaks become spaces.
pub fn code(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    // A space inside the fence when the text starts or ends with a backtick (or is
    // all spaces): CommonMark strips exactly one from each side.
    let pad = if text.starts_with('`') || text.ends_with('`') || text.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A name (an address, an AWS name) as it stands when it cannot be read as
/// anything but text, else as a code span: no emphasis, link, autolink, e-mail
/// or mention can be made of letters, digits and `/ . : -` without `www.` or `://`.
pub fn name(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | ':' | '-'))
        && !text.contains("www.")
        && !text.contains("://");
    if plain { text.to_string() } else { code(text) }
}

/// bedform's own sentences (reasons), which quote values in single backticks: as
/// they stand when nothing outside those code spans can be read as Markdown,
/// HTML, a link or a mention; else the whole sentence as one code span.
pub fn prose(text: &str) -> String {
    let mut outside = String::new();
    let mut inside = false;
    for c in text.chars() {
        if c == '`' {
            inside = !inside;
        } else if !inside {
            outside.push(c);
        }
    }
    // A line break would end a list item or a table row, in a code span too.
    let runs_single = !text.contains("``") && !text.contains(['\n', '\r']);
    let quiet = !outside.contains(|c| {
        matches!(
            c,
            '<' | '>' | '[' | ']' | '!' | '@' | '*' | '_' | '~' | '|' | '&' | '\\' | '\n' | '\r'
        )
    }) && !outside.contains("www.")
        && !outside.contains("://");
    if !inside && runs_single && quiet {
        text.to_string()
    } else {
        code(text)
    }
}

/// A table cell: a pipe would end the cell, even inside a code span.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A code fence that no line of `body` can close: longer than any backtick run in it.
fn fence_for(body: &str) -> String {
    "`".repeat((longest_backtick_run(body) + 1).max(3))
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}
