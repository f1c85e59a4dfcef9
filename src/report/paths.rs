//! File paths as a reader of a report knows them: relative to the project, whatever
//! CI workspace the log was written in. Uses the fix module's resolver and the path
//! policy (engine modules below `report`); never reads file contents.

use crate::analyze::{Finding, Location};
use crate::policy::PathPolicy;
use std::path::Path;

/// Maps reported paths to project paths for one report.
#[derive(Debug, Clone, Default)]
pub struct ProjectPaths {
    /// `None` when the report has no project, or its root does not exist here.
    policy: Option<PathPolicy>,
}

impl ProjectPaths {
    /// Paths of a project rooted at `root`; a root that does not exist maps paths by
    /// their CI workspace prefix only.
    pub fn new(root: Option<&Path>) -> ProjectPaths {
        ProjectPaths {
            policy: root.and_then(|r| PathPolicy::new(r, None).ok()),
        }
    }

    /// `reported` relative to the project, `/`-separated: the project file it names
    /// when there is one, else the path with a known CI workspace prefix (or the
    /// project root) removed, else `reported` unchanged.
    pub fn show(&self, reported: &str) -> String {
        if let Some(policy) = &self.policy {
            if let Some(rel) = crate::fix::paths::resolve(policy, reported) {
                return rel;
            }
            if let Some(rel) = strip_root(policy.root(), reported) {
                return rel;
            }
        }
        strip_ci_workspace(reported).unwrap_or_else(|| reported.to_string())
    }

    /// `file:line:column` with the file shown relative to the project; empty for `None`.
    pub fn location_text(&self, location: Option<&Location>) -> String {
        match location {
            None => String::new(),
            Some(l) => {
                let shown = Location {
                    file: self.show(&l.file),
                    ..l.clone()
                };
                super::format_location(Some(&shown))
            }
        }
    }

    /// `f.explanation` with the reported file shown as `show` shows it (rules often
    /// repeat `{file}` in the explanation).
    pub fn explanation(&self, f: &Finding) -> String {
        match &f.location {
            Some(l) if !l.file.is_empty() => f.explanation.replace(&l.file, &self.show(&l.file)),
            _ => f.explanation.clone(),
        }
    }
}

/// `reported` below `root` (a file that does not exist, or not any more), relative.
fn strip_root(root: &Path, reported: &str) -> Option<String> {
    let rel = Path::new(reported).strip_prefix(root).ok()?;
    let rel = rel.to_str()?.replace('\\', "/");
    (!rel.is_empty()).then_some(rel)
}

/// Where CI services check out the repository, as path components after the root
/// (`*` is any one component). The rest of the path is relative to the repository.
const WORKSPACES: &[&[&str]] = &[
    &["home", "runner", "work", "*", "*"],  // GitHub Actions, Linux
    &["Users", "runner", "work", "*", "*"], // GitHub Actions, macOS
    &["__w", "*", "*"],                     // GitHub Actions, container jobs
    &["github", "workspace"],               // GitHub Actions, Docker actions
    &["builds", "*", "*"],                  // GitLab: /builds/group/project
    &["home", "travis", "build", "*", "*"], // Travis CI
    &["home", "circleci", "project"],       // CircleCI
    &["home", "vsts", "work", "*", "s"],    // Azure Pipelines, Linux
    &["var", "lib", "jenkins", "workspace", "*"],
    &["var", "jenkins_home", "workspace", "*"],
    &["home", "jenkins", "agent", "workspace", "*"],
    &["opt", "atlassian", "pipelines", "agent", "build"], // Bitbucket Pipelines
];

/// Windows runners check out under `D:\a\repo\repo\` (GitHub) or `D:\a\1\s\` (Azure).
const WINDOWS_WORKSPACE: &[&str] = &["a", "*", "*"];

/// `reported` without a known CI workspace prefix, `/`-separated; `None` when it
/// starts with none of them (or nothing would be left).
pub fn strip_ci_workspace(reported: &str) -> Option<String> {
    let cleaned = reported.trim().replace('\\', "/");
    let (rest, patterns): (&str, &[&[&str]]) = match cleaned.as_bytes() {
        [b'/', ..] => (&cleaned[1..], WORKSPACES),
        [d, b':', b'/', ..] if d.is_ascii_alphabetic() => (&cleaned[3..], &[WINDOWS_WORKSPACE]),
        _ => return None,
    };
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    patterns.iter().find_map(|pattern| {
        let matches = parts.len() > pattern.len()
            && pattern
                .iter()
                .zip(&parts)
                .all(|(want, got)| *want == "*" || want == got);
        matches.then(|| parts[pattern.len()..].join("/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn runner_paths_are_shown_relative_to_the_project() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("src/x.py"), "x = 1\n").unwrap();
        let paths = ProjectPaths::new(Some(dir.path()));
        for reported in [
            "/home/runner/work/repo/repo/src/x.py",
            "/builds/group/project/src/x.py",
            "/__w/repo/repo/src/x.py",
            "D:\\a\\repo\\repo\\src\\x.py",
            "./src/x.py",
            "src/x.py",
        ] {
            assert_eq!(paths.show(reported), "src/x.py", "{reported}");
        }
        let inside = dir.path().canonicalize().unwrap().join("src/gone.py");
        assert_eq!(paths.show(&inside.to_string_lossy()), "src/gone.py");
    }

    #[test]
    fn ci_workspace_prefixes_are_stripped_when_the_file_is_not_here() {
        let paths = ProjectPaths::new(None);
        let cases = [
            ("/home/runner/work/repo/repo/src/x.py", "src/x.py"),
            ("/Users/runner/work/r/r/lib/a.swift", "lib/a.swift"),
            ("/builds/group/project/src/x.py", "src/x.py"),
            ("/github/workspace/main.go", "main.go"),
            ("/home/travis/build/o/r/t/test_a.py", "t/test_a.py"),
            ("/home/vsts/work/1/s/src/App.cs", "src/App.cs"),
            ("/var/lib/jenkins/workspace/job/pom.xml", "pom.xml"),
            ("C:\\a\\repo\\repo\\src\\main.rs", "src/main.rs"),
            // Not a workspace: left as reported.
            (
                "/usr/lib/python3.11/json/decoder.py",
                "/usr/lib/python3.11/json/decoder.py",
            ),
            ("/home/runner/work/repo/repo", "/home/runner/work/repo/repo"),
            ("src/x.py", "src/x.py"),
        ];
        for (reported, shown) in cases {
            assert_eq!(paths.show(reported), shown, "{reported}");
        }
    }
}
