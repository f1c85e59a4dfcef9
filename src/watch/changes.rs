//! Watches a project's files and reports which changed, after a quiet period,
//! skipping what git ignores and build, cache and store directories; `jobs_for`
//! says which jobs a change concerns. Uses notify for events, ignore for .gitignore.

use super::jobs::Job;
use super::WatchError;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use notify::{EventKind, RecursiveMode, Watcher as _};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Directories never watched, wherever they are: VCS data (the cars store lives in
/// `.git/cars/`), build output, dependencies and tool caches. Jobs write into these
/// on every run, so watching them would re-run jobs forever.
const ALWAYS_IGNORED: &[&str] = &[
    ".git",
    ".cars",
    "target",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".tox",
    ".venv",
];

/// Editors' swap, backup and probe files, which change while nothing was saved.
fn is_editor_noise(name: &str) -> bool {
    name.ends_with(".swp")
        || name.ends_with(".swo")
        || name.ends_with(".swx")
        || name.ends_with('~')
        || name.starts_with(".#")
        || name == "4913"
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
}

/// Watches a project directory tree until dropped.
pub struct Watcher {
    messages: Sender<Message>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Message {
    Event(notify::Result<notify::Event>),
    Stop,
}

impl Watcher {
    /// Watches `root` recursively; sends the changed paths (relative to root,
    /// deduplicated, sorted) after `debounce` of quiet, ignoring paths ignored by
    /// .gitignore (root, nested, and those of parent directories up to the git work
    /// tree's top, plus `.git/info/exclude` and the global excludes file), `.git/`,
    /// `target/`, `node_modules/`, tool caches and editor swap files. A change to a
    /// `.gitignore` reloads them. Stops when dropped or when `changes` hangs up.
    pub fn new(
        root: &Path,
        debounce: Duration,
        changes: Sender<Vec<PathBuf>>,
    ) -> Result<Watcher, WatchError> {
        Watcher::with_ignored(root, debounce, &[], changes)
    }

    /// Like `new`, also ignoring everything under the `ignored` directories (such as
    /// a cars store given with `--store` that lies inside the project).
    pub fn with_ignored(
        root: &Path,
        debounce: Duration,
        ignored: &[PathBuf],
        changes: Sender<Vec<PathBuf>>,
    ) -> Result<Watcher, WatchError> {
        let root = root.canonicalize().map_err(|source| WatchError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let (messages, received) = mpsc::channel();
        let events = messages.clone();
        let notifier = notify::recommended_watcher(move |event| {
            let _ = events.send(Message::Event(event));
        })
        .map_err(|source| notify_error(&root, source))?;
        let mut tree = Tree {
            filter: Filter::new(&root, ignored),
            notifier,
            watched: HashSet::new(),
        };
        tree.watch_new_dirs(&root, None)?;
        let thread = std::thread::Builder::new()
            .name("cars-watch-files".into())
            .spawn(move || tree.run(received, debounce, changes))
            .map_err(|source| WatchError::Io {
                path: root.clone(),
                source,
            })?;
        Ok(Watcher {
            messages,
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.messages.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn notify_error(path: &Path, source: notify::Error) -> WatchError {
    let limit = match &source.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(e) => matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EMFILE)),
        _ => false,
    };
    let hint = if limit {
        " (the kernel's inotify limit is reached: raise fs.inotify.max_user_watches or \
         max_user_instances, or list large directories in .gitignore)"
            .to_string()
    } else {
        String::new()
    };
    WatchError::Notify {
        path: path.to_path_buf(),
        source,
        hint,
    }
}

/// Which jobs a change concerns: those whose `watch` globs match any path, or any
/// parent directory of one (so `src` works like `src/**`); a job without globs is
/// concerned by every change. `paths` are relative to the project root, as the
/// `Watcher` sends them. A job with an invalid glob (which `.cars.toml` validation
/// rejects) counts as watching everything.
pub fn jobs_for(jobs: &[Job], paths: &[PathBuf]) -> Vec<usize> {
    if paths.is_empty() {
        return Vec::new();
    }
    jobs.iter()
        .enumerate()
        .filter(|(_, job)| match job.watch_set() {
            Ok(Some(set)) => paths.iter().any(|path| {
                path.ancestors()
                    .any(|p| !p.as_os_str().is_empty() && set.is_match(p))
            }),
            Ok(None) | Err(_) => true,
        })
        .map(|(i, _)| i)
        .collect()
}

/// The watched directories and the rules for what to skip.
struct Tree {
    filter: Filter,
    notifier: notify::RecommendedWatcher,
    watched: HashSet<PathBuf>,
}

impl Tree {
    fn run(
        mut self,
        received: mpsc::Receiver<Message>,
        debounce: Duration,
        changes: Sender<Vec<PathBuf>>,
    ) {
        let mut pending: BTreeSet<PathBuf> = BTreeSet::new();
        // Moved only by changes that count, so ignored churn cannot delay a report.
        let mut deadline = Instant::now();
        loop {
            let message = if pending.is_empty() {
                received.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                received.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            };
            match message {
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    let paths: Vec<PathBuf> = std::mem::take(&mut pending).into_iter().collect();
                    if changes.send(paths).is_err() {
                        return;
                    }
                }
                // Errors here are per-path trouble (a directory vanished while being
                // watched, a queue overflow); the next change is still seen.
                Ok(Message::Event(Err(_))) => {}
                Ok(Message::Event(Ok(event))) => {
                    if self.collect(event, &mut pending) {
                        deadline = Instant::now() + debounce;
                    }
                }
            }
        }
    }

    /// Adds the event's paths that count to `pending`; true when there were some.
    fn collect(&mut self, event: notify::Event, pending: &mut BTreeSet<PathBuf>) -> bool {
        use notify::event::{AccessKind, AccessMode};
        match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
            EventKind::Access(_) => return false,
            _ => {}
        }
        let before = pending.len();
        if event
            .paths
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n == ".gitignore"))
        {
            self.filter = Filter::new(&self.filter.root, &self.filter.extra);
            let root = self.filter.root.clone();
            let _ = self.watch_new_dirs(&root, None);
        }
        let gone = matches!(
            event.kind,
            EventKind::Remove(_)
                | EventKind::Modify(notify::event::ModifyKind::Name(
                    notify::event::RenameMode::From
                ))
        );
        for path in event.paths {
            if gone {
                // The kernel dropped those watches; a directory made again gets new ones.
                self.watched.retain(|dir| !dir.starts_with(&path));
            }
            let Ok(rel) = path.strip_prefix(&self.filter.root) else {
                continue;
            };
            if rel.as_os_str().is_empty() {
                continue;
            }
            let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
            if self.filter.ignored(rel, is_dir) {
                continue;
            }
            if is_dir && !self.watched.contains(&path) {
                // Files may have landed in a new directory before it was watched.
                let mut files = Vec::new();
                let _ = self.watch_new_dirs(&path, Some(&mut files));
                pending.extend(
                    files
                        .iter()
                        .filter_map(|f| f.strip_prefix(&self.filter.root).ok())
                        .map(Path::to_path_buf),
                );
            }
            pending.insert(rel.to_path_buf());
        }
        pending.len() > before
    }

    /// Watches `dir` (not ignored) and every directory below it that is not
    /// ignored, each on its own, so ignored trees like `target/` cost no watches;
    /// lists the files found when `files` is given. Errors only for `dir` itself or
    /// when the kernel's watch limit is reached.
    fn watch_new_dirs(
        &mut self,
        dir: &Path,
        mut files: Option<&mut Vec<PathBuf>>,
    ) -> Result<(), WatchError> {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            self.filter.load_gitignore(&dir);
            if !self.watched.contains(&dir) {
                match self.notifier.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        self.watched.insert(dir.clone());
                    }
                    Err(e) => {
                        let error = notify_error(&dir, e);
                        let fatal =
                            matches!(&error, WatchError::Notify { hint, .. } if !hint.is_empty());
                        if fatal || stack.is_empty() && self.watched.is_empty() {
                            return Err(error);
                        }
                        continue;
                    }
                }
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = entry.path();
                let Ok(rel) = path.strip_prefix(&self.filter.root) else {
                    continue;
                };
                if self.filter.ignored(rel, kind.is_dir()) {
                    continue;
                }
                if kind.is_dir() {
                    stack.push(path);
                } else if let Some(files) = files.as_deref_mut() {
                    files.push(path);
                }
            }
        }
        Ok(())
    }
}

