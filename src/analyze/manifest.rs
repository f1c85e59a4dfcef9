//! Manifest errors (a bad key in Cargo.toml, a misspelled package in package.json or
//! requirements.txt, a bad go.mod line) point at the manifest, and at the line naming
//! the key or package when the project's own manifest has one. Only the names in
//! `rules::MANIFESTS` are ever opened, only in the one directory given, and only the
//! first `MAX_BYTES` of each. Depends on `rules`.

use super::Candidate;
use crate::rules::{ManifestSpec, RuleSet, MANIFESTS};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Bytes of a manifest read for the lookup; real manifests are a few KiB.
const MAX_BYTES: u64 = 1 << 20;

/// Gives every candidate of a manifest rule its manifest (and line) as location.
pub(crate) fn locate(rules: &RuleSet, cands: &mut [Candidate], dir: Option<&Path>) {
    let mut texts: HashMap<&str, Option<String>> = HashMap::new();
    for c in cands.iter_mut() {
        let Some(spec) = c
            .rule
            .and_then(|r| rules.rules[r as usize].spec.manifest.as_ref())
        else {
            continue;
        };
        let text = texts
            .entry(spec.file.as_str())
            .or_insert_with(|| dir.and_then(|d| read_manifest(d, &spec.file)));
        apply(spec, text.as_deref(), &mut c.captures);
    }
}

/// The location for one finding: `captures` gains `file` (unless the log named
/// another file) and `line` (when the value is found in `text`, the manifest).
pub fn apply(
    spec: &ManifestSpec,
    text: Option<&str>,
    captures: &mut std::collections::BTreeMap<String, String>,
) {
    // A file the log names is kept; the line is looked up only when it is this
    // project's manifest (not another crate's in a workspace, not a lock file).
    let named = captures.get("file").map(|f| f.trim_start_matches("./"));
    if named.is_some_and(|f| f != spec.file) {
        return;
    }
    // The tool gave the line (maven's `@ line 7, column 17`) but not the file.
    if captures.contains_key("line") {
        if spec.only_if_found && named.is_none() {
            return;
        }
        captures
            .entry("file".into())
            .or_insert_with(|| spec.file.clone());
        return;
    }
    let found = spec
        .find
        .iter()
        .find_map(|k| captures.get(k))
        .map(|v| package_name(v))
        .filter(|n| !n.is_empty())
        .and_then(|needle| text.and_then(|t| line_of(t, needle)));
    if found.is_none() && spec.only_if_found {
        return;
    }
    captures
        .entry("file".into())
        .or_insert_with(|| spec.file.clone());
    if let Some(line) = found {
        captures.insert("line".into(), line.to_string());
    }
}

fn read_manifest(dir: &Path, name: &str) -> Option<String> {
    debug_assert!(MANIFESTS.contains(&name));
    let path = dir.join(name);
    let file = std::fs::File::open(&path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_BYTES).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The package or key without its version: `left-pad@^99.0.0`, `idna==99.0.0`,
/// `anyhow = "^99.0"`, `@scope/pkg@1` -> `left-pad`, `idna`, `anyhow`, `@scope/pkg`.
fn package_name(value: &str) -> &str {
    let v = value.trim().trim_matches(['`', '\'', '"']);
    let end = v
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '/')
                || (c == '@' && i == 0))
        })
        .map(|(i, _)| i)
        .unwrap_or(v.len());
    v[..end].trim_end_matches('.')
}

