//! Which projects the service may touch (`--allow-root`), and which it has touched:
//! the list is kept in the user's data dir, so `/metrics` and the status page read
//! the same stores after a restart.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A path named in a request that the service refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathRefused {
    #[error("{path} does not exist or cannot be read")]
    Missing { path: String },
    #[error("{path} is not a directory")]
    NotDirectory { path: String },
    #[error("{path} is not under an --allow-root ({roots})")]
    Outside { path: String, roots: String },
}

/// The directories projects must lie in, canonicalized once at start.
#[derive(Debug, Clone)]
pub struct AllowRoots(Vec<PathBuf>);

impl AllowRoots {
    pub fn new(roots: &[PathBuf]) -> std::io::Result<AllowRoots> {
        let mut out = Vec::new();
        for r in roots {
            let c = r.canonicalize().map_err(|e| {
                std::io::Error::new(e.kind(), format!("--allow-root {}: {e}", r.display()))
            })?;
            out.push(c);
        }
        Ok(AllowRoots(out))
    }

    /// The project directory `path` names, canonicalized (so a symlink that points out
    /// of every root is refused), if it lies under a root.
    pub fn check(&self, path: &str) -> Result<PathBuf, PathRefused> {
        let real = Path::new(path)
            .canonicalize()
            .map_err(|_| PathRefused::Missing { path: path.into() })?;
        if !real.is_dir() {
            return Err(PathRefused::NotDirectory { path: path.into() });
        }
        if self.0.iter().any(|root| real.starts_with(root)) {
            Ok(real)
        } else {
            let roots = if self.0.is_empty() {
                "none given".to_string()
            } else {
                self.0
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Err(PathRefused::Outside {
                path: path.into(),
                roots,
            })
        }
    }
}

/// The projects the service has monitored or healed, remembered across restarts.
pub struct KnownProjects {
    file: PathBuf,
    list: Mutex<Vec<PathBuf>>,
}

impl KnownProjects {
    /// Reads the list from `file` (a missing or unreadable file is an empty list).
    pub fn load(file: PathBuf) -> KnownProjects {
        let list = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| serde_json::from_str::<Vec<PathBuf>>(&t).ok())
            .unwrap_or_default();
        KnownProjects {
            file,
            list: Mutex::new(list),
        }
    }

    /// `serve-projects.json` in cars' data dir.
    pub fn default_file() -> PathBuf {
        cars::config::data_dir().join("serve-projects.json")
    }

    /// Remembers `root`; the list is rewritten only when it grows. Best effort: a
    /// list that cannot be written only costs the figures after a restart.
    pub fn add(&self, root: &Path) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        if list.iter().any(|p| p == root) {
            return;
        }
        list.push(root.to_path_buf());
        if let Some(dir) = self.file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(text) = serde_json::to_string_pretty(&*list) {
            let tmp = self.file.with_extension("json.tmp");
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, &self.file);
            }
        }
    }

    /// The remembered projects that still lie under `roots` (a root may have been
    /// dropped from the command line since).
    pub fn list(&self, roots: &AllowRoots) -> Vec<PathBuf> {
        let list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        list.iter()
            .filter(|p| roots.check(&p.display().to_string()).is_ok())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_out_of_the_root_is_refused_and_a_path_inside_is_canonical() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("app")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
        let roots = AllowRoots::new(&[root.path().to_path_buf()]).unwrap();
        let inside = format!("{}/app/../app", root.path().display());
        assert_eq!(
            roots.check(&inside).unwrap(),
            root.path().canonicalize().unwrap().join("app")
        );
        let escape = format!("{}/escape", root.path().display());
        assert!(matches!(
            roots.check(&escape),
            Err(PathRefused::Outside { .. })
        ));
        assert!(matches!(
            roots.check(&outside.path().display().to_string()),
            Err(PathRefused::Outside { .. })
        ));
        assert!(matches!(
            roots.check("/no/such/dir"),
            Err(PathRefused::Missing { .. })
        ));
    }
}
