//! Reading the files a run was given, and only those.
//!
//! Manifests come from pull requests, forks included: whoever wrote them controls
//! every name in the folder, symbolic links and special files too. So bedform reads
//! only regular files that resolve inside the paths on its command line, refuses a
//! link that leads out without saying where it leads, reports a link loop once,
//! never opens a FIFO, socket or device, and stops reading at a size cap whatever
//! size the file claims.

use std::collections::BTreeSet;
use std::fs::Metadata;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Why a file was not read. Messages name the path as the user sees it and never
/// anything a link points at.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{shown}: no such file or folder{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    Missing {
        shown: String,
        /// A sibling with a close name, for a path given on the command line.
        suggestion: Option<String>,
    },
    #[error("{shown}: a symbolic link that leads outside the paths bedform was given; not read")]
    LinkOutside { shown: String },
    #[error("{shown}: a path that leads outside the paths bedform was given; not read")]
    PathOutside { shown: String },
    #[error("{shown}: a broken symbolic link; not read")]
    BrokenLink { shown: String },
    #[error("symlink loop at {shown}")]
    Loop { shown: String },
    #[error("{shown}: {what}, not a regular file; not read")]
    NotRegular { shown: String, what: &'static str },
    #[error("{shown}: larger than {} MiB; not read", limit / (1024 * 1024))]
    TooLarge { shown: String, limit: u64 },
    #[error("{shown}: {source}")]
    Io {
        shown: String,
        #[source]
        source: std::io::Error,
    },
}

/// The folders a run may read from: each given folder, and for a given file the
/// folder that holds it. Held as resolved (canonical) paths.
#[derive(Clone, Debug, Default)]
pub struct Confinement {
    roots: Vec<PathBuf>,
}

/// A manifest file found under the given paths.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// The path as the user would write it (`bedrock/stack.yaml`), for messages.
    pub shown: String,
    /// Where it really is, links resolved.
    pub real: PathBuf,
}

impl Confinement {
    /// Confinement to exactly these resolved folders.
    pub fn to_folders(roots: Vec<PathBuf>) -> Self {
        Confinement { roots }
    }

    /// Whether `real` (a resolved path) lies inside one of the folders.
    pub fn holds(&self, real: &Path) -> bool {
        self.roots.iter().any(|root| real.starts_with(root))
    }

    /// Finds every `.yaml` / `.yml` file under `paths` (folders recursively, in
    /// name order, hidden entries skipped). Returns the files, the confinement
    /// they set, and the problems met on the way.
    pub fn discover(paths: &[PathBuf]) -> (Confinement, Vec<Found>, Vec<FileError>) {
        let mut confinement = Confinement::default();
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for path in paths {
            let shown = shown(path);
            match given_root(path, &shown) {
                Ok(Given::Folder(real)) => {
                    confinement.roots.push(real.clone());
                    let mut walk = Walk {
                        confinement: &confinement,
                        found: &mut found,
                        problems: &mut problems,
                        seen: BTreeSet::new(),
                    };
                    walk.folder(&real, &shown, &mut Vec::new());
                }
                Ok(Given::File { real, folder }) => {
                    confinement.roots.push(folder);
                    found.push(Found { shown, real });
                }
                Err(problem) => problems.push(problem),
            }
        }
        // One file under two names (a link beside it) is read once, under the
        // name that sorts first.
        found.sort();
        let mut seen = BTreeSet::new();
        found.retain(|f| seen.insert(f.real.clone()));
        (confinement, found, problems)
    }

    /// Reads `relative` (a path a manifest names) against the folder of the
    /// manifest that names it, which must itself be inside the confinement. An
    /// absolute path, a `..` that climbs out, or a link that leads out is refused.
    pub fn read_named(
        &self,
        manifest_dir: &Path,
        relative: &str,
        limit: u64,
    ) -> Result<Vec<u8>, FileError> {
        let shown = relative.to_string();
        let candidate = Path::new(relative);
        if candidate.is_absolute()
            || candidate
                .components()
                .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
        {
            return Err(FileError::PathOutside { shown });
        }
        let joined = manifest_dir.join(candidate);
        let link = std::fs::symlink_metadata(&joined)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        let real = resolve(&joined, &shown)?;
        if !self.holds(&real) {
            return Err(if link {
                FileError::LinkOutside { shown }
            } else {
                FileError::PathOutside { shown }
            });
        }
        read_regular(&real, &shown, limit)
    }
}