/// What is ignored: git's rules plus the built-in names and extra directories.
struct Filter {
    root: PathBuf,
    /// The git work tree's top (the root itself outside git): .gitignore files from
    /// here down apply.
    top: PathBuf,
    /// Each directory's own .gitignore, by absolute directory.
    gitignores: HashMap<PathBuf, Gitignore>,
    /// `.git/info/exclude`, then the user's global excludes file: below any
    /// .gitignore in precedence, as in git.
    excludes: Vec<Gitignore>,
    extra: Vec<PathBuf>,
}

impl Filter {
    fn new(root: &Path, extra: &[PathBuf]) -> Filter {
        let top = root
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .unwrap_or(root)
            .to_path_buf();
        let mut excludes = Vec::new();
        let mut exclude = GitignoreBuilder::new(&top);
        exclude.add(top.join(".git").join("info").join("exclude"));
        excludes.extend(exclude.build().ok());
        excludes.push(GitignoreBuilder::new(&top).build_global().0);
        let mut filter = Filter {
            root: root.to_path_buf(),
            top: top.clone(),
            gitignores: HashMap::new(),
            excludes,
            extra: extra
                .iter()
                .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
                .collect(),
        };
        for dir in root.ancestors().skip(1) {
            if !dir.starts_with(&top) {
                break;
            }
            filter.load_gitignore(dir);
        }
        filter
    }

