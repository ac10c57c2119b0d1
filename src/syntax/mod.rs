//! What every kind's typed spec is written with: values that keep their place in
//! the file ([`spanned`]), references to other resources ([`refs`]), and the
//! document envelope of the JSON Schema ([`schema`]). Below the kinds and the
//! manifest loader, importing neither.

pub mod refs;
pub mod schema;
pub mod spanned;
