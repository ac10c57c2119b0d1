//! Problems found in manifests, each tied to a file, line and column, rendered with
//! the offending line and a hint.

use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use crate::syntax::spanned::Pos;

/// The text of every manifest file read in a run, so diagnostics can quote it.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Whether errors may quote the file's lines: only for files that declare a
    /// bedform document. Anything else (a stray YAML file, a file that is not
    /// YAML at all) is named, never quoted.
    pub quotable: bool,
}

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub usize);

impl Sources {
    pub fn add(&mut self, name: String, text: Arc<str>) -> FileId {
        let quotable = declares_bedform_document(&text);
        self.files.push(SourceFile {
            name,
            text,
            quotable,
        });
        FileId(self.files.len() - 1)
    }
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0)
    }
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }
}

/// A place in a manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    pub file: FileId,
    pub pos: Pos,
}

/// One problem with the manifests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where, when it is known (an unreadable file has no position).
    pub file: Option<FileId>,
    pub pos: Option<Pos>,
    pub message: String,
    pub hint: Option<String>,
    /// A warning does not fail validation; it is shown all the same.
    pub warning: bool,
}

impl Diagnostic {
    pub fn at(loc: Loc, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Some(loc.file),
            pos: Some(loc.pos),
            message: message.into(),
            hint: None,
            warning: false,
        }
    }
    pub fn in_file(file: FileId, message: impl Into<String>) -> Self {
        Diagnostic {
            file: Some(file),
            pos: None,
            message: message.into(),
            hint: None,
            warning: false,
        }
    }
    pub fn general(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            pos: None,
            message: message.into(),
            hint: None,
            warning: false,
        }
    }
    /// The same problem as a warning.
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line:col` (or as much of it as is known).
    pub fn location(&self, sources: &Sources) -> String {
        match (self.file, self.pos) {
            (Some(file), Some(pos)) => format!("{}:{}:{}", sources.name(file), pos.line, pos.col),
            (Some(file), None) => sources.name(file).to_string(),
            _ => String::new(),
        }
    }

    /// `error: file:line:col: message` on one line, control characters shown as `?`.
    pub fn headline(&self, sources: &Sources) -> String {
        let location = self.location(sources);
        let message = printable(&self.message);
        let severity = if self.warning { "warning" } else { "error" };
        if location.is_empty() {
            format!("{severity}: {message}")
        } else {
            format!("{severity}: {location}: {message}")
        }
    }

    /// The diagnostic as printed: location and message, then the source line and hint.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let mut out = String::new();
        let header = self.headline(sources);
        let mut diagnostic = MietteDiagnostic::new(header.clone());
        if self.warning {
            diagnostic = diagnostic.with_severity(miette::Severity::Warning);
        }
        if let Some(hint) = &self.hint {
            diagnostic = diagnostic.with_help(printable(hint).into_owned());
        }
        let source = self.file.and_then(|f| sources.get(f));
        let report = match (source, self.pos) {
            (Some(file), Some(pos)) if file.quotable => {
                let offset = byte_offset(&file.text, pos);
                // Escapes make the text longer: the label moves with them.
                let shown_offset = printable(&file.text[..offset]).len();
                let diagnostic =
                    diagnostic.with_label(LabeledSpan::at_offset(shown_offset, "here"));
                miette::Report::new(diagnostic).with_source_code(
                    NamedSource::new(file.name.clone(), printable(&file.text).into_owned())
                        .with_language("yaml"),
                )
            }
            (Some(_), _) => miette::Report::new(diagnostic.with_help(match &self.hint {
                Some(hint) => format!(
                    "{}\n(the file is not quoted: it declares no bedform document)",
                    printable(hint)
                ),
                None => "the file is not quoted: it declares no bedform document".to_string(),
            })),
            _ => miette::Report::new(diagnostic),
        };
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        // Unwrapped, so `file:line:col: message` stays on one line for editors and CI
        // logs that match it.
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_context_lines(1)
            .with_wrap_lines(false);
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out = header;
        }
        out
    }
}

/// `text` as safe to show: control characters (but line breaks and tabs) as `?`
/// (`¿` for the two-byte C1 controls), so a manifest cannot send escape sequences
/// to the terminal; invisible format controls (bidi overrides and isolates,
/// zero-width characters) escaped as `\u{202e}`, so they cannot reorder or hide
/// what a reviewer reads ("Trojan Source").
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_invisible_format(c);
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if is_invisible_format(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c if !unsafe_char(c) => out.push(c),
            c if c.len_utf8() == 1 => out.push('?'),
            _ => out.push('¿'),
        }
    }
    out.into()
}

/// Characters that change how text is displayed without being seen: the bidi
/// embeddings, overrides, isolates and marks, zero-width characters, the byte
/// order mark, interlinear annotations and tag characters. AWS names never need
/// them.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x061C | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064
        | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE0000..=0xE007F)
}

/// A warning for each line of `text` that holds an invisible format control.
pub fn invisible_characters(file: FileId, text: &str) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some((col, c)) = line
            .chars()
            .enumerate()
            .find(|(_, c)| is_invisible_format(*c))
        {
            found.push(
                Diagnostic::at(
                    Loc {
                        file,
                        pos: Pos::new(index as u64 + 1, col as u64 + 1),
                    },
                    format!(
                        "invisible character {} in the manifest: reviewers cannot see it, and it can make text read in another order than it is",
                        printable(&c.to_string())
                    ),
                )
                .with_hint("remove it: no AWS name or value needs it")
                .as_warning(),
            );
        }
    }
    found
}

/// Whether a file's text declares a bedform document (`apiVersion: bedform/...`).
fn declares_bedform_document(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start().trim_start_matches("- ").trim_start();
        line.strip_prefix("apiVersion:").is_some_and(|rest| {
            rest.trim_start()
                .trim_start_matches(['"', '\''])
                .starts_with("bedform/")
        })
    })
}

/// Byte offset of a 1-based line and (character) column in `text`, clamped to the text.
pub fn byte_offset(text: &str, pos: Pos) -> usize {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if index + 1 == pos.line as usize {
            let col = pos.col.max(1) as usize - 1;
            let within = line
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(line.len().saturating_sub(1));
            return offset + within;
        }
        offset += line.len();
    }
    text.len().saturating_sub(1)
}

/// Line and column (1-based) of a byte offset in `text`.
pub fn pos_of_offset(text: &str, offset: usize) -> Pos {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    Pos::new(line as u64, col as u64)
}

/// The closest of `candidates` to `word`, when it is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_in_place_without_moving_positions() {
        let text = "name: \u{1b}[31mred\u{7}\u{9b}x\ttab\r\n";
        let shown = super::printable(text);
        assert_eq!(shown, "name: ?[31mred?¿x\ttab\r\n");
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown.chars().count(), text.chars().count());
        assert_eq!(
            super::printable("a\u{202e}b\u{2066}c\u{200b}"),
            "a\\u{202e}b\\u{2066}c\\u{200b}"
        );
        assert!(matches!(
            super::printable("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    use super::*;

    #[test]
    fn offsets_round_trip() {
        let text = "a: 1\nbé: 2\nc: 3\n";
        let pos = Pos { line: 2, col: 3 };
        let offset = byte_offset(text, pos);
        assert_eq!(&text[offset..offset + 1], ":");
        assert_eq!(pos_of_offset(text, offset), pos);
    }

    #[test]
    fn suggests_close_names_only() {
        let fields = ["retentionDays", "logGroupName", "kmsKeyId"];
        assert_eq!(did_you_mean("retentionDay", fields), Some("retentionDays"));
        assert_eq!(did_you_mean("zzz", fields), None);
    }
}
