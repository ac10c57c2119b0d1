//! The stack's dependency graph: one node per resource, one edge per reference
//! (`{ref}` or `${NAME.attr}`), drawn as Mermaid (which GitHub renders in a
//! comment) or as Graphviz DOT. With a plan, each node carries its planned
//! action, with the plan's symbols and a legend.
//!
//! Labels come from manifests a pull request's author wrote: every character
//! outside a small safe set is written as an entity (`#35;` in Mermaid,
//! `&#35;` in DOT), so no label can close its quotes, start a link, end the code
//! block it is in or carry markup.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::model::{Address, DesiredStack};
use crate::plan::{Action, Plan};

/// The output formats of `bedform graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart, as GitHub renders it in Markdown
    Mermaid,
    /// Graphviz DOT, for `dot -Tsvg`
    Dot,
}

/// One resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub address: Address,
    pub aws_name: String,
    /// What the plan does to it, when drawn with a plan.
    pub action: Option<Planned>,
}

/// A planned action as the plan draws it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Planned {
    pub action: Action,
    pub create_before_destroy: bool,
}

impl Planned {
    fn symbol(self) -> &'static str {
        self.action.symbol(self.create_before_destroy)
    }
    fn class(self) -> &'static str {
        match self.action {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete | Action::Stop => "delete",
            Action::Forget => "forget",
            Action::Wait => "wait",
            Action::NoOp => "same",
            Action::Refused | Action::Unmanaged => "refused",
        }
    }
    fn describe(self) -> String {
        match self.action {
            Action::Replace if self.create_before_destroy => {
                "replace (create first, then delete)".to_string()
            }
            Action::Replace => "replace (delete first, then create)".to_string(),
            action => action.describe().to_string(),
        }
    }
}

/// The fill and border of each action's nodes (GitHub's diff colours).
const STYLES: &[(&str, &str, &str)] = &[
    ("create", "#dafbe1", "#1a7f37"),
    ("update", "#fff8c5", "#9a6700"),
    ("replace", "#ffebe9", "#cf222e"),
    ("delete", "#ffebe9", "#cf222e"),
    ("forget", "#eaeef2", "#57606a"),
    ("wait", "#ddf4ff", "#0969da"),
    ("same", "#ffffff", "#8c959f"),
    ("refused", "#ffebe9", "#82071e"),
];

/// Nodes and edges; an edge `(a, b)` says `a` uses `b`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: BTreeSet<(usize, usize)>,
}

