//! Which projects' own configuration the user trusts, like `direnv allow`: a record
//! in the user's data dir of each project root and the hash of its `.cars.toml`,
//! `.cars/patterns/*.toml` and `.cars/templates/*.toml`. A change to any of them
//! makes the project untrusted again until `cars trust` is run once more.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unreadable trust list ({message}); fix or delete it")]
    Corrupt { path: PathBuf, message: String },
}

/// A project's configuration files, as they are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFiles {
    /// Relative to the root, sorted.
    pub files: Vec<String>,
    /// SHA-256 over every file's name and bytes.
    pub hash: String,
}

impl ProjectFiles {
    /// Reads the configuration files of the project at `root`.
    pub fn read(root: &Path) -> Result<ProjectFiles, TrustError> {
        let mut files = Vec::new();
        if root.join(".cars.toml").exists() {
            files.push(".cars.toml".to_string());
        }
        for dir in [".cars/patterns", ".cars/templates"] {
            let full = root.join(dir);
            let entries = match std::fs::read_dir(&full) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(TrustError::Io { path: full, source }),
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".toml") {
                    files.push(format!("{dir}/{name}"));
                }
            }
        }
        files.sort();
        let mut h = Sha256::new();
        for f in &files {
            let path = root.join(f);
            let bytes = std::fs::read(&path).map_err(|source| TrustError::Io {
                path: path.clone(),
                source,
            })?;
            h.update((f.len() as u64).to_le_bytes());
            h.update(f.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        let hash = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Ok(ProjectFiles { files, hash })
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// One trusted project.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub root: PathBuf,
    pub hash: String,
    pub files: Vec<String>,
    /// Unix milliseconds.
    pub at: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TrustFile {
    version: u32,
    projects: Vec<Entry>,
}

/// Whether a project's configuration may widen what cars does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustState {
    /// The project has no configuration of its own.
    NoConfig,
    Trusted,
    /// Never trusted, or trusted with other contents (`changed`).
    Untrusted {
        changed: bool,
    },
}

impl TrustState {
    /// True when the project's configuration may be used in full.
    pub fn allows(self) -> bool {
        !matches!(self, TrustState::Untrusted { .. })
    }
}

/// The user's list of trusted projects.
#[derive(Debug)]
pub struct TrustStore {
    path: PathBuf,
    entries: Vec<Entry>,
}

/// `$CARS_DATA_DIR/trust.json`, else `cars/trust.json` in the user's data dir.
pub fn default_path() -> PathBuf {
    crate::config::data_dir().join("trust.json")
}

impl TrustStore {
    pub fn load() -> Result<TrustStore, TrustError> {
        Self::load_from(default_path())
    }

    pub fn load_from(path: PathBuf) -> Result<TrustStore, TrustError> {
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str::<TrustFile>(&text)
                    .map_err(|e| TrustError::Corrupt {
                        path: path.clone(),
                        message: e.to_string(),
                    })?
                    .projects
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(TrustError::Io { path, source }),
        };
        Ok(TrustStore { path, entries })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The trust state of the project at `root` with configuration `files`.
    pub fn state(&self, root: &Path, files: &ProjectFiles) -> TrustState {
        if files.is_empty() {
            return TrustState::NoConfig;
        }
        match self.entries.iter().find(|e| e.root == root) {
            Some(e) if e.hash == files.hash => TrustState::Trusted,
            Some(_) => TrustState::Untrusted { changed: true },
            None => TrustState::Untrusted { changed: false },
        }
    }

    /// Records `root` as trusted with its current configuration.
    pub fn trust(&mut self, root: &Path, files: &ProjectFiles) -> Result<(), TrustError> {
        self.entries.retain(|e| e.root != root);
        self.entries.push(Entry {
            root: root.to_path_buf(),
            hash: files.hash.clone(),
            files: files.files.clone(),
            at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        });
        self.save()
    }

    /// Forgets `root`; returns whether it was trusted.
    pub fn revoke(&mut self, root: &Path) -> Result<bool, TrustError> {
        let before = self.entries.len();
        self.entries.retain(|e| e.root != root);
        let removed = self.entries.len() != before;
        if removed {
            self.save()?;
        }
        Ok(removed)
    }

    fn save(&self) -> Result<(), TrustError> {
        let io = |source| TrustError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let file = TrustFile {
            version: 1,
            projects: self.entries.clone(),
        };
        let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other);
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        std::io::Write::write_all(&mut tmp, text.map_err(io)?.as_bytes()).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_config_is_untrusted_again() {
        let project = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let root = project.path();
        let mut store = TrustStore::load_from(data.path().join("trust.json")).unwrap();
        assert_eq!(
            store.state(root, &ProjectFiles::read(root).unwrap()),
            TrustState::NoConfig
        );
        std::fs::write(root.join(".cars.toml"), "[gates]\nauto = 0.95\n").unwrap();
        let files = ProjectFiles::read(root).unwrap();
        assert_eq!(
            store.state(root, &files),
            TrustState::Untrusted { changed: false }
        );
        store.trust(root, &files).unwrap();
        let reloaded = TrustStore::load_from(data.path().join("trust.json")).unwrap();
        assert_eq!(reloaded.state(root, &files), TrustState::Trusted);
        std::fs::create_dir_all(root.join(".cars/templates")).unwrap();
        std::fs::write(root.join(".cars/templates/x.toml"), "").unwrap();
        let now = ProjectFiles::read(root).unwrap();
        assert_eq!(
            reloaded.state(root, &now),
            TrustState::Untrusted { changed: true }
        );
        let mut reloaded = reloaded;
        assert!(reloaded.revoke(root).unwrap());
        assert!(!reloaded.revoke(root).unwrap());
    }
}
