//! What a YAML reader's error means for the person who wrote the manifest: the
//! message in the manifest's words, with a hint where one helps.

use crate::diag::{Diagnostic, FileId, Loc, did_you_mean};
use crate::syntax::spanned::Pos;

/// Turns a YAML or type error into a diagnostic, with "did you mean" for unknown
/// fields and kinds.
pub(super) fn parse_error(file: FileId, err: &serde_saphyr::Error) -> Diagnostic {
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