impl Graph {
    /// The graph of the manifests, offline.
    pub fn of_stack(stack: &DesiredStack) -> Graph {
        let mut graph = Graph::default();
        for resource in &stack.resources {
            graph.nodes.push(Node {
                address: resource.address.clone(),
                aws_name: resource.aws_name.clone(),
                action: None,
            });
        }
        let index: BTreeMap<&Address, usize> = stack
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (&r.address, i))
            .collect();
        for resource in &stack.resources {
            let from = index[&resource.address];
            for used in &resource.depends_on {
                if let Some(&to) = index.get(used) {
                    graph.edges.insert((from, to));
                }
            }
        }
        graph
    }

    /// The graph of the manifests with what `plan` does to each node. An object
    /// the plan deletes and the manifests no longer declare (a left-over, a
    /// superseded model) is a node of its own, with the address that made it.
    pub fn with_plan(mut self, plan: &Plan) -> Graph {
        let plan = super::for_people(plan);
        let declared = self.nodes.len();
        let key = |n: &Node| (n.address.clone(), n.aws_name.clone());
        for change in &plan.changes {
            let planned = Planned {
                action: change.action,
                // Only a replacement has an order.
                create_before_destroy: change.action == Action::Replace
                    && change.create_before_destroy,
            };
            let wanted = (change.address.clone(), change.aws_name.clone());
            match self.nodes.iter_mut().find(|n| key(n) == wanted) {
                Some(node) => {
                    if node.action.is_none_or(|p| p.action == Action::NoOp) {
                        node.action = Some(planned);
                    }
                }
                None => self.nodes.push(Node {
                    address: change.address.clone(),
                    aws_name: change.aws_name.clone(),
                    action: Some(planned),
                }),
            }
        }
        // Declared resources the plan does not name are unchanged.
        for node in &mut self.nodes {
            node.action.get_or_insert(Planned {
                action: Action::NoOp,
                create_before_destroy: false,
            });
        }
        // What a reference names: the declared object of the address, else the
        // one the plan keeps or makes.
        let mut named: BTreeMap<Address, usize> = BTreeMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let kept = i < declared || node.action.is_some_and(|p| p.action != Action::Delete);
            if kept {
                named.entry(node.address.clone()).or_insert(i);
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            named.entry(node.address.clone()).or_insert(i);
        }
        // A change's references are edges; a delete's dependencies are only the
        // order it runs in (after what stopped using the object), not references.
        for change in plan.changes.iter().filter(|c| c.action != Action::Delete) {
            let wanted = (change.address.clone(), change.aws_name.clone());
            let Some(from) = self.nodes.iter().position(|n| key(n) == wanted) else {
                continue;
            };
            for used in &change.depends_on {
                if let Some(&to) = named.get(used) {
                    self.edges.insert((from, to));
                }
            }
        }
        self
    }

    /// The graph of a plan alone: its changes and what they use.
    pub fn of_plan(plan: &Plan) -> Graph {
        Graph::default().with_plan(plan)
    }

    /// What changes and its direct neighbours: the nodes whose action is not
    /// "no change", and the nodes they use or are used by.
    pub fn around_changes(&self) -> Graph {
        let changed = |i: usize| {
            self.nodes[i]
                .action
                .is_some_and(|p| p.action != Action::NoOp)
        };
        let mut keep: BTreeSet<usize> = (0..self.nodes.len()).filter(|&i| changed(i)).collect();
        for &(a, b) in &self.edges {
            if changed(a) || changed(b) {
                keep.insert(a);
                keep.insert(b);
            }
        }
        let renumbered: BTreeMap<usize, usize> = keep
            .iter()
            .enumerate()
            .map(|(new, &old)| (old, new))
            .collect();
        Graph {
            nodes: keep.iter().map(|&i| self.nodes[i].clone()).collect(),
            edges: self
                .edges
                .iter()
                .filter_map(|(a, b)| Some((*renumbered.get(a)?, *renumbered.get(b)?)))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn render(&self, format: GraphFormat) -> String {
        match format {
            GraphFormat::Mermaid => self.mermaid(),
            GraphFormat::Dot => self.dot(),
        }
    }

    /// The legend: each action drawn, as `symbol description`, in order.
    fn legend(&self) -> Vec<(Planned, String)> {
        self.actions()
            .into_iter()
            .map(|p| (p, format!("{} {}", p.symbol(), p.describe())))
            .collect()
    }

    /// The actions drawn, in the legend's order.
    fn actions(&self) -> Vec<Planned> {
        let mut seen: Vec<Planned> = Vec::new();
        for planned in self.nodes.iter().filter_map(|n| n.action) {
            if !seen.contains(&planned) {
                seen.push(planned);
            }
        }
        seen.sort_by_key(|p| (p.action, p.create_before_destroy));
        seen
    }

    fn label_lines(node: &Node) -> [String; 2] {
        let address = node.address.to_string();
        let first = match node.action {
            Some(planned) if planned.action != Action::NoOp => {
                format!("{} {address}", planned.symbol())
            }
            _ => address,
        };
        [first, node.aws_name.clone()]
    }

    /// A Mermaid flowchart: `n0["IamRole/role<br/>aws-name"]`, `n1 --> n0`.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (i, node) in self.nodes.iter().enumerate() {
            let [first, second] = Self::label_lines(node);
            let _ = write!(
                out,
                "  n{i}[\"{}<br/>{}\"]",
                mermaid_text(&first),
                mermaid_text(&second)
            );
            if let Some(planned) = node.action {
                let _ = write!(out, ":::{}", planned.class());
            }
            out.push('\n');
        }
        for (a, b) in &self.edges {
            let _ = writeln!(out, "  n{a} --> n{b}");
        }
        let actions = self.actions();
        if !actions.is_empty() {
            let _ = writeln!(out, "  subgraph legend [\"Legend\"]");
            for (i, (planned, label)) in self.legend().iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    l{i}[\"{}\"]:::{}",
                    mermaid_text(label),
                    planned.class()
                );
            }
            let _ = writeln!(out, "  end");
            for (class, fill, stroke) in STYLES {
                if actions.iter().any(|p| p.class() == *class) {
                    let _ = writeln!(out, "  classDef {class} fill:{fill},stroke:{stroke}");
                }
            }
        }
        out
    }

    /// A Graphviz digraph, one node per resource, left to right.
    pub fn dot(&self) -> String {
        let mut out = String::from(
            "digraph bedform {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n",
        );
        let style = |planned: Planned| {
            STYLES
                .iter()
                .find(|(class, _, _)| *class == planned.class())
                .map(|(_, fill, stroke)| format!(", fillcolor=\"{fill}\", color=\"{stroke}\""))
                .unwrap_or_default()
        };
        for (i, node) in self.nodes.iter().enumerate() {
            let [first, second] = Self::label_lines(node);
            let _ = writeln!(
                out,
                "  n{i} [label=\"{}\\n{}\"{}];",
                dot_text(&first),
                dot_text(&second),
                node.action.map(style).unwrap_or_default()
            );
        }
        for (a, b) in &self.edges {
            let _ = writeln!(out, "  n{a} -> n{b};");
        }
        let actions = self.actions();
        if !actions.is_empty() {
            let _ = writeln!(out, "  subgraph cluster_legend {{\n    label=\"Legend\";");
            for (i, (planned, label)) in self.legend().iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    l{i} [label=\"{}\"{}];",
                    dot_text(label),
                    style(*planned)
                );
            }
            let _ = writeln!(out, "  }}");
        }
        out.push_str("}\n");
        out
    }
}

/// Characters written as themselves in a label; any other is an entity.
fn safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            ' ' | '/' | '.' | '-' | '_' | ':' | '+' | '~' | '(' | ')' | ','
        )
}

/// Text inside a Mermaid `["..."]` label: Mermaid's `#NNN;` entities for
/// everything outside the safe set.
fn mermaid_text(text: &str) -> String {
    entities(text, "#")
}

/// Text inside a DOT `"..."` string: HTML entities (which Graphviz decodes in
/// labels) for everything outside the safe set.
fn dot_text(text: &str) -> String {
    entities(text, "&#")
}

/// `text` with each character outside the safe set written `{opening}NNN;`.
fn entities(text: &str, opening: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if safe(c) {
            out.push(c);
        } else {
            let _ = write!(out, "{opening}{};", u32::from(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_only_safe_characters() {
        assert_eq!(mermaid_text("a\"]<b>`x"), "a#34;#93;#60;b#62;#96;x");
        assert_eq!(dot_text("a\"\\\nb"), "a&#34;&#92;&#10;b");
        assert_eq!(mermaid_text("IamRole/role-1 (x)"), "IamRole/role-1 (x)");
    }
}
