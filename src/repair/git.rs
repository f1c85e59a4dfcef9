//! Commits exactly the changes a patch made, with git2: the commit tree is HEAD's
//! tree with the patch's edits re-applied to those files, so unrelated staged or
//! unstaged changes never ride along, not even in the same file. Runs the repository's
//! commit hooks as git does. Refuses a detached HEAD, a conflicted index or a merge in
//! progress.

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
    #[error("the {hook} hook failed, so nothing was committed (the patch stays applied; --no-verify skips hooks): {output}")]
    Hook { hook: String, output: String },
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
/// uncommitted; the index gets the same change on top of what is staged there, so
/// staged hunks of other work stay staged and nothing else is staged. With
/// `run_hooks`, the repository's pre-commit, prepare-commit-msg and commit-msg hooks
/// run as git runs them (`core.hooksPath` respected) and a failing hook means no
/// commit. Returns the commit id.
pub fn commit_changes(
    root: &Path,
    files: &[FileCommit],
    message: &str,
    run_hooks: bool,
) -> Result<String, GitError> {
    let repo = open(root)?;
    preflight(&repo)?;
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => None,
        Err(e) => return Err(e.into()),
    };
    let head_tree = parent.as_ref().map(|p| p.tree()).transpose()?;
    // The commit's index lives in a private file so the hooks can read it
    // (GIT_INDEX_FILE), as they read git's own when `git commit` runs them.
    let tmp_dir = tempfile::Builder::new()
        .prefix("cars-commit-")
        .tempdir_in(repo.path())
        .map_err(|e| GitError::Git(git2::Error::from_str(&e.to_string())))?;
    let index_path = tmp_dir.path().join("index");
    let mut index = git2::Index::open(&index_path)?;
    if let Some(t) = &head_tree {
        index.read_tree(t)?;
    }
    let mut real_index = repo.index()?;
    let blob_text = |id: git2::Oid, path: &str| -> Result<String, GitError> {
        String::from_utf8(repo.find_blob(id)?.content().to_vec())
            .map_err(|_| GitError::Overlap(path.to_string()))
    };
    // (path, what the index should hold for it)
    let mut staged_updates: Vec<(String, Option<String>)> = Vec::new();
    for f in files {
        let in_head = match &head_tree {
            Some(t) => match t.get_path(Path::new(f.path)) {
                Ok(entry) => Some(blob_text(entry.id(), f.path)?),
                Err(_) => None,
            },
            None => None,
        };
        let content = reapply(f, in_head.as_deref())?;
        match &content {
            Some(text) => {
                let full = root.join(f.path);
                let mut entry = entry_for(f.path, &full, text.len());
                entry.id = repo.blob(text.as_bytes())?;
                index.add(&entry)?;
            }
            None => {
                index.remove_path(Path::new(f.path))?;
            }
        }
        let staged = match real_index.get_path(Path::new(f.path), 0) {
            Some(e) => Some(blob_text(e.id, f.path)?),
            None => None,
        };
        let staged_after = if staged == in_head {
            content
        } else {
            reapply(f, staged.as_deref())?
        };
        staged_updates.push((f.path.to_string(), staged_after));
    }
    index.write()?;
    let tree = repo.find_tree(index.write_tree_to(&repo)?)?;
    let message = if run_hooks {
        let hooks = Hooks::of(&repo, root)?;
        hooks.run("pre-commit", &[], &index_path, root)?;
        hooks.message(message, &index_path, root)?
    } else {
        message.to_string()
    };
    let sig = repo
        .signature()
        .or_else(|_| Signature::now("cars", "cars@localhost"))?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, &message, &tree, &parents)?;
    for (path, text) in staged_updates {
        match text {
            Some(text) => {
                let mut entry = entry_for(&path, &root.join(&path), text.len());
                entry.id = repo.blob(text.as_bytes())?;
                real_index.add(&entry)?;
            }
            None => {
                let _ = real_index.remove_path(Path::new(&path));
            }
        }
    }
    real_index.write()?;
    if run_hooks {
        // As in git, post-commit cannot undo the commit; its exit status is ignored.
        if let Ok(hooks) = Hooks::of(&repo, root) {
            let _ = hooks.run("post-commit", &[], &index_path, root);
        }
    }
    Ok(oid.to_string())
}

