//! The trust boundary. Logs come from pull requests and a repository's config from its
//! authors, so neither may choose what cars reads or writes. This module owns the one
//! decision about project paths (`PathPolicy`), where an edit came from
//! (`Provenance`), and whether a project's own configuration is trusted (`trust`).
//! It sits at the bottom: it depends on nothing else in the engine.

pub mod trust;

use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// Where the text of a patch comes from. Shown with every patch; the gates and the
/// path policy treat each kind differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Provenance {
    /// A fix the tool printed in the log (rustc `help:` rows, cargo JSON
    /// `suggested_replacement`). The log is untrusted: the edit is only made after
    /// `verify_log_edit` and only in the tool's own kind of file.
    Log { tool: String },
    /// A template shipped with cars.
    Builtin { template: String },
    /// A template from the user's config dir.
    User { template: String },
    /// A template from the project's `.cars/templates/` (loaded only when trusted).
    Project { template: String },
    /// The tool's own fixer (`ruff check --fix`, `cargo clippy --fix`), run by cars
    /// on a scratch copy of the project. Its diff is the tool's, not the log's; it
    /// never touches build scripts or CI definitions.
    Fixer { tool: String },
}

/// Which layer a rule or template file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    Builtin,
    /// The user's config dir.
    User,
    /// The project's `.cars/` (the repository authors').
    Project,
}

impl Default for Provenance {
    /// Records written before provenance existed are treated as the least trusted.
    fn default() -> Self {
        Provenance::Log {
            tool: String::new(),
        }
    }
}

impl Provenance {
    pub fn template(source: ConfigSource, id: &str) -> Provenance {
        let template = id.to_string();
        match source {
            ConfigSource::Builtin => Provenance::Builtin { template },
            ConfigSource::User => Provenance::User { template },
            ConfigSource::Project => Provenance::Project { template },
        }
    }

    pub fn from_log(&self) -> bool {
        matches!(self, Provenance::Log { .. })
    }

    /// One line for tables and reports: `log (rustc)`, `template python.did-you-mean`.
    pub fn describe(&self) -> String {
        match self {
            Provenance::Log { tool } if tool.is_empty() => "log".into(),
            Provenance::Log { tool } => format!("log ({tool})"),
            Provenance::Builtin { template } => format!("built-in template {template}"),
            Provenance::User { template } => format!("user template {template}"),
            Provenance::Project { template } => format!("project template {template}"),
            Provenance::Fixer { tool } => format!("fixer ({tool})"),
        }
    }
}

/// Why a path may not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct Refused {
    pub path: String,
    pub reason: String,
}

