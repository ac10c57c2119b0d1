//! A guardrail's offline checks: the API's lengths, patterns, counts and rules,
//! each reported at the policy (or field) it concerns, naming the entry.

use std::collections::BTreeSet;

use super::GuardrailSpec;
use super::policy::*;
use crate::kinds::face::{State, ValidateCx};
use crate::syntax::spanned::{Pos, Spanned};

/// `min..=max` characters, else the problem.
fn length(text: &str, min: usize, max: usize) -> Option<String> {
    let len = text.chars().count();
    (!(min..=max).contains(&len)).then(|| {
        if len == 0 {
            "is empty".to_string()
        } else {
            format!("is {len} characters long; the API takes {min} to {max}")
        }
    })
}

fn check_length(cx: &mut ValidateCx<'_>, pos: Pos, what: &str, text: &str, max: usize) {
    if let Some(problem) = length(text, 1, max) {
        cx.error(pos, format!("`{what}` {problem}"));
    }
}

/// At most `max` entries, at least `min`.
fn check_count(cx: &mut ValidateCx<'_>, pos: Pos, what: &str, len: usize, min: usize, max: usize) {
    if len < min {
        cx.error(pos, format!("`{what}` needs at least {min} entry"));
    } else if len > max {
        cx.error(
            pos,
            format!("`{what}` has {len} entries; the API takes at most {max}"),
        );
    }
}

/// Each key once.
fn check_unique<K: Ord + std::fmt::Display>(
    cx: &mut ValidateCx<'_>,
    pos: Pos,
    what: &str,
    keys: impl IntoIterator<Item = K>,
) {
    let mut seen = BTreeSet::new();
    for key in keys {
        let shown = key.to_string();
        if !seen.insert(shown.clone()) {
            cx.error(pos, format!("`{what}` names `{shown}` twice"));
        }
    }
}

pub(super) fn matches(pattern: &str, text: &str) -> bool {
    regex::Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(text))
}

