//! A value with the place in the manifest where it was written.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Line and column (1-based) of a value inside its manifest file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn new(line: u64, col: u64) -> Self {
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A manifest value and where it stands. Its schema is the schema of `T`.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Spanned<T> {
    pub fn new(value: T, pos: Pos) -> Self {
        Spanned { value, pos }
    }
}

/// A value the manifest left out: its default, at no position.
impl<T: Default> Default for Spanned<T> {
    fn default() -> Self {
        Spanned::new(T::default(), Pos::default())
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let inner = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let loc = inner.referenced;
        Ok(Spanned {
            value: inner.value,
            pos: Pos::new(loc.line(), loc.column()),
        })
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A mapping with string keys that remembers where each key was written, so a
/// problem with one entry (a reserved tag key) is reported at that key. It reads and
/// derefs as the plain map; its schema is the plain map's.
#[derive(Clone, Debug)]
pub struct KeyedMap<V> {
    entries: BTreeMap<String, V>,
    positions: BTreeMap<String, Pos>,
}

impl<V> Default for KeyedMap<V> {
    fn default() -> Self {
        KeyedMap {
            entries: BTreeMap::new(),
            positions: BTreeMap::new(),
        }
    }
}

impl<V> KeyedMap<V> {
    /// Entries in key order, each with the position of its key.
    pub fn iter_with_pos(&self) -> impl Iterator<Item = (&str, Pos, &V)> {
        self.entries.iter().map(|(key, value)| {
            let pos = self.positions.get(key).copied().unwrap_or_default();
            (key.as_str(), pos, value)
        })
    }
}

impl<V> std::ops::Deref for KeyedMap<V> {
    type Target = BTreeMap<String, V>;
    fn deref(&self) -> &BTreeMap<String, V> {
        &self.entries
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for KeyedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyedMapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for KeyedMapVisitor<V> {
            type Value = KeyedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyedMap<V>, A::Error> {
                let mut out = KeyedMap::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value()?;
                    out.positions.insert(key.value.clone(), key.pos);
                    out.entries.insert(key.value, value);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(KeyedMapVisitor(PhantomData))
    }
}

/// As the plain map (the schema's defaults are generated from it).
impl<V: Serialize> Serialize for KeyedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl<V: JsonSchema> JsonSchema for KeyedMap<V> {
    fn inline_schema() -> bool {
        BTreeMap::<String, V>::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        BTreeMap::<String, V>::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        BTreeMap::<String, V>::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        BTreeMap::<String, V>::json_schema(generator)
    }
}
