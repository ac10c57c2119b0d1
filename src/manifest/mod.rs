//! Loading manifests from files and folders, and validating them into a
//! [`DesiredStack`].

pub mod document;
mod explain;
pub mod schema;
mod validate;

pub use crate::syntax::{refs, spanned};

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use crate::diag::{Diagnostic, FileId, Loc, pos_of_offset};
use crate::files::{Confinement, Found, read_regular};
use crate::syntax::spanned::{Pos, Spanned};
use document::RawDocument;
pub use document::{Document, Loaded};
use explain::parse_error;
pub use validate::{PLACEHOLDER_ACCOUNT, validate};

/// Largest manifest file read; larger ones are refused, not parsed.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

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
    // YAML 1.2 booleans, as the JSON Schema and editors read them: `true` and
    // `false` only. `yes` is a string, and `preventDestroy: yes` an error.
    options.strict_booleans = true;
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
            Err(err) => loaded.diagnostics.push(parse_error(file, text, &err)),
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