pub fn spec(spec: &GuardrailSpec, cx: &mut ValidateCx<'_>) {
    let name = spec
        .guardrail_name
        .as_ref()
        .map_or(cx.name, |n| n.value.as_str())
        .to_string();
    let name_pos = spec.guardrail_name.as_ref().map_or(cx.doc_pos, |n| n.pos);
    if super::check_guardrail_name(&name).is_err() {
        cx.error_hint(
            name_pos,
            format!("`guardrailName` `{name}` is not a guardrail name"),
            "1 to 50 letters, digits, `-` and `_`",
        );
    }
    if spec.state == State::Absent {
        return;
    }
    if let Some(d) = &spec.description {
        check_length(cx, d.pos, "description", &d.value, 200);
    }
    for (member, value) in [
        ("blockedInputMessaging", &spec.blocked_input_messaging),
        ("blockedOutputsMessaging", &spec.blocked_outputs_messaging),
    ] {
        match value {
            Some(text) => check_length(cx, text.pos, member, &text.value, 500),
            None => cx.error_hint(
                cx.doc_pos,
                format!("a Guardrail needs `{member}`"),
                "the message callers get when the guardrail blocks (1 to 500 characters)",
            ),
        }
    }
    let policies = [
        spec.content_policy.is_some(),
        spec.topic_policy.is_some(),
        spec.word_policy.is_some(),
        spec.sensitive_information_policy.is_some(),
        spec.contextual_grounding_policy.is_some(),
        spec.automated_reasoning_policy.is_some(),
    ];
    if !policies.contains(&true) {
        cx.error_hint(
            cx.doc_pos,
            "this Guardrail declares no policy, so it would let everything through",
            "add `contentPolicy`, `topicPolicy`, `wordPolicy`, `sensitiveInformationPolicy`, `contextualGroundingPolicy` or `automatedReasoningPolicy`",
        );
    }
    if let Some(p) = &spec.content_policy {
        content(cx, p);
    }
    if let Some(p) = &spec.topic_policy {
        topics(cx, p);
    }
    if let Some(p) = &spec.word_policy {
        words(cx, p);
    }
    if let Some(p) = &spec.sensitive_information_policy {
        sensitive(cx, p);
    }
    if let Some(p) = &spec.contextual_grounding_policy {
        let pos = p.pos;
        check_count(
            cx,
            pos,
            "contextualGroundingPolicy.filters",
            p.filters.len(),
            1,
            usize::MAX,
        );
        check_unique(
            cx,
            pos,
            "contextualGroundingPolicy.filters",
            p.filters.iter().map(|f| f.kind.as_str()),
        );
        for f in &p.filters {
            // The model says at least 0; the documentation, at most 0.99.
            if !(0.0..=0.99).contains(&f.threshold) {
                cx.error(
                    pos,
                    format!(
                        "`contextualGroundingPolicy` filter `{}`: `threshold` is {}; it must be from 0 to 0.99",
                        f.kind.as_str(),
                        f.threshold
                    ),
                );
            }
        }
    }
    if let Some(p) = &spec.automated_reasoning_policy {
        let pos = p.pos;
        check_count(
            cx,
            pos,
            "automatedReasoningPolicy.policies",
            p.policies.len(),
            1,
            2,
        );
        for arn in &p.policies {
            if !arn.contains("${")
                && !matches(
                    r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:automated-reasoning-policy/[a-z0-9]{12}(:([1-9][0-9]{0,11}))?",
                    arn,
                )
            {
                cx.error(
                    pos,
                    format!(
                        "`automatedReasoningPolicy.policies`: `{arn}` is not an Automated Reasoning policy ARN"
                    ),
                );
            }
        }
        if let Some(t) = p.confidence_threshold
            && !(0.0..=1.0).contains(&t)
        {
            cx.error(
                pos,
                format!(
                    "`automatedReasoningPolicy.confidenceThreshold` is {t}; it must be from 0 to 1"
                ),
            );
        }
    }
    if let Some(c) = &spec.cross_region_config {
        let id = &c.value.guardrail_profile_identifier;
        if !id.contains("${")
            && (length(id, 15, 2048).is_some()
                || !matches(
                    r"[a-z0-9-]+[.]{1}guardrail[.]{1}v[0-9:]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail-profile/[a-z0-9-]+[.]{1}guardrail[.]{1}v[0-9:]+",
                    id,
                ))
        {
            cx.error_hint(
                c.pos,
                format!("`crossRegionConfig.guardrailProfileIdentifier` `{id}` is not a guardrail profile"),
                "a profile id such as `us.guardrail.v1:0`, or its ARN",
            );
        }
    }
    if let Some(key) = &spec.kms_key_id
        && !key.value.contains("${")
        && !matches(
            r"arn:aws(-[^:]+)?:kms:[a-zA-Z0-9-]*:[0-9]{12}:key/[a-zA-Z0-9-]{36}",
            &key.value,
        )
    {
        cx.error_hint(
            key.pos,
            format!("`kmsKeyId` `{}` is not a KMS key ARN", key.value),
            "write the key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID): AWS returns the key's ARN, so an id or alias could not be compared",
        );
    }
    for test in &spec.tests {
        let input = &test.value.input;
        if input.value.trim().is_empty() {
            cx.error(input.pos, "a guardrail test's `input` is empty");
        }
    }
}

fn content(cx: &mut ValidateCx<'_>, p: &Spanned<GuardrailContentPolicy>) {
    let pos = p.pos;
    check_count(cx, pos, "contentPolicy.filters", p.filters.len(), 1, 6);
    check_unique(
        cx,
        pos,
        "contentPolicy.filters",
        p.filters.iter().map(|f| f.kind.as_str()),
    );
    for f in &p.filters {
        if f.kind == GuardrailContentFilterType::PROMPT_ATTACK
            && f.output_strength != GuardrailFilterStrength::NONE
        {
            cx.error_hint(
                pos,
                "`contentPolicy` filter `PROMPT_ATTACK`: `outputStrength` must be `NONE`",
                "prompt attacks are filtered in the input only",
            );
        }
        for (member, list) in [
            ("inputModalities", &f.input_modalities),
            ("outputModalities", &f.output_modalities),
        ] {
            if let Some(list) = list {
                check_count(
                    cx,
                    pos,
                    &format!("contentPolicy filter {} {member}", f.kind.as_str()),
                    list.len(),
                    1,
                    2,
                );
            }
        }
    }
}

