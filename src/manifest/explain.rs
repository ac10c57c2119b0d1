//! What a YAML reader's error means for the person who wrote the manifest: the
//! message in the manifest's words, with a hint where one helps.

use crate::diag::{Diagnostic, FileId, Loc, did_you_mean};
use crate::syntax::spanned::Pos;

/// Turns a YAML or type error into a diagnostic, with "did you mean" for unknown
/// fields and kinds.
pub(super) fn parse_error(file: FileId, text: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let message = err.without_snippet().to_string();
    // A `[` or `{` never closed swallows the rest of the file, and the reader
    // complains about whatever it met there: the opener is what to fix.
    if !message.starts_with("unclosed") {
        let before_error = |opened: &Unclosed| {
            err.location().is_none_or(|at| {
                (u64::from(opened.pos.line), u64::from(opened.pos.col)) <= (at.line(), at.column())
            })
        };
        if let Some(opened) = unclosed_flow(text).filter(before_error) {
            let (what, close) = match opened.bracket {
                '[' => ("list", ']'),
                _ => ("mapping", '}'),
            };
            return Diagnostic::at(
                Loc {
                    file,
                    pos: opened.pos,
                },
                format!(
                    "unclosed `{}`: the {what} opened here is never closed",
                    opened.bracket
                ),
            )
            .with_hint(format!(
                "end it with `{close}`; until it is closed, the lines after it are read as part of it"
            ));
        }
    }
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
pub(super) fn explain_parse_error(message: &str) -> (String, Option<String>) {
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
    if message.starts_with("invalid boolean") {
        let hint = "YAML 1.2, which editors and the JSON Schema read, has no `yes`/`no`/`on`/`off` booleans";
        return (
            "expected `true` or `false` here".to_string(),
            Some(hint.to_string()),
        );
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
pub(super) fn strip_location_suffix(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains("column") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// The parser's input limits (serde-saphyr's defaults), which stop alias bombs and
/// deep nesting before they exhaust memory or the stack. `breach` is its debug text,
/// e.g. `Nodes { nodes: 250001 }`.
pub(super) fn explain_budget_breach(breach: &str) -> (String, Option<String>) {
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
pub(super) fn unknown_name_hint(message: &str, what: &str) -> Option<String> {
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

/// A flow collection (`[...]` or `{...}`) that the text never closes.
#[derive(Debug, PartialEq)]
pub(super) struct Unclosed {
    pub bracket: char,
    /// Where it opens: line and column (in characters), from 1.
    pub pos: Pos,
}

/// The outermost `[` or `{` still open at the end of `text` (or of the document
/// it is in), if any. Brackets count where YAML reads them as brackets: inside
/// a flow collection, and at the start of a block value; quoted text and
/// comments are skipped.
pub(super) fn unclosed_flow(text: &str) -> Option<Unclosed> {
    let mut open: Vec<Unclosed> = Vec::new();
    // The indentation of the line that starts a block scalar (`key: |`), whose
    // more indented lines are text.
    let mut block_scalar: Option<usize> = None;
    for (index, line) in text.lines().enumerate() {
        let number = u64::try_from(index + 1).unwrap_or(u64::MAX);
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        if open.is_empty() && (line.starts_with("---") || line.starts_with("...")) {
            continue;
        }
        if open.is_empty() && starts_block_scalar(line) {
            block_scalar = Some(indent);
        }
        let chars: Vec<char> = line.chars().collect();
        // At the start of a block value: the line's first token, after `- `,
        // or after `key: `.
        let mut value_start = open.is_empty();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            // In a flow collection a token starts after a space or `[{,`; a
            // quote or `&` inside a plain word is text.
            let at_token_start = if open.is_empty() {
                value_start
            } else {
                i == 0 || matches!(chars[i - 1], ' ' | '\t' | '[' | '{' | ',')
            };
            match c {
                ' ' | '\t' => {
                    i += 1;
                    continue;
                }
                '#' if i == 0 || matches!(chars[i - 1], ' ' | '\t') => break,
                '"' | '\'' if at_token_start => {
                    // A quoted scalar; one left open is the reader's own error.
                    i += 1;
                    while i < chars.len() {
                        if c == '"' && chars[i] == '\\' {
                            i += 2;
                            continue;
                        }
                        if chars[i] == c {
                            if c == '\'' && chars.get(i + 1) == Some(&'\'') {
                                i += 2;
                                continue;
                            }
                            break;
                        }
                        i += 1;
                    }
                }
                // An anchor or a tag before the value: the value starts after it.
                '&' | '!' if at_token_start => {
                    while i < chars.len() && chars[i] != ' ' {
                        i += 1;
                    }
                    continue;
                }
                '[' | '{' if at_token_start => open.push(Unclosed {
                    bracket: c,
                    pos: Pos::new(number, u64::try_from(i + 1).unwrap_or(u64::MAX)),
                }),
                ']' | '}' if !open.is_empty() => {
                    open.pop();
                }
                '-' if open.is_empty()
                    && value_start
                    && chars.get(i + 1).is_none_or(|n| *n == ' ') =>
                {
                    i += 1;
                    continue;
                }
                ':' if open.is_empty() && chars.get(i + 1).is_none_or(|n| *n == ' ') => {
                    value_start = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            if open.is_empty() {
                value_start = false;
            }
            i += 1;
        }
    }
    open.into_iter().next()
}

/// Whether `line` ends with a block scalar's indicator: `key: |`, `- >-`,
/// `key: |2+`, a comment after it allowed.
fn starts_block_scalar(line: &str) -> bool {
    let code = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    let Some(last) = code.split_whitespace().last() else {
        return false;
    };
    let mut chars = last.chars();
    let indicator = matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| matches!(c, '+' | '-') || c.is_ascii_digit());
    // What comes before it: nothing, a key, or a list item's dash.
    let before = code.trim_end().strip_suffix(last).unwrap_or_default();
    indicator
        && (before.trim().is_empty()
            || before.ends_with(": ")
            || before.trim_end().ends_with(" -")
            || before.trim() == "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unclosed(text: &str) -> Option<(char, u32, u32)> {
        unclosed_flow(text).map(|u| (u.bracket, u.pos.line, u.pos.col))
    }

    #[test]
    fn an_unclosed_bracket_is_found_where_it_opens() {
        assert_eq!(unclosed("spec:\n  retentionDays: [30"), Some(('[', 2, 18)));
        assert_eq!(
            unclosed("spec:\n  retentionDays: [30\n  logGroupName: /x\n"),
            Some(('[', 2, 18))
        );
        assert_eq!(unclosed("a: {b: [1, 2], c: 3\n"), Some(('{', 1, 4)));
        assert_eq!(unclosed("- [a, {b: 1}\n"), Some(('[', 1, 3)));
        assert_eq!(unclosed("a: &x !!seq [1\n"), Some(('[', 1, 13)));
        // After a block scalar ends, brackets count again.
        assert_eq!(unclosed("a: |\n  [text\nb: [1\n"), Some(('[', 3, 4)));
        // Across lines, the outermost is named.
        assert_eq!(unclosed("a: [\n  1,\n  [2\n"), Some(('[', 1, 4)));
    }

    #[test]
    fn closed_brackets_and_brackets_that_are_text_are_not() {
        for text in [
            "a: [30]\n",
            "a: {b: [1, 2], c: \"]\"}\n",
            "a: [\n  1,\n  2,\n]\n",
            "description: see a[0] and {x\n",
            "a: \"[not a list\"\n",
            "a: '[it''s text'\n",
            "a: 1 # [a comment\n",
            "# [a comment\na: b\n",
            "a: [\"]\", ']']\n",
            "a: [it's, a!b, c&d]\n",
            "a: x\n---\nb: [1]\n",
            "a: |\n  [a draft\n  {and more\nb: [1]\n",
            "a: >- # folded\n  [x\n\n  y\n- |\n  {z\n",
        ] {
            assert_eq!(unclosed(text), None, "{text}");
        }
    }
}
