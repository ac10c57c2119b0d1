//! One apply at a time: the stack lock. On AWS it is an S3 object created with a
//! conditional put (`If-None-Match: *`), so of two applies exactly one creates it;
//! in the sandbox it is a file beside the sandbox file, created only if absent. The
//! lock records who holds it and since when, so a refused apply can say.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::{Deserialize, Serialize};

use super::aws::errors::classify;
use super::error::{CloudError, ErrorClass};
use crate::model::Invocation;
use crate::model::invocation::shell_word;

pub use crate::model::LockLocation;

/// Who holds a lock and since when: the content of the lock object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// What `bedform unlock ID` takes.
    pub id: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    pub command: String,
    /// RFC 3339.
    pub since: String,
    pub stack: String,
}

impl LockRecord {
    /// A record for this process, taking the lock of `stack` now.
    pub fn new(stack: &str, command: &str) -> LockRecord {
        static TAKEN: AtomicU64 = AtomicU64::new(0);
        let who = format!("{}@{}", user(), host());
        let pid = std::process::id();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seed = format!(
            "{who}\n{pid}\n{nanos}\n{}",
            TAKEN.fetch_add(1, Ordering::Relaxed)
        );
        LockRecord {
            id: crate::hash::digest_str(&seed)[..16].to_string(),
            who,
            pid,
            command: command.to_string(),
            since: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            stack: stack.to_string(),
        }
    }
}

impl LockRecord {
    /// The host of `who` (`user@host`).
    fn host(&self) -> &str {
        self.who.rsplit_once('@').map_or("", |(_, host)| host)
    }

    /// Whether the holder is provably gone: it ran on this host, and no process
    /// with its pid runs here any more.
    pub fn holder_is_gone(&self) -> bool {
        self.host() == host() && self.pid != std::process::id() && !process_runs(self.pid)
    }
}

/// Whether a process with `pid` runs on this host (signal 0 tests it without
/// touching it; a process of another user answers EPERM, which means it runs).
#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Elsewhere nothing is proved gone.
#[cfg(not(unix))]
fn process_runs(_pid: u32) -> bool {
    true
}

/// This process's command line, each argument quoted where a shell would need it.
pub fn command_line() -> String {
    std::env::args()
        .enumerate()
        .map(|(i, arg)| {
            if i == 0 {
                "bedform".to_string()
            } else {
                shell_word(&arg)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl std::fmt::Display for LockRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lock {} held by {} (pid {}, `{}`) since {} for stack `{}`",
            self.id, self.who, self.pid, self.command, self.since, self.stack
        )
    }
}

fn user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".into())
}

/// The name of the account this process runs as, from the password database
/// (CI containers often set no USER).
#[cfg(unix)]
fn account_name() -> Option<String> {
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buffer = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes only into `entry` and `buffer`, whose sizes are
    // given, and sets `found` to `&entry` or null.
    let code = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        )
    };
    if code != 0 || found.is_null() || entry.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name points into `buffer`, NUL-terminated by getpwuid_r.
    let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
    Some(name.to_string_lossy().into_owned()).filter(|n| !n.is_empty())
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

fn host() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| {
            ["HOSTNAME", "COMPUTERNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|h| !h.is_empty()))
        })
        .unwrap_or_else(|| "unknown-host".into())
}

/// What can go wrong with a lock; every variant names the lock object.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{object} is taken: {record}")]
    Held {
        object: String,
        record: Box<LockRecord>,
    },
    #[error(
        "{object} holds something that is not a bedform lock ({detail}); remove it by hand once no apply runs"
    )]
    Corrupt { object: String, detail: String },
    #[error("{object} was taken and given back while bedform looked at it; try again")]
    Contended { object: String },
    #[error("{object}: no lock is held")]
    NotHeld { object: String },
    #[error("{object} is {record}, not lock {wanted}; nothing was released")]
    OtherId {
        object: String,
        wanted: String,
        record: Box<LockRecord>,
    },
    #[error("lock file {object}: {source}")]
    Io {
        object: String,
        source: std::io::Error,
    },
    #[error("lock object {object}: {source}")]
    Cloud { object: String, source: CloudError },
}

