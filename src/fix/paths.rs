//! Maps a path as a log prints it to a file in the project. CI runners build in
//! their own workspace (`/home/runner/work/repo/repo/`, `/builds/group/project/`,
//! `/__w/repo/repo/`, `C:\a\repo\repo\`), so an absolute path is matched by its
//! longest suffix that exists under the project root. Whether a candidate exists
//! and may be read is the path policy's decision.

use crate::policy::PathPolicy;
use std::path::{Path, PathBuf};

/// The project-relative, `/`-separated path of `reported`, or `None` when no file
/// the policy lets cars read matches it. Never returns a path that leaves the root.
pub fn resolve(policy: &PathPolicy, reported: &str) -> Option<String> {
    let root = policy.root();
    let cleaned = reported.trim().replace('\\', "/");
    let cleaned = cleaned.strip_prefix("./").unwrap_or(&cleaned);
    let parts: Vec<&str> = cleaned
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    let absolute = cleaned.starts_with('/') || cleaned.chars().nth(1) == Some(':');
    if is_dependency(&parts, absolute) {
        return None;
    }
    if absolute {
        if let Ok(rel) = Path::new(cleaned).strip_prefix(root) {
            return existing(policy, rel);
        }
    }
    // Drop leading components one at a time: the longest suffix that exists wins.
    let first = if absolute { 1 } else { 0 };
    (first..parts.len())
        .find_map(|skip| existing(policy, &parts[skip..].iter().collect::<PathBuf>()))
}

/// Whether the path lies in a dependency, toolchain or system location: a file of a
/// crate in `~/.cargo/registry`, of Python's `site-packages`, of `node_modules`, of
/// the Rust standard library (`/rustc/<hash>/library/...`) or under `/usr`. Its
/// suffix (`src/lib.rs`) may well exist in the project, but it is another file.
fn is_dependency(parts: &[&str], absolute: bool) -> bool {
    const DIRS: &[&str] = &[
        ".cargo",
        ".rustup",
        "site-packages",
        "dist-packages",
        "node_modules",
        ".m2",
        ".gradle",
        ".pyenv",
        ".nvm",
        ".venv",
        "venv",
    ];
    let dirs = &parts[..parts.len().saturating_sub(1)];
    dirs.iter().any(|d| DIRS.contains(d))
        || dirs.windows(3).any(|w| w == ["go", "pkg", "mod"])
        || (absolute && matches!(parts.first(), Some(&"usr" | &"rustc" | &"opt")))
}

fn existing(policy: &PathPolicy, rel: &Path) -> Option<String> {
    let rel = rel.to_str()?.to_string();
    policy.is_readable_file(&rel).then_some(rel)
}

#[cfg(test)]
mod tests {
    use super::resolve;
    use crate::policy::PathPolicy;
    use std::fs;

    #[test]
    fn ci_workspace_prefixes_are_stripped() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src/app")).unwrap();
        fs::write(dir.path().join("src/app/main.py"), "x").unwrap();
        let root = &dir.path().canonicalize().unwrap();
        let policy = PathPolicy::new(root, None).unwrap();
        for reported in [
            "src/app/main.py",
            "./src/app/main.py",
            "/home/runner/work/repo/repo/src/app/main.py",
            "/builds/group/project/src/app/main.py",
            "C:\\a\\repo\\repo\\src\\app\\main.py",
        ] {
            assert_eq!(
                resolve(&policy, reported).as_deref(),
                Some("src/app/main.py"),
                "{reported}"
            );
        }
        let inside = root.join("src/app/main.py");
        assert_eq!(
            resolve(&policy, &inside.to_string_lossy()).as_deref(),
            Some("src/app/main.py")
        );
        assert_eq!(resolve(&policy, "src/app/missing.py"), None);
        assert_eq!(resolve(&policy, "../etc/passwd"), None);
        assert_eq!(
            resolve(&policy, "/usr/lib/python3.11/json/decoder.py"),
            None
        );
    }

    #[test]
    fn a_dependency_file_is_not_taken_for_the_project_file_of_the_same_suffix() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("src/lib.rs"), "x").unwrap();
        fs::write(dir.path().join("src/panicking.rs"), "x").unwrap();
        fs::create_dir_all(dir.path().join("json")).unwrap();
        fs::write(dir.path().join("json/decoder.py"), "x").unwrap();
        let root = &dir.path().canonicalize().unwrap();
        let policy = PathPolicy::new(root, None).unwrap();
        for reported in [
            "/home/runner/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.200/src/lib.rs",
            "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs",
            "/opt/hostedtoolcache/Python/3.11.7/x64/lib/python3.11/site-packages/json/decoder.py",
            "/home/runner/go/pkg/mod/github.com/x/y@v1.0.0/src/lib.rs",
            "node_modules/left-pad/src/lib.rs",
        ] {
            assert_eq!(resolve(&policy, reported), None, "{reported}");
        }
        // The project's own file still resolves from a CI workspace path.
        assert_eq!(
            resolve(&policy, "/home/runner/work/repo/repo/src/lib.rs").as_deref(),
            Some("src/lib.rs")
        );
    }
}
