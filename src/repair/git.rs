//! Commits exactly the changes a patch made, with git2: the commit tree is HEAD's
//! tree with the patch's edits re-applied to those files, so unrelated staged or
//! unstaged changes never ride along, not even in the same file. Refuses a detached HEAD, a conflicted index or a merge in progress.

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
    #[error("{0} has uncommitted edits where the patch changes it; commit it by hand")]
    Overlap(String),
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

/// One file of a commit: the patch's change is `from -> to` (`None`: no file).
pub struct FileCommit<'a> {
    pub path: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

/// Commits exactly the patch's changes on top of HEAD. The change is re-applied to
/// HEAD's version of each file, so other uncommitted edits in the same file stay
/// uncommitted (and the index is updated for these paths only). Returns the commit id.
pub fn commit_changes(
    root: &Path,
    files: &[FileCommit],
    message: &str,
) -> Result<String, GitError> {
    let repo = open(root)?;
    preflight(&repo)?;
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => None,
        Err(e) => return Err(e.into()),
    };
    let head_tree = parent.as_ref().map(|p| p.tree()).transpose()?;
    let mut index = git2::Index::new()?;
    if let Some(t) = &head_tree {
        index.read_tree(t)?;
    }
    let mut real_index = repo.index()?;
    for f in files {
        let in_head = match &head_tree {
            Some(t) => match t.get_path(Path::new(f.path)) {
                Ok(entry) => Some(
                    String::from_utf8(repo.find_blob(entry.id())?.content().to_vec())
                        .map_err(|_| GitError::Overlap(f.path.to_string()))?,
                ),
                Err(_) => None,
            },
            None => None,
        };
        let content = if in_head.as_deref() == f.from {
            f.to.map(str::to_string)
        } else {
            match (f.from, f.to, &in_head) {
                (Some(from), Some(to), Some(head)) => Some(
                    crate::fix::rebase(from, to, head)
                        .ok_or_else(|| GitError::Overlap(f.path.to_string()))?,
                ),
                _ => return Err(GitError::Overlap(f.path.to_string())),
            }
        };
        match content {
            Some(text) => {
                let full = root.join(f.path);
                let mut entry = entry_for(f.path, &full, text.len());
                entry.id = repo.blob(text.as_bytes())?;
                index.add(&entry)?;
                real_index.add(&entry)?;
            }
            None => {
                index.remove_path(Path::new(f.path))?;
                let _ = real_index.remove_path(Path::new(f.path));
            }
        }
    }
    let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("cars", "cars@localhost"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
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