/// Where a stack's lock lives.
#[derive(Clone, Debug)]
pub enum StackLock {
    /// A file; the sandbox's lock sits beside its file.
    File { path: PathBuf },
    /// An S3 object created with `If-None-Match: *`.
    S3 {
        client: aws_sdk_s3::Client,
        location: LockLocation,
    },
}

impl StackLock {
    /// The lock of the sandbox kept in `sandbox_file`.
    pub fn for_sandbox(sandbox_file: &Path) -> StackLock {
        let mut name = sandbox_file.as_os_str().to_owned();
        name.push(".lock");
        StackLock::File {
            path: PathBuf::from(name),
        }
    }

    /// What the lock is, for messages: a path or `s3://bucket/key`.
    pub fn object(&self) -> String {
        match self {
            StackLock::File { path } => path.display().to_string(),
            StackLock::S3 { location, .. } => format!("s3://{}/{}", location.bucket, location.key),
        }
    }

    /// Takes the lock for `record`, or fails at once naming who holds it.
    pub async fn acquire(&self, record: &LockRecord) -> Result<(), LockError> {
        let body = serde_json::to_vec_pretty(record).unwrap_or_default();
        // A lock released between a refused create and the read of its holder is
        // tried once more, never in a loop.
        for _ in 0..2 {
            if self.create(&body).await? {
                return Ok(());
            }
            if let Some((holder, _)) = self.read().await? {
                // Our own put, retried after its answer was lost.
                if holder.id == record.id {
                    return Ok(());
                }
                return Err(LockError::Held {
                    object: self.object(),
                    record: Box::new(holder),
                });
            }
        }
        Err(LockError::Contended {
            object: self.object(),
        })
    }

    /// Creates the lock object with `body` if it does not exist; false if it does.
    async fn create(&self, body: &[u8]) -> Result<bool, LockError> {
        let object = self.object();
        match self {
            StackLock::File { path } => {
                let io = |source| LockError::Io {
                    object: object.clone(),
                    source,
                };
                if let Some(dir) = path.parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                let created = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path);
                let mut file = match created {
                    Ok(file) => file,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
                    Err(e) => return Err(io(e)),
                };
                let written = file.write_all(body).and_then(|()| file.sync_all());
                if let Err(e) = written {
                    // A half-written lock would block every apply: take it back.
                    let _ = std::fs::remove_file(path);
                    return Err(io(e));
                }
                Ok(true)
            }
            StackLock::S3 { client, location } => {
                let put = client
                    .put_object()
                    .bucket(&location.bucket)
                    .key(&location.key)
                    .if_none_match("*")
                    .content_type("application/json")
                    .body(body.to_vec().into())
                    .send()
                    .await;
                match put {
                    Ok(_) => Ok(true),
                    // 412: the object exists; 409: another put of it is in flight.
                    Err(e)
                        if matches!(
                            e.code(),
                            Some("PreconditionFailed" | "ConditionalRequestConflict")
                        ) =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(LockError::Cloud {
                        source: classify("s3:PutObject", &object, e),
                        object,
                    }),
                }
            }
        }
    }

    /// The lock's record, and the S3 ETag of the object holding it.
    pub async fn read(&self) -> Result<Option<(LockRecord, Option<String>)>, LockError> {
        let object = self.object();
        let (bytes, etag) = match self {
            StackLock::File { path } => match std::fs::read(path) {
                Ok(bytes) => (bytes, None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(source) => return Err(LockError::Io { object, source }),
            },
            StackLock::S3 { client, location } => {
                let got = client
                    .get_object()
                    .bucket(&location.bucket)
                    .key(&location.key)
                    .send()
                    .await;
                let output = match got {
                    Ok(output) => output,
                    Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
                    Err(e) => {
                        return Err(LockError::Cloud {
                            source: classify("s3:GetObject", &object, e),
                            object,
                        });
                    }
                };
                let etag = output.e_tag().map(str::to_string);
                let bytes = output.body.collect().await.map_err(|e| LockError::Cloud {
                    source: CloudError::new(
                        ErrorClass::Transient,
                        format!("s3:GetObject on {object}"),
                        e.to_string(),
                    ),
                    object: object.clone(),
                })?;
                (bytes.into_bytes().to_vec(), etag)
            }
        };
        let record = serde_json::from_slice(&bytes).map_err(|e| LockError::Corrupt {
            object,
            detail: e.to_string(),
        })?;
        Ok(Some((record, etag)))
    }

    /// Releases the lock if it is lock `id`; returns what was released.
    pub async fn release(&self, id: &str) -> Result<LockRecord, LockError> {
        let object = self.object();
        let Some((record, etag)) = self.read().await? else {
            return Err(LockError::NotHeld { object });
        };
        if record.id != id {
            return Err(LockError::OtherId {
                object,
                wanted: id.to_string(),
                record: Box::new(record),
            });
        }
        match self {
            StackLock::File { path } => {
                std::fs::remove_file(path).map_err(|source| LockError::Io { object, source })?
            }
            StackLock::S3 { client, location } => {
                // Only the object just read: a lock taken since is someone else's.
                let deleted = client
                    .delete_object()
                    .bucket(&location.bucket)
                    .key(&location.key)
                    .set_if_match(etag)
                    .send()
                    .await;
                match deleted {
                    Ok(_) => {}
                    // Gone already: a delete retried after its answer was lost.
                    Err(e) if e.code() == Some("NoSuchKey") => {}
                    Err(e) => {
                        return Err(LockError::Cloud {
                            source: classify("s3:DeleteObject", &object, e),
                            object,
                        });
                    }
                }
            }
        }
        Ok(record)
    }
}

