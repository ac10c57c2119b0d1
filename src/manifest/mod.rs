//! Loading manifests from files and folders, and validating them into a
//! [`DesiredStack`].

pub mod document;
pub mod refs;
pub mod schema;
pub mod spanned;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use petgraph::graphmap::DiGraphMap;

use crate::diag::{Diagnostic, FileId, Loc, Sources, did_you_mean, pos_of_offset};
use crate::model::{Address, DesiredStack};
use crate::resource::stack::StackSpec;
use crate::resource::{self, AnySpec, LowerCx, Lowered, RESOURCE_KINDS, ValidateCx};
use document::{Body, RawDocument};
use refs::{Placeholder, Reference, placeholders};
use spanned::{Pos, Spanned};

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
}

/// Reads every `.yaml` / `.yml` file under `paths` (folders recursively, in name
/// order, skipping hidden folders).
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_dir(path, &mut files, &mut loaded.diagnostics);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            loaded.diagnostics.push(Diagnostic::general(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() && loaded.diagnostics.is_empty() {
        loaded.diagnostics.push(Diagnostic::general(format!(
            "no manifest files (*.yaml, *.yml) found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    for file in files {
        load_file(&file, &mut loaded);
    }
    loaded
}

fn collect_dir(dir: &Path, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diagnostics.push(Diagnostic::general(format!("{}: {err}", dir.display())));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() {
            if !hidden {
                collect_dir(&path, files, diagnostics);
            }
        } else if !hidden
            && matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            )
        {
            files.push(path);
        }
    }
}

fn display_name(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// Parses one file's text (already read) into documents.
pub fn load_text(name: &str, text: &str, loaded: &mut Loaded) {
    let file = loaded.sources.add(name.to_string(), Arc::from(text));
    parse_documents(file, text, loaded);
}

fn load_file(path: &Path, loaded: &mut Loaded) {
    let name = display_name(path);
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX_FILE_BYTES)
        .unwrap_or(false);
    if too_big {
        loaded.diagnostics.push(Diagnostic::general(format!(
            "{name}: larger than {} MiB; not read",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            loaded
                .diagnostics
                .push(Diagnostic::general(format!("{name}: {err}")));
            return;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_text(&name, &text, loaded),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let pos = pos_of_offset(&String::from_utf8_lossy(&err.as_bytes()[..valid]), valid);
            let file = loaded.sources.add(name, Arc::from(text.as_str()));
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
    let starts: Vec<usize> = found
        .iter()
        .map(|(pos, _)| line_start_offset(text, pos.line))
        .collect();
    for (index, (pos, raw)) in found.into_iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        loaded.documents.push(Document {
            file,
            pos,
            raw,
            text_range: (starts[index], end.max(starts[index])),
        });
    }
}

fn line_start_offset(text: &str, line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line as usize - 2)
        .map(|(i, _)| i + 1)
        .unwrap_or(text.len())
}

/// Turns a YAML or type error into a diagnostic, with "did you mean" for unknown
/// fields and kinds.
fn parse_error(file: FileId, err: &serde_saphyr::Error) -> Diagnostic {
    let message = err.without_snippet().to_string();
    let message = strip_location_suffix(&message);
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
    if let Some(hint) = unknown_field_hint(&message) {
        diagnostic = diagnostic.with_hint(hint);
    }
    diagnostic
}

/// serde-saphyr appends " at line L column C"; the diagnostic says it already.
fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains("column") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// `unknown field `x`, expected one of `a`, `b`` → "did you mean `a`?"
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.split("unknown field `").nth(1)?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    match did_you_mean(field, expected.iter().copied()) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None if !expected.is_empty() => Some(format!(
            "the fields allowed here are {}",
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
    text: &'a str,
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
            Some(Body::UnknownKind) => {
                let mut d = Diagnostic::at(loc(kind.pos), format!("unknown kind `{}`", kind.value));
                let all = std::iter::once("Stack").chain(RESOURCE_KINDS.iter().copied());
                d = match did_you_mean(&kind.value, all) {
                    Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                    None => d.with_hint(format!("one of: Stack, {}", RESOURCE_KINDS.join(", "))),
                };
                diagnostics.push(d);
            }
            Some(Body::Stack(spec)) => stacks.push((doc, spec)),
            Some(Body::Resource(spec)) => {
                let text = loaded
                    .sources
                    .get(doc.file)
                    .map(|f| &f.text[doc.text_range.0..doc.text_range.1])
                    .unwrap_or("");
                let mut references = spec.spec().references();
                references.extend(placeholder_references(text, doc, loaded));
                resources.push(ResourceDoc {
                    file: doc.file,
                    pos: doc.pos,
                    name,
                    spec,
                    text,
                    references,
                });
            }
        }
    }

    let stack = match stacks.as_slice() {
        [] => {
            diagnostics.push(
                Diagnostic::general("no `Stack` document found")
                    .with_hint("add a document `kind: Stack` with metadata.name and spec.region"),
            );
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
                diagnostics.push(Diagnostic::at(
                    loc,
                    format!(
                        "`{}` must refer to a {}, but `{}` is a {}",
                        reference.field,
                        reference.expected_kinds.join(" or "),
                        reference.target,
                        target_kind
                    ),
                ));
                continue;
            }
            if let Some(attr) = &reference.attr {
                let known = match attr.as_str() {
                    "name" => true,
                    "arn" => {
                        target_kind != "CustomizationJob"
                            && target_kind != "ModelAccess"
                            && target_kind != "InvocationLogging"
                    }
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
    let mut in_cycle = BTreeSet::new();
    for component in petgraph::algo::tarjan_scc(&graph) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let names: Vec<&str> = component
            .iter()
            .map(|&i| resources[i].name.value.as_str())
            .collect();
        for &i in &component {
            in_cycle.insert(i);
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
                desired.push(resource::desired_resource(
                    doc.spec.kind(),
                    &doc.name.value,
                    doc.spec.spec(),
                    &result,
                    &stack,
                    depends_on,
                    source,
                ));
                lowered.insert(doc.name.value.clone(), (doc.spec.kind(), result));
            }
            Err(d) => diagnostics.push(d),
        }
        let _ = doc.text;
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

/// Singletons (one per region) may be declared once.
fn check_singleton(
    doc: &ResourceDoc<'_>,
    all: &[ResourceDoc<'_>],
    sources: &Sources,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let kind = doc.spec.kind();
    if !matches!(kind, "InvocationLogging" | "ModelAccess") {
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

/// `${NAME.attr}` placeholders written anywhere in the document's text.
fn placeholder_references(text: &str, doc: &Document, loaded: &Loaded) -> Vec<Reference> {
    let Some(source) = loaded.sources.get(doc.file) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut line_offset = doc.text_range.0;
    for line in text.split_inclusive('\n') {
        let code = strip_comment(line);
        for (at, placeholder) in placeholders(code) {
            let pos = pos_of_offset(&source.text, line_offset + at);
            match placeholder {
                Placeholder::Attr { name, attr } => found.push(Reference {
                    target: name.clone(),
                    attr: Some(attr.clone()),
                    expected_kinds: Vec::new(),
                    pos,
                    field: format!("${{{name}.{attr}}}"),
                }),
                Placeholder::Invalid(inner) => found.push(Reference {
                    target: inner.clone(),
                    attr: Some(String::new()),
                    expected_kinds: Vec::new(),
                    pos,
                    field: format!("${{{inner}}}"),
                }),
                Placeholder::Account | Placeholder::Region => {}
            }
        }
        line_offset += line.len();
    }
    found
}

/// The part of a YAML line before a comment (a `#` at the start or after a space,
/// outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => return &line[..i],
            None => {}
        }
        previous = c;
    }
    line
}