fn topics(cx: &mut ValidateCx<'_>, p: &Spanned<GuardrailTopicPolicy>) {
    let pos = p.pos;
    check_count(cx, pos, "topicPolicy.topics", p.topics.len(), 1, 30);
    check_unique(
        cx,
        pos,
        "topicPolicy.topics",
        p.topics.iter().map(|t| t.name.as_str()),
    );
    for t in &p.topics {
        if super::check_topic_name(&t.name).is_err() {
            cx.error_hint(
                pos,
                format!("`topicPolicy`: `{}` is not a topic name", t.name),
                "1 to 100 letters, digits, spaces and `-_!?.`",
            );
        }
        if let Some(problem) = length(&t.definition, 1, 200) {
            cx.error(
                pos,
                format!("`topicPolicy` topic `{}`: `definition` {problem}", t.name),
            );
        }
        let examples = t.examples.as_deref().unwrap_or_default();
        if examples.len() > 5 {
            cx.error(
                pos,
                format!(
                    "`topicPolicy` topic `{}` has {} examples; the API takes at most 5",
                    t.name,
                    examples.len()
                ),
            );
        }
        for e in examples {
            if let Some(problem) = length(e, 1, 100) {
                cx.error(
                    pos,
                    format!("`topicPolicy` topic `{}`: an example {problem}", t.name),
                );
            }
        }
    }
}

fn words(cx: &mut ValidateCx<'_>, p: &Spanned<GuardrailWordPolicy>) {
    let pos = p.pos;
    let words = p.words.as_deref().unwrap_or_default();
    let lists = p.managed_word_lists.as_deref().unwrap_or_default();
    if words.is_empty() && lists.is_empty() {
        cx.error(
            pos,
            "`wordPolicy` needs `words`, `managedWordLists`, or both",
        );
    }
    if let Some(words) = &p.words {
        check_count(cx, pos, "wordPolicy.words", words.len(), 1, 10_000);
    }
    check_unique(cx, pos, "wordPolicy.words", words.iter().map(|w| &w.text));
    check_unique(
        cx,
        pos,
        "wordPolicy.managedWordLists",
        lists.iter().map(|l| l.kind.as_str()),
    );
    for w in words {
        if let Some(problem) = length(&w.text, 1, 100) {
            cx.error(pos, format!("`wordPolicy`: a word {problem}"));
        }
    }
}

fn sensitive(cx: &mut ValidateCx<'_>, p: &Spanned<GuardrailSensitiveInformationPolicy>) {
    let pos = p.pos;
    let entities = p.pii_entities.as_deref().unwrap_or_default();
    let regexes = p.regexes.as_deref().unwrap_or_default();
    if entities.is_empty() && regexes.is_empty() {
        cx.error(
            pos,
            "`sensitiveInformationPolicy` needs `piiEntities`, `regexes`, or both",
        );
    }
    check_unique(
        cx,
        pos,
        "sensitiveInformationPolicy.piiEntities",
        entities.iter().map(|e| e.kind.as_str()),
    );
    if let Some(regexes) = &p.regexes {
        check_count(
            cx,
            pos,
            "sensitiveInformationPolicy.regexes",
            regexes.len(),
            1,
            30,
        );
    }
    check_unique(
        cx,
        pos,
        "sensitiveInformationPolicy.regexes",
        regexes.iter().map(|r| &r.name),
    );
    for r in regexes {
        for (member, text, max) in [
            ("name", Some(&r.name), 100),
            ("pattern", Some(&r.pattern), 500),
        ]
        .into_iter()
        .chain([("description", r.description.as_ref(), 1000)])
        {
            if let Some(text) = text
                && let Some(problem) = length(text, 1, max)
            {
                cx.error(
                    pos,
                    format!(
                        "`sensitiveInformationPolicy` regex `{}`: `{member}` {problem}",
                        r.name
                    ),
                );
            }
        }
    }
}