fn refuse(path: &str, reason: impl Into<String>) -> Refused {
    Refused {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// What a caller wants to do with a path.
#[derive(Debug, Clone, Copy)]
pub enum Access<'a> {
    Read,
    /// Write text that came from `Provenance`.
    Write(&'a Provenance),
    /// Put back bytes cars saved itself (rollback, recovery).
    Restore,
}

/// Decides, for one project, whether a project-relative path may be read or written.
/// Every reader and writer of project files goes through `check`.
#[derive(Debug, Clone)]
pub struct PathPolicy {
    root: PathBuf,
    store: Option<PathBuf>,
}

impl PathPolicy {
    /// `root` and `store` are canonicalized here; a root that does not exist is an error.
    pub fn new(root: &Path, store: Option<&Path>) -> std::io::Result<PathPolicy> {
        Ok(PathPolicy {
            root: root.canonicalize()?,
            store: store.and_then(|s| s.canonicalize().ok()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The cars store, when it lies where the policy must keep writes out of it.
    pub fn store(&self) -> Option<&Path> {
        self.store.as_deref()
    }

    /// The full path of `rel` when `access` is allowed. The rules: `rel` is relative
    /// and plain (no `..`); no component is a symlink that leaves the root, and the
    /// file itself is not a symlink when written (a rename would replace the link);
    /// the file, when it exists, is a regular file; nothing under `.git/` or the
    /// store; text from a log only into the tool's own kind of source file, and never
    /// into build scripts or CI definitions.
    pub fn check(&self, rel: &str, access: Access) -> Result<PathBuf, Refused> {
        let parts = plain_components(rel).ok_or_else(|| {
            refuse(
                rel,
                "not a plain path inside the project (absolute, empty or with `..`)",
            )
        })?;
        if parts.iter().any(|p| p == ".git") {
            return Err(refuse(rel, "cars never touches files under .git/"));
        }
        let mut real = self.root.clone();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let next = real.join(part);
            match std::fs::symlink_metadata(&next) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    let target = next
                        .canonicalize()
                        .map_err(|_| refuse(rel, "a symlink that points nowhere"))?;
                    if !target.starts_with(&self.root) {
                        return Err(refuse(rel, "a symlink that leaves the project"));
                    }
                    if last && !matches!(access, Access::Read) {
                        return Err(refuse(rel, "a symlink; cars does not replace links"));
                    }
                    real = target;
                }
                Ok(meta) => {
                    if last && !meta.is_file() {
                        return Err(refuse(rel, "not a regular file"));
                    }
                    if !last && !meta.is_dir() {
                        return Err(refuse(rel, "a parent is not a directory"));
                    }
                    real = next;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if matches!(access, Access::Read) {
                        return Err(refuse(rel, "no such file"));
                    }
                    // The rest does not exist yet: it is created inside `real`.
                    for p in &parts[i..] {
                        real.push(p);
                    }
                    break;
                }
                Err(e) => return Err(refuse(rel, e.to_string())),
            }
        }
        if !real.starts_with(&self.root) {
            return Err(refuse(rel, "outside the project"));
        }
        if real
            .strip_prefix(&self.root)
            .is_ok_and(|r| r.components().any(|c| c.as_os_str() == ".git"))
        {
            return Err(refuse(rel, "cars never touches files under .git/"));
        }
        if let Some(store) = &self.store {
            if real.starts_with(store) {
                return Err(refuse(rel, "inside the cars store"));
            }
        }
        if matches!(access, Access::Write(Provenance::Fixer { .. })) && is_protected(rel) {
            return Err(refuse(
                rel,
                "a build script or CI definition; cars never takes a fixer's change to those",
            ));
        }
        if let Access::Write(Provenance::Log { tool }) = access {
            if is_protected(rel) {
                return Err(refuse(
                    rel,
                    "a build script or CI definition; cars never writes those from log text",
                ));
            }
            if !tool_edits(tool, rel) {
                return Err(refuse(
                    rel,
                    format!(
                        "not a source file {} edits; a log suggestion may only change those",
                        if tool.is_empty() { "the tool" } else { tool }
                    ),
                ));
            }
        }
        Ok(real)
    }

    /// Reads a project file as text, through `check`.
    pub fn read_text(&self, rel: &str) -> Result<String, Refused> {
        let path = self.check(rel, Access::Read)?;
        let bytes = std::fs::read(&path).map_err(|e| refuse(rel, e.to_string()))?;
        String::from_utf8(bytes).map_err(|_| refuse(rel, "not a UTF-8 text file"))
    }

    /// True when `rel` names a regular file cars may read.
    pub fn is_readable_file(&self, rel: &str) -> bool {
        self.check(rel, Access::Read).is_ok()
    }
}

/// The components of a relative, `/`-separated path, or `None` when it is absolute,
/// empty or climbs with `..`.
fn plain_components(rel: &str) -> Option<Vec<String>> {
    if rel.is_empty() || rel.contains('\0') || rel.contains('\\') {
        return None;
    }
    let path = Path::new(rel);
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Build scripts, CI definitions, hooks and cars' own config: files whose content
/// runs as code in a build or changes what cars does. Never written from log text;
/// templates may change them only on explicit approval.
pub fn is_protected(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let Some(name) = parts.last() else {
        return true;
    };
    const DIRS: &[&str] = &[
        ".github",
        ".gitlab",
        ".circleci",
        ".buildkite",
        ".githooks",
        ".husky",
        ".cars",
    ];
    const NAMES: &[&str] = &[
        "Makefile",
        "makefile",
        "GNUmakefile",
        "build.rs",
        "package.json",
        "setup.py",
        "noxfile.py",
        "tox.ini",
        "Jenkinsfile",
        "Dockerfile",
        "Containerfile",
        "CMakeLists.txt",
        "meson.build",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "pom.xml",
        "build.xml",
        "Rakefile",
        "Justfile",
        "justfile",
        "Taskfile.yml",
        "Earthfile",
        ".envrc",
        "azure-pipelines.yml",
        "appveyor.yml",
        "bitbucket-pipelines.yml",
        "cloudbuild.yaml",
    ];
    parts[..parts.len() - 1].iter().any(|d| DIRS.contains(d))
        || NAMES.contains(name)
        || name.starts_with(".git")
        || name.starts_with(".cars")
        || name.starts_with(".travis")
        || name.starts_with(".pre-commit")
        || name.ends_with(".mk")
        || name.ends_with(".cmake")
        || name.ends_with(".sh")
        || name.ends_with(".bash")
        || name.ends_with(".ps1")
        || name.ends_with(".bat")
        || name.ends_with(".cmd")
}

/// Whether a suggestion `tool` printed may edit `rel`: each tool only edits the
/// kind of source it checks (rustc edits `.rs`, tsc edits TypeScript and JavaScript).
pub fn tool_edits(tool: &str, rel: &str) -> bool {
    const KINDS: &[(&[&str], &[&str])] = &[
        (&["rustc", "clippy", "cargo", "rustfmt"], &["rs"]),
        (
            &["tsc", "eslint", "prettier", "biome", "jest", "node"],
            &["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"],
        ),
        (
            &[
                "ruff", "flake8", "pylint", "mypy", "black", "isort", "python",
            ],
            &["py", "pyi"],
        ),
        (
            &["gcc", "g++", "clang", "clang++", "cc"],
            &["c", "h", "cc", "cpp", "cxx", "hpp", "hh", "hxx"],
        ),
        (&["go", "gofmt", "gopls", "go-vet"], &["go"]),
    ];
    let ext = Path::new(rel)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    KINDS
        .iter()
        .find(|(tools, _)| tools.contains(&tool))
        .is_some_and(|(_, exts)| exts.contains(&ext))
}

/// Text from a log shown to a reviewer (a rationale, a help message): one line, no
/// control characters, at most 160 characters.
pub fn quote_log_text(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    match clean.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &clean[..i]),
        None => clean.to_string(),
    }
}

/// Limits on an edit whose text came from a log: a compiler's suggestion changes a
/// few tokens or adds an import, never a page of code.
pub const LOG_EDIT_MAX_LINES: usize = 6;
pub const LOG_EDIT_MAX_BYTES: usize = 400;

/// Checks that a log-derived edit `before -> after` is small: at most
/// `LOG_EDIT_MAX_LINES` lines removed plus added and `LOG_EDIT_MAX_BYTES` bytes of new
/// text; and when it only changes tokens inside lines (`inserts_lines` false), the
/// number of lines stays the same.
pub fn check_log_edit_size(before: &str, after: &str, inserts_lines: bool) -> Result<(), String> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_lines(before, after);
    let (mut lines, mut bytes) = (0usize, 0usize);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {}
            ChangeTag::Delete => lines += 1,
            ChangeTag::Insert => {
                lines += 1;
                bytes += change.value().len();
            }
        }
    }
    if lines > LOG_EDIT_MAX_LINES {
        return Err(format!(
            "the suggestion changes {lines} lines (a log suggestion may change at most {LOG_EDIT_MAX_LINES})"
        ));
    }
    if bytes > LOG_EDIT_MAX_BYTES {
        return Err(format!(
            "the suggestion writes {bytes} bytes (a log suggestion may write at most {LOG_EDIT_MAX_BYTES})"
        ));
    }
    if !inserts_lines && before.lines().count() != after.lines().count() {
        return Err("the suggestion changes tokens but adds or removes lines".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn log() -> Provenance {
        Provenance::Log {
            tool: "rustc".into(),
        }
    }

    #[test]
    fn paths_outside_the_root_or_under_git_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
        fs::write(root.join(".git/config"), "").unwrap();
        fs::write(outside.path().join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
        std::os::unix::fs::symlink(root.join("src/main.rs"), root.join("alias.rs")).unwrap();
        let p = PathPolicy::new(root, None).unwrap();
        let w = Access::Write(&log());
        assert!(p.check("src/main.rs", w).is_ok());
        for bad in [
            "../x.rs",
            "/etc/passwd",
            ".git/config",
            "src/../.git/config",
            "linked/secret",
            "",
        ] {
            assert!(p.check(bad, w).is_err(), "{bad}");
            assert!(p.check(bad, Access::Read).is_err(), "{bad}");
        }
        // A link inside the project may be read, never replaced.
        assert!(p.check("alias.rs", Access::Read).is_ok());
        assert!(p.check("alias.rs", w).is_err());
        assert!(p.check("src", Access::Read).is_err(), "a directory");
    }

    #[test]
    fn log_text_only_edits_the_tools_own_sources() {
        let dir = tempfile::tempdir().unwrap();
        let p = PathPolicy::new(dir.path(), None).unwrap();
        let w = Access::Write(&log());
        assert!(p.check("src/lib.rs", w).is_ok());
        for bad in [
            "build.rs",
            "Makefile",
            ".github/workflows/ci.yml",
            "src/lib.py",
            ".cars.toml",
        ] {
            assert!(p.check(bad, w).is_err(), "{bad}");
        }
        let t = Provenance::Builtin {
            template: "gha".into(),
        };
        assert!(p
            .check(".github/workflows/ci.yml", Access::Write(&t))
            .is_ok());
    }

    #[test]
    fn a_fixer_never_writes_build_scripts_or_ci_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = PathPolicy::new(dir.path(), None).unwrap();
        let fixer = Provenance::Fixer {
            tool: "prettier".into(),
        };
        let w = Access::Write(&fixer);
        assert!(p.check("src/app.css", w).is_ok());
        for bad in ["build.sh", ".github/workflows/ci.yml", "build.rs", ".git/x"] {
            assert!(p.check(bad, w).is_err(), "{bad}");
        }
        assert_eq!(fixer.describe(), "fixer (prettier)");
    }

    #[test]
    fn log_edits_must_stay_small() {
        assert!(check_log_edit_size("a\nb\n", "a\nB\n", false).is_ok());
        assert!(check_log_edit_size("a\nb\n", "a\nb\nc\n", false).is_err());
        assert!(check_log_edit_size("b\n", "use x;\nb\n", true).is_ok());
        let big = "x\n".repeat(10);
        assert!(check_log_edit_size("a\n", &big, true).is_err());
    }
}
