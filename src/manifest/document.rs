//! One YAML document: `apiVersion`, `kind`, `metadata.name`, `spec`. The spec is read
//! with the type its kind names, so every error keeps its location.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::diag::{Diagnostic, FileId, Sources};
use crate::files::Confinement;
use crate::kinds::AnySpec;
use crate::kinds::stack::StackSpec;
use crate::syntax::spanned::{Pos, Spanned};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: Spanned<String>,
}

/// What a document's `spec` turned out to be.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per document, never moved in bulk
pub enum Body {
    Stack(StackSpec),
    Resource(AnySpec),
    /// The kind is not one bedform knows; reported by validation.
    UnknownKind,
    /// `spec` came before `kind`, so it could not be read as its kind; the position
    /// of the `spec` key, reported by validation.
    SpecBeforeKind(Pos),
}

#[derive(Debug, Clone)]
pub struct RawDocument {
    pub api_version: Option<Spanned<String>>,
    pub kind: Option<Spanned<String>>,
    pub metadata: Option<Spanned<Metadata>>,
    pub body: Option<Body>,
}

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

const FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];

impl<'de> Deserialize<'de> for RawDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = RawDocument;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a manifest document with apiVersion, kind, metadata and spec")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDocument, A::Error> {
        let mut doc = RawDocument {
            api_version: None,
            kind: None,
            metadata: None,
            body: None,
        };
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            match key.value.as_str() {
                "apiVersion" => set_once(&mut doc.api_version, map.next_value()?, "apiVersion")?,
                "kind" => set_once(&mut doc.kind, map.next_value()?, "kind")?,
                "metadata" => set_once(&mut doc.metadata, map.next_value()?, "metadata")?,
                "spec" => {
                    // An error raised here would carry no location: skip the spec and
                    // let validation report it at the key.
                    let Some(kind) = &doc.kind else {
                        map.next_value::<IgnoredAny>()?;
                        set_once(&mut doc.body, Body::SpecBeforeKind(key.pos), "spec")?;
                        continue;
                    };
                    let body = if kind.value == "Stack" {
                        Body::Stack(map.next_value()?)
                    } else {
                        match AnySpec::next_value_for(&kind.value, &mut map)? {
                            Some(spec) => Body::Resource(spec),
                            None => {
                                map.next_value::<IgnoredAny>()?;
                                Body::UnknownKind
                            }
                        }
                    };
                    set_once(&mut doc.body, body, "spec")?;
                }
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            }
        }
        Ok(doc)
    }
}

fn set_once<T, E: de::Error>(slot: &mut Option<T>, value: T, field: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(value);
    Ok(())
}
