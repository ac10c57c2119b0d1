//! The faces every kind implements: [`ResourceSpec`] (what its manifest says, how
//! it is validated and lowered to desired state) and [`KindBehaviour`] (how the
//! planner treats it), with the contexts they are given.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use schemars::JsonSchema;

use serde_json::{Map, Value};

use crate::diag::{Diagnostic, FileId, Loc};
use crate::model::plan::{Change, PlanOptions};
use crate::model::{Address, DesiredStack, Kind, Scope, TAG_ADDRESS};
use crate::model::{DeletionPolicy, DesiredResource, ObservedAccount, ObservedResource, StackInfo};
use crate::syntax::refs::{Placeholder, RefOr, Reference, interpolate};
use crate::syntax::spanned::KeyedMap;
use crate::syntax::spanned::{Pos, Spanned};

/// Fields every kind may carry.
#[derive(Clone, Copy, Debug, Default)]
pub struct Common<'a> {
    pub prevent_destroy: bool,
    pub tags: Option<&'a BTreeMap<String, Option<String>>>,
    pub absent: bool,
    pub deletion_policy: DeletionPolicy,
}

/// What a resource's manifest says, and how it becomes desired state.
pub trait ResourceSpec: fmt::Debug + Send + Sync {
    fn common(&self) -> Common<'_>;
    /// Offline checks of this spec alone (names, formats, required fields).
    fn validate(&self, cx: &mut ValidateCx<'_>);
    /// `{ref: NAME}` fields (placeholders in strings are found from the source text).
    fn references(&self) -> Vec<Reference>;
    /// Lowers the spec to its AWS name and normalised attributes, with references
    /// resolved through `cx`.
    fn lower(&self, cx: &LowerCx<'_>) -> Result<Lowered, Diagnostic>;
    /// The smoke check the spec declares, if its kind has any. It is no part of
    /// the spec hash nor of the attributes compared with AWS.
    fn smoke_check(&self) -> Option<crate::model::check::SmokeCheck> {
        None
    }
    /// The guardrail tests the spec declares (a `Guardrail`'s `tests`), run by
    /// `bedform check` and `apply --wait`; no part of the spec hash.
    fn guardrail_tests(&self) -> Vec<crate::model::check::GuardrailTest> {
        Vec::new()
    }
    /// Whether what an earlier spec of the resource made is kept once superseded
    /// (a job's `supersededModel: keep`); no part of the spec hash either.
    fn keeps_superseded(&self) -> bool {
        false
    }
}

/// The result of lowering one spec.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub aws_name: String,
    /// `arn` for `${NAME.arn}` and `{ref}` fields that want an ARN, when it is known
    /// before the resource exists.
    pub arn: Option<String>,
    /// What a `model: {ref: NAME}` field resolves to (custom model identity).
    pub model: Option<String>,
    pub attrs: Map<String, Value>,
    /// Extra values hashed into the spec hash that are not compared field by field.
    pub hash_extra: Option<Value>,
}

/// Why `bedform export` writes no document for an object.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotExported {
    /// The object is set up in a way the kind's manifest cannot declare.
    #[error("{0}")]
    Undeclarable(&'static str),
    #[error("its retention of {days} days is not one CloudWatch Logs accepts")]
    Retention { days: u64 },
    /// AWS did not return something the document needs.
    #[error("AWS did not return its {0}")]
    Missing(&'static str),
    #[error(
        "it serves custom model `{model}`, which no exported CustomizationJob trains; a manifest names a custom model only through its job"
    )]
    UntrainedModel { model: String },
    #[error(
        "it completed, but its custom model `{model}` no longer exists; a document of it would train again"
    )]
    ModelGone { model: String },
    #[error("bedform does not export this kind")]
    Kind,
}

/// What `bedform import` does for a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adoption {
    /// The object takes the ownership tags.
    Tags,
    /// Nothing to import: the kind takes no tags and is planned from its document
    /// alone. The text says why, for the user.
    NotNeeded(&'static str),
}