    fn load_gitignore(&mut self, dir: &Path) {
        let file = dir.join(".gitignore");
        if self.gitignores.contains_key(dir) || !file.is_file() {
            return;
        }
        let mut builder = GitignoreBuilder::new(dir);
        // A bad line is skipped, as git does; the rest of the file still applies.
        builder.add(&file);
        if let Ok(gitignore) = builder.build() {
            self.gitignores.insert(dir.to_path_buf(), gitignore);
        }
    }

    /// Whether `rel` (relative to the root) is ignored, itself or through a parent.
    fn ignored(&self, rel: &Path, is_dir: bool) -> bool {
        let count = rel.components().count();
        let mut path = self.root.clone();
        for (i, component) in rel.components().enumerate() {
            let last = i + 1 == count;
            let name = component.as_os_str().to_string_lossy();
            if ALWAYS_IGNORED.contains(&name.as_ref()) || (last && is_editor_noise(&name)) {
                return true;
            }
            path.push(component);
            if self.git_ignored(&path, !last || is_dir) {
                return true;
            }
        }
        self.extra.iter().any(|dir| path.starts_with(dir))
    }

    /// Git's verdict on one path whose parents are not ignored: the nearest
    /// .gitignore with an opinion decides.
    fn git_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Some(parent) = path.parent() else {
            return false;
        };
        let nearest = parent
            .ancestors()
            .take_while(|dir| dir.starts_with(&self.top))
            .filter_map(|dir| self.gitignores.get(dir))
            .chain(&self.excludes)
            .map(|gitignore| gitignore.matched(path, is_dir))
            .find(|m| !m.is_none());
        matches!(nearest, Some(Match::Ignore(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, watch: &[&str]) -> Job {
        toml::from_str(&format!(
            "name = \"{name}\"\ncommand = \"true\"\nwatch = {watch:?}\n"
        ))
        .unwrap()
    }

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn jobs_for_matches_globs_and_parent_directories() {
        let jobs = [
            job("rust", &["**/*.rs", "Cargo.toml"]),
            job("web", &["src/**/*.ts", "*.json"]),
            job("all", &[]),
            job("docs", &["docs"]),
        ];
        assert_eq!(jobs_for(&jobs, &paths(&["src/main.rs"])), [0, 2]);
        assert_eq!(jobs_for(&jobs, &paths(&["main.rs"])), [0, 2]);
        assert_eq!(jobs_for(&jobs, &paths(&["src/app/x.ts"])), [1, 2]);
        assert_eq!(jobs_for(&jobs, &paths(&["package.json"])), [1, 2]);
        // `*` stops at `/`.
        assert_eq!(jobs_for(&jobs, &paths(&["sub/package.json"])), [2]);
        assert_eq!(jobs_for(&jobs, &paths(&["docs/guide/intro.md"])), [2, 3]);
        assert_eq!(
            jobs_for(&jobs, &paths(&["Cargo.toml", "src/a.ts"])),
            [0, 1, 2]
        );
        assert!(jobs_for(&jobs, &[]).is_empty());
    }

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn filter_follows_nested_gitignores_and_built_ins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        write(&root, ".gitignore", "build/\n*.log\n");
        write(&root, "web/.gitignore", "dist/\n!keep.log\n");
        write(&root, ".git/info/exclude", "local.txt\n");
        let mut filter = Filter::new(&root, &[root.join("store")]);
        filter.load_gitignore(&root);
        filter.load_gitignore(&root.join("web"));
        let ignored = |p: &str, is_dir: bool| filter.ignored(Path::new(p), is_dir);
        assert!(ignored("build", true));
        assert!(ignored("build/out.o", false));
        assert!(ignored("a.log", false));
        assert!(ignored("web/dist/app.js", false));
        assert!(!ignored("web/keep.log", false));
        assert!(!ignored("web/src/app.js", false));
        assert!(ignored("local.txt", false));
        assert!(ignored("target/debug/x", false));
        assert!(ignored("crates/a/target/debug/x", false));
        assert!(ignored("web/node_modules/x/index.js", false));
        assert!(ignored(".git/cars/store.db", false));
        assert!(ignored("store/session.db", false));
        assert!(ignored("src/.main.rs.swp", false));
        assert!(!ignored("src/main.rs", false));
    }
}
