//! The AWS Price List's products of a region, kept on disk for a day in the
//! user's cache folder (`$XDG_CACHE_HOME/bedform`, else `~/.cache/bedform`), so
//! that plans do not ask the Price List again each time. What is kept is the
//! products as AWS returned them; what they mean is read anew by each bedform.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How long a read of the Price List is used.
pub const FRESH_SECONDS: u64 = 24 * 60 * 60;

/// Largest cache file read.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cached {
    /// Unix seconds of the read.
    read_at: u64,
    region: String,
    products: Vec<String>,
}

/// The folder bedform keeps its cache in, if the environment names one.
pub fn dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("bedform"))
}

fn file(region: &str) -> Option<PathBuf> {
    // A region is letters, digits and dashes; anything else is no file name.
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    Some(dir()?.join(format!("price-list-{region}.json")))
}

/// The products read for `region` less than a day before `now` (Unix seconds),
/// with when they were read.
pub fn load(region: &str, now: u64) -> Option<(Vec<String>, u64)> {
    let path = file(region)?;
    let bytes = crate::files::read_regular(&path, "the price list cache", MAX_BYTES).ok()?;
    let cached: Cached = serde_json::from_slice(&bytes).ok()?;
    let fresh =
        cached.region == region && cached.read_at <= now && now - cached.read_at < FRESH_SECONDS;
    fresh.then_some((cached.products, cached.read_at))
}

/// Keeps `products` of `region`, read at `now`; a cache that cannot be written
/// only means the next plan reads the Price List again.
pub fn store(region: &str, products: &[String], now: u64) -> std::io::Result<()> {
    let Some(path) = file(region) else {
        return Ok(());
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let cached = Cached {
        read_at: now,
        region: region.to_string(),
        products: products.to_vec(),
    };
    let text = serde_json::to_vec(&cached).map_err(std::io::Error::other)?;
    // Written beside, then moved: a reader never sees half a file.
    let partial = path.with_extension(format!("json.{}", std::process::id()));
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, &path)
}

/// `YYYY-MM-DD` of Unix seconds.
pub fn day(seconds: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}