/// The lock an apply takes and gives back, round by round (see
/// [`crate::apply::apply_in_rounds`]). A session without a lock takes nothing.
/// Dropped while holding its lock (a panic), it removes a lock file itself and, for
/// S3, which needs a request, says how to release it.
pub struct Session {
    lock: Option<StackLock>,
    stack: String,
    command: String,
    /// How bedform was run, for the `unlock` command a warning suggests.
    invocation: Invocation,
    held: Option<LockRecord>,
}

impl Session {
    pub fn new(
        lock: Option<StackLock>,
        stack: &str,
        command: &str,
        invocation: Invocation,
    ) -> Session {
        Session {
            lock,
            stack: stack.to_string(),
            command: command.to_string(),
            invocation,
            held: None,
        }
    }

    /// A session that never locks (library use, tests of the executor).
    pub fn unlocked() -> Session {
        Session::new(None, "", "", Invocation::default())
    }

    /// The record of the lock held now.
    pub fn held(&self) -> Option<&LockRecord> {
        self.held.as_ref()
    }

    /// Takes the lock, under a new id; fails at once if another holds it.
    pub async fn acquire(&mut self) -> Result<(), LockError> {
        let Some(lock) = &self.lock else {
            return Ok(());
        };
        if self.held.is_some() {
            return Ok(());
        }
        let record = LockRecord::new(&self.stack, &self.command);
        lock.acquire(&record).await?;
        self.held = Some(record);
        Ok(())
    }

    /// Gives the lock back; returns what was released (nothing if none was held).
    /// If the request fails, the lock counts as still held, so a later call tries
    /// again.
    pub async fn release(&mut self) -> Result<Option<LockRecord>, LockError> {
        let (Some(lock), Some(record)) = (&self.lock, self.held.take()) else {
            return Ok(None);
        };
        match lock.release(&record.id).await {
            Ok(released) => Ok(Some(released)),
            Err(e) => {
                // Not when the lock is gone or someone else's: that is not ours to retry.
                if matches!(e, LockError::Io { .. } | LockError::Cloud { .. }) {
                    self.held = Some(record);
                }
                Err(e)
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let Some(record) = self.held.take() else {
            return;
        };
        match &self.lock {
            Some(StackLock::File { path }) => {
                let ours = std::fs::read(path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<LockRecord>(&b).ok())
                    .is_some_and(|r| r.id == record.id);
                if ours && std::fs::remove_file(path).is_ok() {
                    return;
                }
                crate::errln!(
                    "warning: lock {} in {} may not have been released; if no apply runs, release it with `{}`",
                    record.id,
                    path.display(),
                    self.invocation.unlock(&record.id)
                );
            }
            Some(lock) => crate::errln!(
                "warning: lock {} in {} was not released; if no apply runs, release it with `{}`",
                record.id,
                lock.object(),
                self.invocation.unlock(&record.id)
            ),
            None => {}
        }
    }
}
