//! Commits exactly the files a patch touched, with git2 and nothing else: the commit
//! tree is HEAD's tree plus those files, so unrelated staged or unstaged changes never
//! ride along. Refuses a detached HEAD, a conflicted index or a merge in progress.

use git2::{IndexEntry, IndexTime, Repository, RepositoryState, Signature};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{0} is not inside a git work tree; `--commit` needs one")]
    NotARepo(String),
    #[error("HEAD is detached; check out a branch before committing a fix")]
    Detached,
    #[error("the repository is in the middle of a {0:?}; finish or abort it first")]
    Busy(RepositoryState),
    #[error("the index has conflicts; resolve them first")]
    Conflicted,
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// Checks that a commit can be made in the repository at `root`.
pub fn check_committable(root: &Path) -> Result<(), GitError> {
    let repo = open(root)?;
    preflight(&repo)
}

fn open(root: &Path) -> Result<Repository, GitError> {
    Repository::open(root).map_err(|_| GitError::NotARepo(root.display().to_string()))
}

fn preflight(repo: &Repository) -> Result<(), GitError> {
    if repo.head_detached()? {
        return Err(GitError::Detached);
    }
    if repo.state() != RepositoryState::Clean {
        return Err(GitError::Busy(repo.state()));
    }
    if repo.index()?.has_conflicts() {
        return Err(GitError::Conflicted);
    }
    Ok(())
}

/// Commits the current work-tree content of `files` (relative paths; a missing file
/// is committed as deleted) on top of HEAD. Returns the new commit id.
pub fn commit_files(root: &Path, files: &[String], message: &str) -> Result<String, GitError> {
    let repo = open(root)?;
    preflight(&repo)?;
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => None,
        Err(e) => return Err(e.into()),
    };
    let mut index = git2::Index::new()?;
    if let Some(p) = &parent {
        index.read_tree(&p.tree()?)?;
    }
    let mut real_index = repo.index()?;
    for rel in files {
        let full = root.join(rel);
        match std::fs::read(&full) {
            Ok(bytes) => {
                let mut entry = entry_for(rel, &full, bytes.len());
                entry.id = repo.blob(&bytes)?;
                index.add(&entry)?;
                real_index.add_path(Path::new(rel))?;
            }
            Err(_) => {
                index.remove_path(Path::new(rel))?;
                let _ = real_index.remove_path(Path::new(rel));
            }
        }
    }
    let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("cars", "cars@localhost"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    // Keep the real index in step for these paths only, so they do not show as
    // modified; whatever else was staged stays staged.
    real_index.write()?;
    Ok(oid.to_string())
}

fn entry_for(rel: &str, full: &Path, size: usize) -> IndexEntry {
    use std::os::unix::fs::PermissionsExt;
    let exec = std::fs::metadata(full)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: if exec { 0o100755 } else { 0o100644 },
        uid: 0,
        gid: 0,
        file_size: size as u32,
        id: git2::Oid::zero(),
        flags: 0,
        flags_extended: 0,
        path: rel.as_bytes().to_vec(),
    }
}
