//! `trainingData.invocationLogs.requestMetadataFilters`: which logged calls a
//! distillation trains from, as the API's `RequestMetadataFilters` union takes
//! them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::kinds::face::{ValidateCx, strip_nulls};
use crate::syntax::spanned::Spanned;

/// Filters on request metadata: exactly one of `equals`, `notEquals`, `andAll`, `orAll`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetadataFilter {
    #[serde(default)]
    pub equals: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub not_equals: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub and_all: Option<Vec<BaseFilter>>,
    #[serde(default)]
    pub or_all: Option<Vec<BaseFilter>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BaseFilter {
    #[serde(default)]
    pub equals: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub not_equals: Option<BTreeMap<String, String>>,
}

pub(super) fn validate_filter(cx: &mut ValidateCx<'_>, filter: &Spanned<MetadataFilter>) {
    let f = &filter.value;
    let set = [
        f.equals.is_some(),
        f.not_equals.is_some(),
        f.and_all.is_some(),
        f.or_all.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        cx.error_hint(
            filter.pos,
            "`requestMetadataFilters` takes exactly one of `equals`, `notEquals`, `andAll`, `orAll`",
            "combine conditions with `andAll: [{equals: {...}}, {notEquals: {...}}]`",
        );
    }
    for map in [&f.equals, &f.not_equals].into_iter().flatten() {
        if map.len() != 1 {
            cx.error(
                filter.pos,
                "`equals` / `notEquals` take exactly one key and value",
            );
        }
    }
    for list in [&f.and_all, &f.or_all].into_iter().flatten() {
        if list.is_empty() || list.len() > 16 {
            cx.error(filter.pos, "`andAll` / `orAll` take 1 to 16 filters");
        }
        for base in list {
            let n = usize::from(base.equals.is_some()) + usize::from(base.not_equals.is_some());
            let sizes_ok = [&base.equals, &base.not_equals]
                .into_iter()
                .flatten()
                .all(|m| m.len() == 1);
            if n != 1 || !sizes_ok {
                cx.error(filter.pos, "each filter in `andAll` / `orAll` takes exactly one of `equals` or `notEquals` with one key");
            }
        }
    }
}

pub(super) fn filter_value(filter: &MetadataFilter) -> Value {
    let base = |b: &BaseFilter| strip_nulls(json!({"equals": b.equals, "notEquals": b.not_equals}));
    strip_nulls(json!({
        "equals": filter.equals,
        "notEquals": filter.not_equals,
        "andAll": filter.and_all.as_ref().map(|l| l.iter().map(base).collect::<Vec<_>>()),
        "orAll": filter.or_all.as_ref().map(|l| l.iter().map(base).collect::<Vec<_>>()),
    }))
}