/// How the planner treats a kind. Its engine facts are a [`crate::kinds::KindFacts`]
/// beside it, which the registry in [`crate::kinds::Kind::facts`] names.
pub trait KindBehaviour: Sync {
    /// Whether the kind's create takes a `clientRequestToken` (the plans of
    /// [`crate::kinds::lifecycle::plan_declared`] then send the deterministic one).
    fn takes_client_request_token(&self) -> bool {
        false
    }
    /// Whether an existing object can be adopted by tagging it.
    fn adoption(&self) -> Adoption {
        Adoption::Tags
    }
    /// The manifest member that gives the object its AWS name (`roleName`), as
    /// plans name the field.
    fn name_member(&self) -> &'static str {
        "metadata.name"
    }
    /// How messages name what gives the object its AWS name: the member, quoted.
    fn name_field(&self) -> String {
        format!("`{}`", self.name_member())
    }
    /// The AWS objects (kind, name) that carry a declared resource's ownership tags.
    fn owned_objects(&self, desired: &DesiredResource) -> Vec<(String, String)> {
        vec![(desired.address.kind.clone(), desired.aws_name.clone())]
    }
    /// Why `observed` cannot be adopted as `desired` although the names match
    /// (a job that trained something else), if it cannot.
    fn adoption_refusal(
        &self,
        _desired: &DesiredResource,
        _observed: &ObservedResource,
    ) -> Option<String> {
        None
    }
    /// Adds to `scope` what reading the account must cover for `desired`: its own
    /// object, and whatever else its plan looks at (a job's custom model, the
    /// models whose availability model access reports).
    fn scope(&self, desired: &DesiredResource, scope: &mut Scope) {
        scope.declare(&desired.address.kind, &desired.aws_name);
    }
    /// Whether `bedform export` writes a document for this object on its own.
    fn export_selects(&self, _cx: &ExportCx<'_>, _observed: &ObservedResource) -> bool {
        false
    }
    /// The `metadata.name` an exported document takes, when the kind knows better
    /// than the AWS name (a job's name without its hash suffix).
    fn export_document_name(&self, _observed: &ObservedResource) -> Option<String> {
        None
    }
    /// Objects (kind, AWS name) this object's document refers to, exported with it.
    fn export_needs(
        &self,
        _cx: &ExportCx<'_>,
        _observed: &ObservedResource,
    ) -> Vec<(String, String)> {
        Vec::new()
    }
    /// The `spec` of a document that declares `observed` as it is, or why none can.
    fn export(
        &self,
        _cx: &ExportCx<'_>,
        _observed: &ObservedResource,
    ) -> Result<Exported, NotExported> {
        Err(NotExported::Kind)
    }
    /// Attributes of the desired state that AWS does not hold (a guardrail's
    /// `publishVersion`, which says what apply does): never compared with what
    /// was read.
    fn not_held(&self) -> &'static [&'static str] {
        &[]
    }
    /// True when a change of `field` (top-level attribute name) can only be made by
    /// replacing the resource.
    fn forces_replacement(&self, _field: &str) -> bool {
        false
    }
    /// The AWS name in the resource part of an ARN of the kind (after the fifth
    /// `:`): most ARNs end in `.../NAME`.
    fn name_in_arn(&self, resource: &str) -> String {
        resource.rsplit('/').next().unwrap_or(resource).to_string()
    }
    /// The kind this is the behaviour of.
    fn kind(&self) -> Kind;
    /// Whether AWS lets the object carry tags (and so ownership can be proven):
    /// the kind's facts say what tags it takes.
    fn taggable(&self) -> bool {
        self.kind().facts().tags.is_some()
    }
    /// The value of `${NAME.attr}` for an attribute only the account tells (a
    /// guardrail's `version`), as this plan leaves it: `None` when the kind has
    /// no such attribute, `Err` with the reason when it cannot be known.
    fn plan_attribute(
        &self,
        _cx: &PlanCx<'_>,
        _desired: &DesiredResource,
        _attr: &str,
    ) -> Option<Result<String, String>> {
        None
    }
    /// Plans a declared resource against the account (most kinds:
    /// [`crate::kinds::lifecycle::plan_declared`]).
    fn plan(&self, cx: &PlanCx<'_>, desired: &DesiredResource) -> Vec<Change>;
    /// Plans an object this stack owns that no declared resource claimed (most
    /// kinds: [`crate::kinds::lifecycle::plan_orphan`]).
    fn plan_orphan(&self, cx: &PlanCx<'_>, observed: &ObservedResource) -> Vec<Change>;
}

/// What a kind's export sees: the account read, and the documents exported so far
/// (so that fields refer to them with `{ref: NAME}`).
pub struct ExportCx<'a> {
    pub observed: &'a ObservedAccount,
    /// (kind, AWS name) → `metadata.name` of the documents exported.
    pub names: BTreeMap<(String, String), String>,
}

