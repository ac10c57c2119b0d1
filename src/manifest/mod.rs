//! Loading manifests from files and folders, and validating them into a
//! [`DesiredStack`].

pub mod document;
pub mod schema;

pub use crate::syntax::{refs, spanned};

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use petgraph::graphmap::DiGraphMap;

use crate::diag::{Diagnostic, FileId, Loc, Sources, did_you_mean, pos_of_offset};
use crate::files::{Confinement, Found, read_regular};
use crate::kinds::Kind;
use crate::kinds::stack::StackSpec;
use crate::kinds::{self, AnySpec, LowerCx, Lowered, RESOURCE_KINDS, ValidateCx};
use crate::model::{Address, DesiredStack};
use crate::syntax::refs::{Placeholder, Reference, placeholders};
use crate::syntax::spanned::{Pos, Spanned};
use document::{Body, RawDocument};

/// Account used to resolve ARNs when validating offline without `accountId`.
pub const PLACEHOLDER_ACCOUNT: &str = "123456789012";

/// Largest manifest file read; larger ones are refused, not parsed.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A document that parsed.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: FileId,
    pub pos: Pos,
    pub raw: RawDocument,
    /// Byte range of the document in its file, for finding `${...}` placeholders.
    pub text_range: (usize, usize),
}

/// Everything read from the manifest paths.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Sources,
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
    /// What is wrong-looking but not invalid (invisible characters).
    pub warnings: Vec<Diagnostic>,
    /// The folders this run may read from, for files that manifests name.
    pub files: Confinement,
}