enum Given {
    Folder(PathBuf),
    File { real: PathBuf, folder: PathBuf },
}

/// What a path on the command line resolves to. A given path that is itself a
/// link must resolve inside the folder that holds the link: a pull request may
/// add `bedrock -> /home/runner` as easily as a link inside `bedrock/`.
fn given_root(path: &Path, shown: &str) -> Result<Given, FileError> {
    let meta = std::fs::symlink_metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => FileError::Missing {
            shown: shown.to_string(),
            suggestion: sibling_like(path),
        },
        _ => FileError::Io {
            shown: shown.to_string(),
            source,
        },
    })?;
    let real = resolve(path, shown)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent_real = resolve(parent, shown)?;
    if meta.file_type().is_symlink() && !real.starts_with(&parent_real) {
        return Err(FileError::LinkOutside {
            shown: shown.to_string(),
        });
    }
    let target = std::fs::metadata(&real).map_err(|source| FileError::Io {
        shown: shown.to_string(),
        source,
    })?;
    if target.is_dir() {
        Ok(Given::Folder(real))
    } else if target.is_file() {
        let folder = real.parent().map(Path::to_path_buf).unwrap_or(parent_real);
        Ok(Given::File { real, folder })
    } else {
        Err(FileError::NotRegular {
            shown: shown.to_string(),
            what: special_kind(&target),
        })
    }
}

struct Walk<'a> {
    confinement: &'a Confinement,
    found: &'a mut Vec<Found>,
    problems: &'a mut Vec<FileError>,
    /// Folders already walked (resolved), so two links to one folder read it once.
    seen: BTreeSet<PathBuf>,
}

impl Walk<'_> {
    /// `stack` holds the resolved folders from the root down to this one: a link
    /// to any of them is a loop.
    fn folder(&mut self, real: &Path, shown: &str, stack: &mut Vec<PathBuf>) {
        if !self.seen.insert(real.to_path_buf()) {
            return;
        }
        let entries = match std::fs::read_dir(real) {
            Ok(entries) => entries,
            Err(source) => {
                self.problems.push(FileError::Io {
                    shown: shown.to_string(),
                    source,
                });
                return;
            }
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        stack.push(real.to_path_buf());
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let entry_shown = join_shown(shown, &name);
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let is_manifest_name = has_manifest_extension(&name);
            if file_type.is_symlink() {
                self.link(&entry.path(), &entry_shown, is_manifest_name, stack);
            } else if file_type.is_dir() {
                self.folder(&entry.path(), &entry_shown, stack);
            } else if is_manifest_name {
                match entry.metadata() {
                    Ok(meta) if meta.is_file() => self.found.push(Found {
                        shown: entry_shown,
                        real: entry.path(),
                    }),
                    Ok(meta) => self.problems.push(FileError::NotRegular {
                        shown: entry_shown,
                        what: special_kind(&meta),
                    }),
                    Err(source) => self.problems.push(FileError::Io {
                        shown: entry_shown,
                        source,
                    }),
                }
            }
        }
        stack.pop();
    }

    fn link(&mut self, path: &Path, shown: &str, is_manifest_name: bool, stack: &mut Vec<PathBuf>) {
        let real = match resolve(path, shown) {
            Ok(real) => real,
            // A broken link that is not named as a manifest is none of bedform's
            // business; a loop always is: it would otherwise be walked forever.
            Err(FileError::BrokenLink { .. }) if !is_manifest_name => return,
            Err(problem) => {
                self.problems.push(problem);
                return;
            }
        };
        let Ok(meta) = std::fs::metadata(&real) else {
            return;
        };
        if meta.is_dir() {
            if stack.iter().any(|ancestor| ancestor == &real) {
                self.problems.push(FileError::Loop {
                    shown: shown.to_string(),
                });
            } else if !self.confinement.holds(&real) {
                self.problems.push(FileError::LinkOutside {
                    shown: shown.to_string(),
                });
            } else {
                self.folder(&real, shown, stack);
            }
        } else if is_manifest_name {
            if !self.confinement.holds(&real) {
                self.problems.push(FileError::LinkOutside {
                    shown: shown.to_string(),
                });
            } else if meta.is_file() {
                self.found.push(Found {
                    shown: shown.to_string(),
                    real,
                });
            } else {
                self.problems.push(FileError::NotRegular {
                    shown: shown.to_string(),
                    what: special_kind(&meta),
                });
            }
        }
    }
}