/// The 1-based line where `needle` first occurs as a whole name (case-insensitive,
/// `-` and `_` alike, as pip and cargo compare names).
fn line_of(text: &str, needle: &str) -> Option<usize> {
    let fold = |c: char| match c {
        '_' => '-',
        c => c.to_ascii_lowercase(),
    };
    let needle: Vec<char> = needle.chars().map(fold).collect();
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    for (i, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        if chars.len() < needle.len() {
            continue;
        }
        for s in 0..=chars.len() - needle.len() {
            let whole = (s == 0 || !is_name(chars[s - 1]))
                && chars.get(s + needle.len()).is_none_or(|&c| !is_name(c));
            if whole
                && chars[s..s + needle.len()]
                    .iter()
                    .map(|&c| fold(c))
                    .eq(needle.iter().copied())
            {
                return Some(i + 1);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(file: &str, find: &[&str], only_if_found: bool) -> ManifestSpec {
        ManifestSpec {
            file: file.into(),
            find: find.iter().map(|s| s.to_string()).collect(),
            only_if_found,
        }
    }

    #[test]
    fn versions_are_cut_from_package_names() {
        assert_eq!(package_name("left-pad@^99.0.0"), "left-pad");
        assert_eq!(package_name("@scope/pkg@1.0.0"), "@scope/pkg");
        assert_eq!(package_name("idna<2.0,>=3.0"), "idna");
        assert_eq!(package_name("anyhow = \"^99.0\""), "anyhow");
        assert_eq!(package_name("`serde_jsonn`"), "serde_jsonn");
    }

    #[test]
    fn the_line_naming_the_package_is_found_as_a_whole_name() {
        let cargo = "[package]\nname = \"x\"\nedition = \"2021\"\n\n[dependencies]\nserde = \"1\"\nserde_jsonn = \"1\"\n";
        assert_eq!(line_of(cargo, "serde_jsonn"), Some(7));
        assert_eq!(line_of(cargo, "serde"), Some(6));
        assert_eq!(line_of(cargo, "edition"), Some(3));
        assert_eq!(line_of("Django==4.2\nidna==3.7\n", "IDNA"), Some(2));
        assert_eq!(
            line_of("{\n  \"left-pad\": \"^99\"\n}", "left-pad"),
            Some(2)
        );
        assert_eq!(line_of("serde_json = \"1\"", "serde"), None);
    }

    #[test]
    fn a_manifest_error_points_at_the_manifest_and_its_line() {
        let mut caps = BTreeMap::from([("package".to_string(), "left-pad@^99.0.0".to_string())]);
        let text = "{\n  \"dependencies\": {\n    \"left-pad\": \"^99.0.0\"\n  }\n}\n";
        apply(
            &spec("package.json", &["package"], false),
            Some(text),
            &mut caps,
        );
        assert_eq!(caps["file"], "package.json");
        assert_eq!(caps["line"], "3");
    }

    #[test]
    fn another_file_named_by_the_log_is_kept_without_a_line() {
        let mut caps = BTreeMap::from([
            ("file".to_string(), "/ci/ws/member/Cargo.toml".to_string()),
            ("key".to_string(), "edition".to_string()),
        ]);
        apply(
            &spec("Cargo.toml", &["key"], false),
            Some("edition = \"2030\"\n"),
            &mut caps,
        );
        assert_eq!(caps["file"], "/ci/ws/member/Cargo.toml");
        assert!(!caps.contains_key("line"));
    }

    #[test]
    fn only_if_found_leaves_a_package_the_manifest_does_not_name() {
        let mut caps = BTreeMap::from([("package".to_string(), "typo-pkg".to_string())]);
        apply(
            &spec("package.json", &["package"], true),
            Some("{}"),
            &mut caps,
        );
        assert!(!caps.contains_key("file"));
        apply(&spec("package.json", &["package"], true), None, &mut caps);
        assert!(!caps.contains_key("file"));
    }

    #[test]
    fn a_line_the_tool_gave_without_a_file_is_the_manifests_line() {
        // maven: "'dependencies.dependency.version' for junit:junit:jar is missing. @ line 7"
        let mut caps = BTreeMap::from([("line".to_string(), "7".to_string())]);
        apply(&spec("pom.xml", &[], false), Some("<project>\n"), &mut caps);
        assert_eq!(caps["file"], "pom.xml");
        assert_eq!(caps["line"], "7", "the tool's line is kept, not looked up");
    }
}