impl ExportCx<'_> {
    /// `{ref: NAME}` for an exported object.
    pub fn reference(&self, kind: &str, aws_name: &str) -> Option<Value> {
        self.names
            .get(&(kind.to_string(), aws_name.to_string()))
            .map(|name| serde_json::json!({ "ref": name }))
    }
    /// `{ref: NAME}` for the exported object with this ARN.
    pub fn reference_by_arn(&self, kind: &str, arn: &str) -> Option<Value> {
        let object = self
            .observed
            .of_kind(kind)
            .find(|o| o.arn.as_deref() == Some(arn))?;
        self.reference(kind, &object.aws_name)
    }
    /// `{ref: NAME}` when the object is exported, else the literal.
    pub fn reference_or(&self, kind: &str, aws_name: &str, literal: &str) -> Value {
        self.reference(kind, aws_name)
            .unwrap_or_else(|| Value::String(literal.to_string()))
    }
}

/// An exported document's `spec`, and what the user should know about it.
#[derive(Clone, Debug, Default)]
pub struct Exported {
    pub spec: Map<String, Value>,
    pub warnings: Vec<String>,
}

impl Exported {
    /// Sets `key` unless `value` is null.
    pub fn set(&mut self, key: &str, value: Value) {
        if !value.is_null() {
            self.spec.insert(key.to_string(), value);
        }
    }
    /// The object's own tags (not bedform's), if it has any.
    pub fn tags_of(&mut self, observed: &ObservedResource) {
        let tags: BTreeMap<String, String> = observed
            .user_tags()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("aws:"))
            .collect();
        if !tags.is_empty() {
            self.set("tags", serde_json::json!(tags));
        }
    }
}

/// Collects the problems of one document.
pub struct ValidateCx<'a> {
    pub file: FileId,
    /// Where the document starts, for problems with no better place.
    pub doc_pos: Pos,
    pub name: &'a str,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl ValidateCx<'_> {
    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at(
            Loc {
                file: self.file,
                pos,
            },
            message,
        ));
    }
    pub fn error_hint(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.diagnostics.push(
            Diagnostic::at(
                Loc {
                    file: self.file,
                    pos,
                },
                message,
            )
            .with_hint(hint),
        );
    }
    /// Checks a literal field with `check`; references are checked elsewhere.
    pub fn check_literal(
        &mut self,
        field: &str,
        value: &Spanned<RefOr>,
        check: impl Fn(&str) -> Result<(), crate::names::NameError>,
    ) {
        if let RefOr::Literal(text) = &value.value
            && !text.contains("${")
            && let Err(problem) = check(text)
        {
            self.error(value.pos, format!("`{field}`: {problem}"));
        }
    }
}

/// What a resource being lowered can see: the stack and the resources lowered
/// before it (its dependencies come first).
pub struct LowerCx<'a> {
    /// Folder of the manifest file, for files it names.
    pub source_dir: &'a std::path::Path,
    /// Where files that manifests name may be read from.
    pub files: &'a crate::files::Confinement,
    pub doc_pos: Pos,
    pub stack: &'a StackInfo,
    pub account_id: &'a str,
    pub file: FileId,
    pub name: &'a str,
    pub lowered: &'a BTreeMap<String, (&'static str, Lowered)>,
}