/// Reads a file known to resolve inside the confinement: refused unless it is a
/// regular file (checked on the open handle, so a swap after the check is caught),
/// and cut off at `limit` bytes while reading, whatever size the file reports.
pub fn read_regular(real: &Path, shown: &str, limit: u64) -> Result<Vec<u8>, FileError> {
    let io = |source| FileError::Io {
        shown: shown.to_string(),
        source,
    };
    let before = std::fs::metadata(real).map_err(io)?;
    if !before.is_file() {
        return Err(FileError::NotRegular {
            shown: shown.to_string(),
            what: special_kind(&before),
        });
    }
    let file = open_no_block(real).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            shown: shown.to_string(),
            what: special_kind(&meta),
        });
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            shown: shown.to_string(),
            limit,
        });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` readable by its owner only (mode 0600 on Unix), for
/// files that may hold secrets (saved plans, the sandbox account). The file is
/// created with that mode beside the target and renamed over it, so it is never
/// readable by others, not even for a moment, and a crash leaves the old file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    // Left by a run of the same process id that crashed between create and rename.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(err) => {
            let _ = std::fs::remove_file(&tmp);
            Err(err)
        }
    }
}

/// Opens for reading without blocking on a FIFO and without following a link in
/// the last component (the path given is already resolved).
fn open_no_block(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// The path with every link resolved; a loop and a dangling link are told apart.
fn resolve(path: &Path, shown: &str) -> Result<PathBuf, FileError> {
    std::fs::canonicalize(path).map_err(|source| {
        if is_loop(&source) {
            FileError::Loop {
                shown: shown.to_string(),
            }
        } else if source.kind() == std::io::ErrorKind::NotFound {
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if link {
                FileError::BrokenLink {
                    shown: shown.to_string(),
                }
            } else {
                FileError::Missing {
                    shown: shown.to_string(),
                    suggestion: None,
                }
            }
        } else {
            FileError::Io {
                shown: shown.to_string(),
                source,
            }
        }
    })
}

fn is_loop(err: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        err.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}

fn special_kind(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// The entry beside a missing `path` whose name is closest to it, as the user
/// would write the path (a misspelled folder or file on the command line).
fn sibling_like(path: &Path) -> Option<String> {
    let wanted = path.file_name()?.to_string_lossy().into_owned();
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let names: Vec<String> = std::fs::read_dir(folder)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    let best = crate::diag::did_you_mean(&wanted, names.iter().map(String::as_str))?;
    Some(shown(&path.with_file_name(best)))
}

pub fn has_manifest_extension(name: &str) -> bool {
    matches!(
        Path::new(name).extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// A path as the user wrote it, without a leading `./`.
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

fn join_shown(folder: &str, name: &str) -> String {
    if folder.is_empty() || folder == "." {
        name.to_string()
    } else {
        format!("{}/{name}", folder.trim_end_matches('/'))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn messages(problems: &[FileError]) -> Vec<String> {
        problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn links_out_of_the_folder_are_refused_without_naming_their_target() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "TOKEN=hunter2").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("bedrock");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("stack.yaml"), "a: 1\n").unwrap();
        symlink(outside.path().join("secret.txt"), root.join("leak.yaml")).unwrap();
        symlink(outside.path(), root.join("elsewhere")).unwrap();
        let (_, found, problems) = Confinement::discover(std::slice::from_ref(&root));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].shown.ends_with("bedrock/stack.yaml"));
        let text = messages(&problems).join("\n");
        assert!(
            text.contains("leak.yaml: a symbolic link that leads outside"),
            "{text}"
        );
        assert!(
            text.contains("elsewhere: a symbolic link that leads outside"),
            "{text}"
        );
        assert!(
            !text.contains(&outside.path().display().to_string()),
            "{text}"
        );
    }

    #[test]
    fn a_misspelled_path_is_one_error_with_the_closest_sibling() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bedrock")).unwrap();
        let (_, found, problems) = Confinement::discover(&[dir.path().join("bedrok")]);
        assert!(found.is_empty());
        assert_eq!(
            messages(&problems),
            [format!(
                "{}: no such file or folder; did you mean `{}`?",
                shown(&dir.path().join("bedrok")),
                shown(&dir.path().join("bedrock"))
            )]
        );
        let (_, _, problems) = Confinement::discover(&[dir.path().join("zzzz")]);
        assert!(messages(&problems)[0].ends_with("no such file or folder"));
    }

    #[test]
    fn a_link_inside_the_folder_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::fs::write(dir.path().join("real/a.yaml"), "a: 1\n").unwrap();
        symlink("real/a.yaml", dir.path().join("b.yaml")).unwrap();
        let (_, found, problems) = Confinement::discover(&[dir.path().to_path_buf()]);
        assert!(problems.is_empty(), "{:?}", messages(&problems));
        // One file, found once although two names lead to it.
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn a_file_under_two_names_is_found_once_however_they_sort() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/stack.yaml"), "a: 1\n").unwrap();
        std::fs::write(dir.path().join("b.yaml"), "b: 1\n").unwrap();
        // `a.yaml` and `m/stack.yaml` are one file; `b.yaml` sorts between them.
        symlink("m/stack.yaml", dir.path().join("a.yaml")).unwrap();
        let (_, found, problems) = Confinement::discover(&[dir.path().to_path_buf()]);
        assert!(problems.is_empty(), "{:?}", messages(&problems));
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn loops_are_reported_once_per_link() {
        let dir = tempfile::tempdir().unwrap();
        symlink(".", dir.path().join("self-a")).unwrap();
        symlink("..", dir.path().join("sub-parent")).unwrap();
        std::fs::write(dir.path().join("stack.yaml"), "a: 1\n").unwrap();
        symlink("loop-2.yaml", dir.path().join("loop-1.yaml")).unwrap();
        symlink("loop-1.yaml", dir.path().join("loop-2.yaml")).unwrap();
        let (_, found, problems) = Confinement::discover(&[dir.path().to_path_buf()]);
        assert_eq!(found.len(), 1);
        let text = messages(&problems);
        assert!(
            text.iter()
                .any(|m| m.starts_with("symlink loop at") && m.ends_with("self-a")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|m| m.starts_with("symlink loop at") && m.ends_with("loop-1.yaml")),
            "{text:?}"
        );
        // `..` leads outside the given folder: refused, not walked.
        assert!(
            text.iter()
                .any(|m| m.contains("sub-parent: a symbolic link that leads outside")),
            "{text:?}"
        );
        assert_eq!(text.len(), 4, "{text:?}");
    }

    #[test]
    fn special_files_are_refused_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (_, found, problems) = Confinement::discover(&[dir.path().to_path_buf()]);
        assert!(found.is_empty());
        assert_eq!(
            messages(&problems),
            vec![format!(
                "{}: a FIFO, not a regular file; not read",
                shown(&fifo)
            )]
        );
    }

    #[test]
    fn private_files_are_created_owner_only_even_over_an_open_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn the_size_cap_holds_while_reading() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.yaml");
        std::fs::write(&file, vec![b'a'; 2048]).unwrap();
        let err = read_regular(&file, "big.yaml", 1024).unwrap_err();
        assert!(matches!(err, FileError::TooLarge { .. }), "{err}");
        assert_eq!(read_regular(&file, "big.yaml", 4096).unwrap().len(), 2048);
        // A device reports size 0 and would never end: refused before reading.
        let err = read_regular(Path::new("/dev/zero"), "zero.yaml", 1024).unwrap_err();
        assert!(
            matches!(
                err,
                FileError::NotRegular {
                    what: "a device",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn named_files_stay_inside_the_given_paths() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("creds.json"), "{}").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("stack");
        std::fs::create_dir_all(root.join("forms")).unwrap();
        std::fs::write(root.join("forms/form.json"), "{\"a\":1}").unwrap();
        symlink(
            outside.path().join("creds.json"),
            root.join("forms/link.json"),
        )
        .unwrap();
        let (confinement, _, _) = Confinement::discover(std::slice::from_ref(&root));
        let real_root = std::fs::canonicalize(&root).unwrap();
        assert_eq!(
            confinement
                .read_named(&real_root, "forms/form.json", 1024)
                .unwrap(),
            b"{\"a\":1}"
        );
        let outside_path = outside.path().join("creds.json").display().to_string();
        for (named, expected) in [
            ("forms/link.json", "a symbolic link that leads outside"),
            ("../../creds.json", "no such file"),
            (outside_path.as_str(), "a path that leads outside"),
        ] {
            let err = confinement
                .read_named(&real_root, named, 1024)
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{named}: {err}");
            assert!(
                !err.contains(&outside.path().display().to_string()) || named == outside_path,
                "{err}"
            );
        }
        std::fs::write(dir.path().join("beside.json"), "{}").unwrap();
        let err = confinement
            .read_named(&real_root, "../beside.json", 1024)
            .unwrap_err();
        assert!(matches!(err, FileError::PathOutside { .. }), "{err}");
    }
}
