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
}