impl LowerCx<'_> {
    fn loc(&self, pos: Pos) -> Loc {
        Loc {
            file: self.file,
            pos,
        }
    }

    /// Replaces `${...}` placeholders in a string.
    pub fn interpolate(&self, text: &str) -> String {
        interpolate(text, &|placeholder| match placeholder {
            Placeholder::Account => Some(self.account_id.to_string()),
            Placeholder::Region => Some(self.stack.region.clone()),
            Placeholder::Attr { name, attr } => {
                let (_, lowered) = self.lowered.get(name)?;
                match attr.as_str() {
                    "arn" => lowered.arn.clone(),
                    "name" => Some(lowered.aws_name.clone()),
                    _ => None,
                }
            }
            Placeholder::Invalid(_) => None,
        })
    }

    /// Replaces placeholders in every string of a JSON value.
    pub fn interpolate_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.interpolate(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.interpolate_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.interpolate_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn target(&self, name: &str, pos: Pos) -> Result<&Lowered, Diagnostic> {
        self.lowered.get(name).map(|(_, l)| l).ok_or_else(|| {
            Diagnostic::at(
                self.loc(pos),
                format!("reference to unknown resource `{name}`"),
            )
        })
    }

    /// The ARN a field names: the literal, or the referenced resource's ARN.
    pub fn arn(&self, value: &Spanned<RefOr>) -> Result<String, Diagnostic> {
        match &value.value {
            RefOr::Literal(text) => Ok(self.interpolate(text)),
            RefOr::Ref(name) => self.target(name, value.pos)?.arn.clone().ok_or_else(|| {
                Diagnostic::at(
                    self.loc(value.pos),
                    format!("`{name}` has no ARN before it exists"),
                )
            }),
        }
    }

    /// The AWS name a field names: the literal, or the referenced resource's name.
    pub fn aws_name(&self, value: &Spanned<RefOr>) -> Result<String, Diagnostic> {
        match &value.value {
            RefOr::Literal(text) => Ok(self.interpolate(text)),
            RefOr::Ref(name) => Ok(self.target(name, value.pos)?.aws_name.clone()),
        }
    }

    /// The model a field names, normalised: a foundation model id, or
    /// `custom-model/NAME` for a referenced customization job's model.
    pub fn model(&self, value: &Spanned<RefOr>) -> Result<String, Diagnostic> {
        match &value.value {
            RefOr::Literal(text) => Ok(crate::models::normalise_model(&self.interpolate(text))),
            RefOr::Ref(name) => {
                let target = self.target(name, value.pos)?;
                Ok(target
                    .model
                    .clone()
                    .or_else(|| target.arn.clone())
                    .unwrap_or_else(|| target.aws_name.clone()))
            }
        }
    }
}

/// Stack tags merged with a resource's own (`null` drops a stack tag).
pub fn merged_tags(
    stack: &StackInfo,
    own: Option<&BTreeMap<String, Option<String>>>,
) -> BTreeMap<String, String> {
    let mut tags = stack.tags.clone();
    for (key, value) in own.into_iter().flatten() {
        match value {
            Some(v) => {
                tags.insert(key.clone(), v.clone());
            }
            None => {
                tags.remove(key);
            }
        }
    }
    tags
}

/// Builds the desired resource from a lowered spec.
pub fn desired_resource(
    kind: &'static str,
    name: &str,
    spec: &dyn ResourceSpec,
    lowered: &Lowered,
    stack: &StackInfo,
    depends_on: BTreeSet<crate::model::Address>,
    source: String,
) -> DesiredResource {
    let common = spec.common();
    // Stack tags are added only where the object takes tags.
    let tags = if Kind::parse(kind).is_some_and(|k| k.facts().tags.is_some()) {
        merged_tags(stack, common.tags)
    } else {
        BTreeMap::new()
    };
    let mut hashed = Map::new();
    hashed.insert("name".into(), Value::String(lowered.aws_name.clone()));
    hashed.insert("attrs".into(), Value::Object(lowered.attrs.clone()));
    hashed.insert(
        "tags".into(),
        serde_json::to_value(&tags).unwrap_or(Value::Null),
    );
    if let Some(extra) = &lowered.hash_extra {
        hashed.insert("extra".into(), extra.clone());
    }
    DesiredResource {
        address: crate::model::Address::new(kind, name),
        aws_name: lowered.aws_name.clone(),
        attrs: lowered.attrs.clone(),
        tags,
        spec_hash: crate::hash::spec_hash(&Value::Object(hashed)),
        prevent_destroy: common.prevent_destroy,
        deletion_policy: common.deletion_policy,
        absent: common.absent,
        depends_on,
        source,
        check: spec.smoke_check(),
        guardrail_tests: spec.guardrail_tests(),
        keeps_superseded: spec.keeps_superseded(),
    }
}

