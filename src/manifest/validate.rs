//! Validation: every document checked against its kind, references resolved in
//! dependency order, and the stack lowered to its desired state. Every problem
//! of a run is reported, each at its file, line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use petgraph::graphmap::DiGraphMap;

use super::document::{Body, Document, Loaded};
use crate::diag::{Diagnostic, FileId, Loc, Sources, did_you_mean};
use crate::kinds::Kind;
use crate::kinds::stack::StackSpec;
use crate::kinds::{self, AnySpec, LowerCx, Lowered, RESOURCE_KINDS, ValidateCx};
use crate::model::{Address, DesiredStack};
use crate::syntax::refs::{Placeholder, Reference, placeholders};
use crate::syntax::schema::API_VERSION;
use crate::syntax::spanned::{Pos, Spanned};

/// Account used to resolve ARNs when validating offline without `accountId`.
pub const PLACEHOLDER_ACCOUNT: &str = "123456789012";

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
                    .with_hint(format!("add `apiVersion: {}`", API_VERSION)),
            ),
            Some(v) if v.value != API_VERSION => diagnostics.push(
                Diagnostic::at(loc(v.pos), format!("unsupported apiVersion `{}`", v.value))
                    .with_hint(format!("this bedform reads `{}`", API_VERSION)),
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
                    // Known once the account is read: planned with it.
                    "version" => target_kind == crate::kinds::guardrail::KIND,
                    _ => false,
                };
                if !known {
                    diagnostics.push(
                        Diagnostic::at(loc, format!("`${{{}.{attr}}}`: a {target_kind} has no attribute `{attr}` known before apply", reference.target))
                            .with_hint("attributes are `arn` and `name` (custom models: `name` only; a Guardrail's `version` too); use `{ref: NAME}` for a job's model"),
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