/// Reads every `.yaml` / `.yml` file under `paths` (folders recursively, in name
/// order, skipping hidden entries), and nothing outside them (see [`crate::files`]).
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let (confinement, found, problems) = Confinement::discover(paths);
    loaded.files = confinement;
    loaded.diagnostics.extend(
        problems
            .iter()
            .map(|problem| Diagnostic::general(problem.to_string())),
    );
    if found.is_empty() && loaded.diagnostics.is_empty() {
        loaded.diagnostics.push(Diagnostic::general(format!(
            "no manifest files (*.yaml, *.yml) found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for file in found {
        load_file(&file, &mut loaded);
    }
    loaded
}

/// Parses one file's text (already read) into documents.
pub fn load_text(name: &str, text: &str, loaded: &mut Loaded) {
    let text = normalise_line_breaks(text);
    let file = loaded
        .sources
        .add(name.to_string(), Arc::from(text.as_ref()));
    loaded
        .warnings
        .extend(crate::diag::invisible_characters(file, &text));
    parse_documents(file, &text, loaded);
}

/// YAML also ends a line at a lone `\r` (old Mac line endings); positions and the
/// quoted source lines count `\n` only, so a lone `\r` becomes `\n` (same length:
/// byte offsets are unchanged). `\r\n` stays as it is.
fn normalise_line_breaks(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn load_file(file: &Found, loaded: &mut Loaded) {
    let name = file.shown.clone();
    let bytes = match read_regular(&file.real, &name, MAX_FILE_BYTES) {
        Ok(bytes) => bytes,
        Err(problem) => {
            loaded
                .diagnostics
                .push(Diagnostic::general(problem.to_string()));
            return;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_text(&name, &text, loaded),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes());
            let text = normalise_line_breaks(&text);
            let before = String::from_utf8_lossy(&err.as_bytes()[..valid]);
            let pos = pos_of_offset(&normalise_line_breaks(&before), valid);
            let file = loaded.sources.add(name, Arc::from(text.as_ref()));
            loaded.diagnostics.push(
                Diagnostic::at(Loc { file, pos }, "the file is not valid UTF-8")
                    .with_hint("manifests must be UTF-8 text"),
            );
        }
    }
}

fn parse_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // `role: !Ref my-role`, a CloudFormation habit, would otherwise be read as
    // the plain string `my-role`; only YAML's own tags (`!!str`...) mean anything.
    options.reject_unsupported_tags = true;
    options
}

fn parse_documents(file: FileId, text: &str, loaded: &mut Loaded) {
    let mut reader = text.as_bytes();
    let mut found: Vec<(Pos, RawDocument)> = Vec::new();
    let mut any = false;
    for result in
        serde_saphyr::read_with_options::<_, Spanned<RawDocument>>(&mut reader, parse_options())
    {
        any = true;
        match result {
            Ok(doc) => found.push((doc.pos, doc.value)),
            Err(err) => loaded.diagnostics.push(parse_error(file, &err)),
        }
    }
    if !any {
        loaded.diagnostics.push(
            Diagnostic::in_file(file, "the file holds no documents").with_hint(
                "remove the file, or add a document with apiVersion, kind, metadata and spec",
            ),
        );
        return;
    }
    // Where each line starts, found once: a file may hold thousands of documents.
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for (pos, raw) in found {
        // Up to the next document marker, not the next document that parsed: the
        // text of a document that failed to parse belongs to no other document.
        let start = line_start_offset(&line_starts, text.len(), pos.line);
        loaded.documents.push(Document {
            file,
            pos,
            raw,
            text_range: (start, document_end(text, start)),
        });
    }
}

/// Where the document whose first line starts at `start` ends: the next `---` or
/// `...` marker line (YAML ends a document there, even inside a block scalar), or
/// the end of the text.
fn document_end(text: &str, start: usize) -> usize {
    let mut offset = start;
    for (index, line) in text[start..].split_inclusive('\n').enumerate() {
        if index > 0 && is_document_marker(line) {
            return offset;
        }
        offset += line.len();
    }
    text.len()
}

fn is_document_marker(line: &str) -> bool {
    let line = line.trim_end_matches(['\n', '\r']);
    ["---", "..."].iter().any(|marker| {
        line.strip_prefix(marker)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

fn line_start_offset(line_starts: &[usize], text_len: usize, line: u32) -> usize {
    let index = (line as usize).saturating_sub(1);
    line_starts.get(index).copied().unwrap_or(text_len)
}

/// Turns a YAML or type error into a diagnostic, with "did you mean" for unknown
/// fields and kinds.
fn parse_error(file: FileId, err: &serde_saphyr::Error) -> Diagnostic {
    let message = err.without_snippet().to_string();
    let (message, hint) = explain_parse_error(&strip_location_suffix(&message));
    let mut diagnostic = match err.location() {
        Some(location) if location.line() > 0 => Diagnostic::at(
            Loc {
                file,
                pos: Pos::new(location.line(), location.column()),
            },
            message.clone(),
        ),
        _ => Diagnostic::in_file(file, message.clone()),
    };
    if let Some(hint) = hint {
        diagnostic = diagnostic.with_hint(hint);
    }
    diagnostic
}

/// serde-saphyr's message reworded for manifest authors, with a hint where one helps.
fn explain_parse_error(message: &str) -> (String, Option<String>) {
    if let Some(rest) = message.strip_prefix("duplicate mapping key") {
        // The parser's advice ("set DuplicateKeyPolicy in Options") is for programmers.
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or("")
            .trim_start_matches(':')
            .trim();
        let message = if key.is_empty() {
            "duplicate key".to_string()
        } else {
            format!("duplicate key `{key}`")
        };
        let hint = "a key may appear only once in a mapping; remove one of them";
        return (message, Some(hint.to_string()));
    }
    if let Some(breach) = message.strip_prefix("budget breached: ") {
        return explain_budget_breach(breach);
    }
    if message.starts_with("recursion limit exceeded") {
        return explain_budget_breach("Depth");
    }
    if message.starts_with("unknown field `") {
        return (message.to_string(), unknown_name_hint(message, "fields"));
    }
    if message.starts_with("unsupported tag `") {
        let hint = "manifests take no application tags; refer to a resource of the stack with `{ref: NAME}` or \"${NAME.arn}\"";
        return (message.to_string(), Some(hint.to_string()));
    }
    if message.starts_with("unknown variant `") {
        return (message.to_string(), unknown_name_hint(message, "values"));
    }
    let reworded = match message {
        "invalid i8" | "invalid i16" | "invalid i32" | "invalid i64" | "invalid i128"
        | "invalid isize" => Some("expected a whole number here"),
        "invalid u8" | "invalid u16" | "invalid u32" | "invalid u64" | "invalid u128"
        | "invalid usize" => Some("expected a whole number, 0 or more, here"),
        "invalid f32" | "invalid f64" => Some("expected a number here"),
        "invalid bool" => Some("expected `true` or `false` here"),
        "expected mapping start" => Some("expected a mapping (`key: value` entries) here"),
        "expected sequence start" => Some("expected a list here"),
        "expected string scalar" => Some("expected a string here"),
        _ => None,
    };
    match reworded {
        Some(text) => (text.to_string(), None),
        None => (message.to_string(), None),
    }
}

/// serde-saphyr appends " at line L column C"; the diagnostic says it already.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains("column") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// The parser's input limits (serde-saphyr's defaults), which stop alias bombs and
/// deep nesting before they exhaust memory or the stack. `breach` is its debug text,
/// e.g. `Nodes { nodes: 250001 }`.
fn explain_budget_breach(breach: &str) -> (String, Option<String>) {
    let what = breach.split([' ', '{']).next().unwrap_or("");
    let message = match what {
        "Depth" | "InclusionDepth" => "the YAML is nested too deeply",
        "Nodes"
        | "Aliases"
        | "Anchors"
        | "AliasAnchorRatio"
        | "RecordedAnchorEvents"
        | "RecordedAnchorBytes"
        | "MergeKeys"
        | "Events" => "the YAML holds too many values once its aliases are expanded",
        "Documents" => "the file holds too many documents",
        _ => "the YAML is too large to read",
    };
    (
        message.to_string(),
        Some("bedform limits nesting, aliases and size so a hostile file cannot exhaust memory; a manifest never comes close".into()),
    )
}

/// `unknown field `x`, expected one of a, b` → "did you mean `a`?", else the list.
/// (serde-saphyr lists the names bare; serde itself puts them in backticks.)
fn unknown_name_hint(message: &str, what: &str) -> Option<String> {
    let rest = message.split_once('`')?.1;
    let (name, rest) = rest.split_once('`')?;
    let list = rest
        .split_once("expected one of ")
        .or_else(|| rest.split_once("expected "))
        .map(|(_, list)| list)
        .unwrap_or("");
    let expected: Vec<&str> = list
        .split(", ")
        .map(|n| n.trim().trim_matches('`'))
        .filter(|n| !n.is_empty())
        .collect();
    match did_you_mean(name, expected.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None if !expected.is_empty() => Some(format!(
            "the {what} allowed here are {}",
            expected
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => None,
    }
}

/// One resource document, checked for its envelope.
struct ResourceDoc<'a> {
    file: FileId,
    pos: Pos,
    name: &'a Spanned<String>,
    spec: &'a AnySpec,
    references: Vec<Reference>,
}

/// Validates loaded documents into the desired stack. `account_id` overrides the
/// account used to resolve ARNs (the caller's account when planning).
pub fn validate(
    loaded: &Loaded,
    account_id: Option<&str>,
) -> Result<DesiredStack, Vec<Diagnostic>> {
    let mut diagnostics = loaded.diagnostics.clone();
    let mut stacks: Vec<(&Document, &StackSpec)> = Vec::new();
    let mut resources: Vec<ResourceDoc<'_>> = Vec::new();
    // A Stack document that is broken is reported as such, not also as missing.
    let mut stack_declared = false;

    for doc in &loaded.documents {
        let loc = |pos: Pos| Loc {
            file: doc.file,
            pos,
        };
        let raw = &doc.raw;
        match &raw.api_version {
            None => diagnostics.push(
                Diagnostic::at(loc(doc.pos), "missing `apiVersion`")
                    .with_hint(format!("add `apiVersion: {}`", schema::API_VERSION)),
            ),
            Some(v) if v.value != schema::API_VERSION => diagnostics.push(
                Diagnostic::at(loc(v.pos), format!("unsupported apiVersion `{}`", v.value))
                    .with_hint(format!("this bedform reads `{}`", schema::API_VERSION)),
            ),
            Some(_) => {}
        }
        let Some(kind) = &raw.kind else {
            diagnostics.push(
                Diagnostic::at(loc(doc.pos), "missing `kind`")
                    .with_hint(format!("one of: Stack, {}", RESOURCE_KINDS.join(", "))),
            );
            continue;
        };
        if kind.value != "Stack" && !RESOURCE_KINDS.contains(&kind.value.as_str()) {
            // Reported whatever else the document lacks: nothing else about it is
            // meaningful until the kind is right.
            let mut d = Diagnostic::at(loc(kind.pos), format!("unknown kind `{}`", kind.value));
            let all = std::iter::once("Stack").chain(RESOURCE_KINDS.iter().copied());
            d = match did_you_mean(&kind.value, all) {
                Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                None => d.with_hint(format!("one of: Stack, {}", RESOURCE_KINDS.join(", "))),
            };
            diagnostics.push(d);
            continue;
        }
        if kind.value == "Stack" {
            stack_declared = true;
        }
        let Some(metadata) = &raw.metadata else {
            diagnostics.push(Diagnostic::at(
                loc(doc.pos),
                format!("{} document has no `metadata.name`", kind.value),
            ));
            continue;
        };
        let name = &metadata.value.name;
        if let Err(problem) = crate::names::check_address_name(&name.value) {
            diagnostics.push(Diagnostic::at(
                loc(name.pos),
                format!("metadata.name `{}`: {problem}", name.value),
            ));
        }
        match &raw.body {
            None => diagnostics.push(Diagnostic::at(
                loc(doc.pos),
                format!("{} `{}` has no `spec`", kind.value, name.value),
            )),
            // Reported above, with the kind.
            Some(Body::UnknownKind) => {}
            Some(Body::SpecBeforeKind(pos)) => diagnostics.push(
                Diagnostic::at(
                    loc(*pos),
                    "`kind` must come before `spec` in a document, so the spec can be read as that kind",
                )
                .with_hint(format!("move `kind: {}` above `spec`", kind.value)),
            ),
            Some(Body::Stack(spec)) => stacks.push((doc, spec)),
            Some(Body::Resource(spec)) => {
                let text = loaded
                    .sources
                    .get(doc.file)
                    .map(|f| &f.text[doc.text_range.0..doc.text_range.1])
                    .unwrap_or("");
                let mut references = spec.spec().references();
                references.extend(placeholder_references(text, doc, &mut diagnostics));
                resources.push(ResourceDoc {
                    file: doc.file,
                    pos: doc.pos,
                    name,
                    spec,
                    references,
                });
            }
        }
    }

    // A path that could not be read already said why nothing was found.
    let nothing_read = loaded.documents.is_empty() && !loaded.diagnostics.is_empty();
    let stack = match stacks.as_slice() {
        [] => {
            if !stack_declared && !nothing_read {
                diagnostics.push(
                    Diagnostic::general("no `Stack` document found").with_hint(
                        "add a document `kind: Stack` with metadata.name and spec.region",
                    ),
                );
            }
            None
        }
        [(doc, spec), rest @ ..] => {
            for (other, _) in rest {
                diagnostics.push(
                    Diagnostic::at(Loc { file: other.file, pos: other.pos }, "a second `Stack` document")
                        .with_hint(format!(
                            "one Stack per run; the first is at {}:{}; run bedform once per stack folder",
                            loaded.sources.name(doc.file),
                            doc.pos
                        )),
                );
            }
            let mut cx = ValidateCx {
                file: doc.file,
                doc_pos: doc.pos,
                name: doc
                    .raw
                    .metadata
                    .as_ref()
                    .map(|m| m.value.name.value.as_str())
                    .unwrap_or(""),
                diagnostics: &mut diagnostics,
            };
            spec.validate(&mut cx);
            let name = doc
                .raw
                .metadata
                .as_ref()
                .map(|m| m.value.name.value.clone())
                .unwrap_or_default();
            Some(spec.info(&name))
        }
    };

    // Names are unique across kinds.
    let mut first_seen: BTreeMap<&str, &ResourceDoc<'_>> = BTreeMap::new();
    for doc in &resources {
        if let Some(first) = first_seen.get(doc.name.value.as_str()) {
            diagnostics.push(
                Diagnostic::at(
                    Loc {
                        file: doc.file,
                        pos: doc.name.pos,
                    },
                    format!("duplicate name `{}`", doc.name.value),
                )
                .with_hint(format!(
                    "`{}` is already the name of a {} at {}:{}; names are unique across kinds",
                    doc.name.value,
                    first.spec.kind(),
                    loaded.sources.name(first.file),
                    first.name.pos
                )),
            );
        } else {
            first_seen.insert(&doc.name.value, doc);
        }
    }

    for doc in &resources {
        let mut cx = ValidateCx {
            file: doc.file,
            doc_pos: doc.pos,
            name: &doc.name.value,
            diagnostics: &mut diagnostics,
        };
        doc.spec.spec().validate(&mut cx);
        check_singleton(doc, &resources, &loaded.sources, &mut diagnostics);
    }

    // References point at declared resources of the right kind.
    let mut graph: DiGraphMap<usize, (), std::hash::RandomState> = DiGraphMap::new();
    let index_of: BTreeMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, d)| (d.name.value.as_str(), i))
        .rev()
        .collect();
    for (i, doc) in resources.iter().enumerate() {
        graph.add_node(i);
        for reference in &doc.references {
            let loc = Loc {
                file: doc.file,
                pos: reference.pos,
            };
            let Some(&target) = index_of.get(reference.target.as_str()) else {
                let mut d = Diagnostic::at(
                    loc,
                    format!(
                        "`{}` refers to `{}`, which is not declared",
                        reference.field, reference.target
                    ),
                );
                if let Some(best) = did_you_mean(&reference.target, index_of.keys().copied()) {
                    d = d.with_hint(format!("did you mean `{best}`?"));
                } else {
                    d = d.with_hint("declare a resource with that metadata.name in this stack");
                }
                diagnostics.push(d);
                continue;
            };
            let target_kind = resources[target].spec.kind();
            if !reference.expected_kinds.is_empty()
                && !reference.expected_kinds.contains(&target_kind)
            {
                let expected = reference.expected_kinds.join(" or ");
                let candidates: Vec<String> = resources
                    .iter()
                    .filter(|r| reference.expected_kinds.contains(&r.spec.kind()))
                    .map(|r| format!("`{}`", r.name.value))
                    .collect();
                let hint = if candidates.is_empty() {
                    format!(
                        "declare {} {expected} and refer to its metadata.name",
                        article(&expected)
                    )
                } else {
                    format!("{expected} declared here: {}", candidates.join(", "))
                };
                diagnostics.push(
                    Diagnostic::at(
                        loc,
                        format!(
                            "`{}` must refer to {} {expected}, but `{}` is {} {target_kind}",
                            reference.field,
                            article(&expected),
                            reference.target,
                            article(target_kind),
                        ),
                    )
                    .with_hint(hint),
                );
                continue;
            }
            if let Some(attr) = &reference.attr {
                let known = match attr.as_str() {
                    "name" => true,
                    "arn" => Kind::parse(target_kind)
                        .is_some_and(|kind| kind.facts().arn_known_before_apply),
                    _ => false,
                };
                if !known {
                    diagnostics.push(
                        Diagnostic::at(loc, format!("`${{{}.{attr}}}`: a {target_kind} has no attribute `{attr}` known before apply", reference.target))
                            .with_hint("attributes are `arn` and `name` (custom models: `name` only); use `{ref: NAME}` for a job's model"),
                    );
                }
            }
            if target == i {
                diagnostics.push(Diagnostic::at(
                    loc,
                    format!("`{}` refers to its own resource", reference.field),
                ));
                continue;
            }
            graph.add_edge(i, target, ());
        }
    }
    for mut component in petgraph::algo::tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        // In declaration order, so the messages read the way the manifests do.
        component.sort_unstable();
        let members: BTreeSet<usize> = component.iter().copied().collect();
        // A long cycle is named by its first members and reported at their
        // references only: one message per member would grow with its square.
        const SHOWN: usize = 8;
        let mut names: Vec<String> = component
            .iter()
            .take(SHOWN)
            .map(|&i| resources[i].name.value.clone())
            .collect();
        if component.len() > SHOWN {
            names.push(format!("and {} more", component.len() - SHOWN));
        }
        for &i in component.iter().take(SHOWN) {
            let doc = &resources[i];
            if let Some(reference) = doc.references.iter().find(|r| {
                index_of
                    .get(r.target.as_str())
                    .is_some_and(|t| members.contains(t))
            }) {
                diagnostics.push(
                    Diagnostic::at(
                        Loc {
                            file: doc.file,
                            pos: reference.pos,
                        },
                        format!(
                            "reference cycle: `{}` is part of a cycle through {}",
                            doc.name.value,
                            names.join(", ")
                        ),
                    )
                    .with_hint(
                        "resources can only refer to resources that do not refer back to them",
                    ),
                );
            }
        }
    }

    let Some(stack) = stack else {
        return Err(diagnostics);
    };
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let account = account_id
        .map(str::to_string)
        .or_else(|| stack.account_id.clone())
        .unwrap_or_else(|| PLACEHOLDER_ACCOUNT.to_string());

    // Lower in dependency order: a resource sees the resources it refers to.
    let order = match petgraph::algo::toposort(&graph, None) {
        Ok(order) => order,
        Err(_) => return Err(diagnostics),
    };
    let mut lowered: BTreeMap<String, (&'static str, Lowered)> = BTreeMap::new();
    let mut desired = Vec::new();
    for &i in order.iter().rev() {
        let doc = &resources[i];
        let source_dir = Path::new(loaded.sources.name(doc.file))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let cx = LowerCx {
            source_dir: &source_dir,
            files: &loaded.files,
            doc_pos: doc.pos,
            stack: &stack,
            account_id: &account,
            file: doc.file,
            name: &doc.name.value,
            lowered: &lowered,
        };
        match doc.spec.spec().lower(&cx) {
            Ok(result) => {
                let depends_on = graph
                    .neighbors(i)
                    .map(|t| {
                        Address::new(resources[t].spec.kind(), resources[t].name.value.clone())
                    })
                    .collect();
                let source = format!("{}:{}", loaded.sources.name(doc.file), doc.pos.line);
                let resource = kinds::desired_resource(
                    doc.spec.kind(),
                    &doc.name.value,
                    doc.spec.spec(),
                    &result,
                    &stack,
                    depends_on,
                    source,
                );
                // The stack's tags merged in: only now is the whole set known.
                let rules = Kind::parse(doc.spec.kind()).and_then(|k| k.facts().tags);
                if let Some(rules) = rules {
                    let sent = resource.tags_with_ownership(&stack.name);
                    for problem in rules.problems(&sent) {
                        diagnostics.push(Diagnostic::at(
                            Loc {
                                file: doc.file,
                                pos: doc.pos,
                            },
                            format!("{}/{}: {problem}", doc.spec.kind(), doc.name.value),
                        ));
                    }
                }
                desired.push(resource);
                lowered.insert(doc.name.value.clone(), (doc.spec.kind(), result));
            }
            Err(d) => diagnostics.push(d),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    desired.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(DesiredStack {
        stack,
        account_id: account,
        resources: desired,
    })
}

/// "a" or "an" before a kind name.
fn article(word: &str) -> &'static str {
    if word.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// Singletons (one per region) may be declared once.
fn check_singleton(
    doc: &ResourceDoc<'_>,
    all: &[ResourceDoc<'_>],
    sources: &Sources,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let kind = doc.spec.kind();
    if !Kind::parse(kind).is_some_and(|k| k.facts().singleton) {
        return;
    }
    if let Some(first) = all.iter().find(|d| d.spec.kind() == kind)
        && !std::ptr::eq(first, doc)
    {
        diagnostics.push(
            Diagnostic::at(
                Loc {
                    file: doc.file,
                    pos: doc.pos,
                },
                format!("a second {kind} document"),
            )
            .with_hint(format!(
                "{kind} is one per account and region; the first is `{}` at {}:{}",
                first.name.value,
                sources.name(first.file),
                first.pos
            )),
        );
    }
}

/// `${NAME.attr}` placeholders written anywhere in the document's text; malformed
/// ones are reported into `diagnostics`.
fn placeholder_references(
    text: &str,
    doc: &Document,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Reference> {
    let mut found = Vec::new();
    // Counted line by line from the document's first line (its text starts at the
    // beginning of that line): one scan, however many placeholders it holds.
    let first_line = doc.pos.line.max(1);
    for (line_number, line) in (first_line..).zip(text.split_inclusive('\n')) {
        let code = strip_comment(line);
        for (at, placeholder) in placeholders(code) {
            let col = code[..at].chars().count() + 1;
            let pos = Pos::new(u64::from(line_number), col as u64);
            match placeholder {
                Placeholder::Attr { name, attr } => found.push(Reference {
                    target: name.clone(),
                    attr: Some(attr.clone()),
                    expected_kinds: Vec::new(),
                    pos,
                    field: format!("${{{name}.{attr}}}"),
                }),
                Placeholder::Invalid(inner) => {
                    let closed = code[at + 2 + inner.len()..].starts_with('}');
                    let message = if closed {
                        format!("`${{{inner}}}` is not a placeholder bedform knows")
                    } else {
                        "`${` is not closed with `}`".to_string()
                    };
                    diagnostics.push(
                        Diagnostic::at(Loc { file: doc.file, pos }, message).with_hint(
                            "placeholders are `${NAME.arn}`, `${NAME.name}`, `${account}` and `${region}`; IAM policy variables such as `${aws:username}` are kept as written",
                        ),
                    );
                }
                Placeholder::Account | Placeholder::Region => {}
            }
        }
    }
    found
}

/// The part of a YAML line before a comment (a `#` at the start or after a space,
/// outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            // A quote opens a quoted scalar only where a scalar can start: the
            // apostrophe in `it's` is text. `''` inside single quotes closes and
            // reopens.
            None if (c == '"' || c == '\'')
                && (previous.is_whitespace()
                    || "[{,".contains(previous)
                    || (c == '\'' && previous == '\'')) =>
            {
                quote = Some(c)
            }
            None if c == '#' && previous.is_whitespace() => return &line[..i],
            None => {}
        }
        previous = c;
    }
    line
}