/// `state: present | absent`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum State {
    #[default]
    Present,
    Absent,
}

/// What a kind's planner can see.
pub struct PlanCx<'a> {
    pub desired: &'a DesiredStack,
    pub observed: &'a ObservedAccount,
    pub options: &'a PlanOptions,
    claimed: RefCell<BTreeSet<(String, String)>>,
}

impl<'a> PlanCx<'a> {
    pub fn new(
        desired: &'a DesiredStack,
        observed: &'a ObservedAccount,
        options: &'a PlanOptions,
    ) -> PlanCx<'a> {
        PlanCx {
            desired,
            observed,
            options,
            claimed: RefCell::new(BTreeSet::new()),
        }
    }
    pub fn stack(&self) -> &str {
        &self.desired.stack.name
    }
    /// Marks an observed object as accounted for by a declared resource.
    pub fn claim(&self, observed: &ObservedResource) {
        self.claimed
            .borrow_mut()
            .insert((observed.kind.clone(), observed.aws_name.clone()));
    }
    pub fn is_claimed(&self, observed: &ObservedResource) -> bool {
        self.claimed
            .borrow()
            .contains(&(observed.kind.clone(), observed.aws_name.clone()))
    }
    pub fn find(&self, kind: &str, aws_name: &str) -> Option<&'a ObservedResource> {
        self.observed.find(kind, aws_name)
    }
    /// Objects of `kind` this stack owns for `address`.
    pub fn owned_for(&self, kind: &'a str, address: &Address) -> Vec<&'a ObservedResource> {
        let address = address.to_string();
        let stack = self.stack().to_string();
        self.observed
            .of_kind(kind)
            .filter(|o| o.owned_by(&stack) && o.tag(TAG_ADDRESS) == Some(address.as_str()))
            .collect()
    }
    /// Declared resources of a kind.
    pub fn declared(&self, kind: &'a str) -> impl Iterator<Item = &'a DesiredResource> + 'a {
        self.desired
            .resources
            .iter()
            .filter(move |r| r.address.kind == kind)
    }
    /// The observation time (RFC 3339).
    pub fn now(&self) -> &str {
        &self.observed.observed_at
    }
}

/// `retain | delete`
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum DeletionPolicySchema {
    Retain,
    Delete,
}

/// Drops `null` members of an object.
pub fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

/// Checks a spec's `tags`, each problem at its key.
/// Longest prefix of a name bedform completes with `-` and an 8-character hash
/// (a job's, an import's): 63 characters less 9.
pub const MAX_HASHED_PREFIX: usize = 63 - 9;

/// Checks a name `prefix` that bedform completes with `-HASH` (the hash of
/// `hash_of`) against the name rule `check` of what it names.
pub fn validate_hashed_prefix(
    cx: &mut ValidateCx<'_>,
    field: &str,
    prefix: &str,
    pos: Pos,
    hash_of: &str,
    check: fn(&str) -> Result<(), crate::names::NameError>,
) {
    if prefix.len() > MAX_HASHED_PREFIX {
        cx.error(
            pos,
            format!("`{field}` prefix `{prefix}` is longer than {MAX_HASHED_PREFIX} characters (the {hash_of} hash is appended)"),
        );
    } else if let Err(problem) = check(&format!("{prefix}-00000000")) {
        // The name AWS is sent: the prefix, `-` and the hash.
        cx.error(
            pos,
            format!("`{field}` `{prefix}` (with `-HASH` appended) {problem}"),
        );
    }
}

pub fn validate_tags(cx: &mut ValidateCx<'_>, tags: Option<&KeyedMap<Option<String>>>) {
    for (key, pos, value) in tags.into_iter().flat_map(KeyedMap::iter_with_pos) {
        if let Err(problem) = crate::names::check_tag(key, value.as_deref().unwrap_or("")) {
            cx.error(pos, format!("`tags`: {problem}"));
        }
    }
}