/// The patch's change `from -> to` made on `base` (HEAD's or the index's version).
fn reapply(f: &FileCommit, base: Option<&str>) -> Result<Option<String>, GitError> {
    if base == f.from {
        return Ok(f.to.map(str::to_string));
    }
    if base.is_some() && base == f.to {
        return Ok(f.to.map(str::to_string));
    }
    match (f.from, f.to, base) {
        (Some(from), Some(to), Some(base)) => crate::fix::rebase(from, to, base)
            .map(Some)
            .ok_or_else(|| GitError::Overlap(f.path.to_string())),
        _ => Err(GitError::Overlap(f.path.to_string())),
    }
}

/// The repository's hooks directory: `core.hooksPath` (relative to the work tree),
/// else `.git/hooks`.
struct Hooks {
    dir: std::path::PathBuf,
}

impl Hooks {
    fn of(repo: &Repository, root: &Path) -> Result<Hooks, GitError> {
        let config = repo.config()?;
        let dir = match config.get_path("core.hooksPath") {
            Ok(p) if p.is_absolute() => p,
            Ok(p) => root.join(p),
            Err(_) => repo.path().join("hooks"),
        };
        Ok(Hooks { dir })
    }

    /// Runs hook `name` if it exists and is executable; a non-zero exit is an error
    /// carrying its output.
    fn run(&self, name: &str, args: &[&str], index: &Path, root: &Path) -> Result<(), GitError> {
        use super::run::{CommandRunner, ShellRunner};
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.join(name);
        let runnable = std::fs::metadata(&path)
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if !runnable {
            return Ok(());
        }
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let mut command = format!(
            "GIT_INDEX_FILE={} GIT_EDITOR=: exec {}",
            quote(&index.to_string_lossy()),
            quote(&path.to_string_lossy())
        );
        for a in args {
            command.push(' ');
            command.push_str(&quote(a));
        }
        let result = ShellRunner
            .run(&command, root, std::time::Duration::from_secs(600))
            .map_err(|e| GitError::Hook {
                hook: name.to_string(),
                output: e.to_string(),
            })?;
        if result.success {
            return Ok(());
        }
        let status = match (result.timed_out, result.code) {
            (true, _) => "timed out".to_string(),
            (_, Some(c)) => format!("exited with {c}"),
            _ => "was killed".to_string(),
        };
        let output: String = result.output.trim_end().to_string();
        Err(GitError::Hook {
            hook: name.to_string(),
            output: format!("{status}: {}", tail_lines(&output, 20)),
        })
    }

    /// The commit message after prepare-commit-msg and commit-msg had their say.
    fn message(&self, message: &str, index: &Path, root: &Path) -> Result<String, GitError> {
        let has = |n: &str| self.dir.join(n).is_file();
        if !has("prepare-commit-msg") && !has("commit-msg") {
            return Ok(message.to_string());
        }
        let file = tempfile::Builder::new()
            .prefix("CARS_COMMIT_EDITMSG")
            .tempfile_in(index.parent().unwrap_or(root))
            .map_err(|e| GitError::Git(git2::Error::from_str(&e.to_string())))?;
        std::fs::write(file.path(), message)
            .map_err(|e| GitError::Git(git2::Error::from_str(&e.to_string())))?;
        let msg_path = file.path().to_string_lossy().into_owned();
        self.run("prepare-commit-msg", &[&msg_path, "message"], index, root)?;
        self.run("commit-msg", &[&msg_path], index, root)?;
        std::fs::read_to_string(file.path())
            .map_err(|e| GitError::Git(git2::Error::from_str(&e.to_string())))
    }
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
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

/// The state of the working tree at `root`, as a hash: HEAD's tree and every change
/// to tracked files on top of it (staged or not). Two runs with the same state ran
/// the same code, which is what telling a flaky test needs. Untracked files are left
/// out: build and test runs leave caches (`__pycache__`) that would make every run a
/// new tree. Outside a git work tree: `no-git` (every run counts as the same tree).
pub fn tree_state(root: &Path) -> String {
    use sha2::{Digest, Sha256};
    let Ok(repo) = Repository::discover(root) else {
        return "no-git".into();
    };
    let mut h = Sha256::new();
    let head = repo.head().ok().and_then(|r| r.peel_to_tree().ok());
    h.update(
        head.as_ref()
            .map(|t| t.id().to_string())
            .unwrap_or_default(),
    );
    if let Ok(diff) = repo.diff_tree_to_workdir_with_index(head.as_ref(), None) {
        let _ = diff.print(git2::DiffFormat::Patch, |_, _, line| {
            h.update([line.origin() as u8]);
            h.update(line.content());
            true
        });
    }
    format!("{:x}", h.finalize())[..16].to_string()
}
