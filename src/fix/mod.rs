//! From findings to patches: fixes the tools themselves suggest (`suggest`), fix
//! templates keyed by rule id (`template`), the tools' own fixers run on a scratch
//! copy (`fixer`), `go doc`'s names for a misspelt package member (`godoc`) and
//! TypeScript's language-service code fixes (`tsfix`), each a
//! whole-file change of text files under the project root.
//! Depends on `analyze` (the finding), `policy` (every file it reads goes through the
//! path policy) and `exec` (the fixers' processes); never writes to the project.

pub mod caret;
pub mod edit;
pub mod fixer;
pub mod godoc;
pub mod named;
pub mod paths;
pub mod suggest;
pub mod template;
pub mod tsfix;

use crate::analyze::Finding;
use crate::policy::{PathPolicy, Provenance};
use serde::{Deserialize, Serialize};
use similar::TextDiff;

/// The seven ways cars repairs a build, one per patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    SyntaxRepair,
    DependencyFix,
    TimingAdjustment,
    AssertionUpdate,
    EnvironmentHealing,
    FlakyTestStabilization,
    ApiContractAdaptation,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::SyntaxRepair => "syntax-repair",
            Strategy::DependencyFix => "dependency-fix",
            Strategy::TimingAdjustment => "timing-adjustment",
            Strategy::AssertionUpdate => "assertion-update",
            Strategy::EnvironmentHealing => "environment-healing",
            Strategy::FlakyTestStabilization => "flaky-test-stabilization",
            Strategy::ApiContractAdaptation => "api-contract-adaptation",
        }
    }
}

/// One file a patch changes. `before` is the content the patch was made against
/// (`None`: the file does not exist yet); apply refuses when the file differs from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Relative to the project root, `/`-separated.
    pub path: String,
    pub before: Option<String>,
    pub after: String,
    /// The permission bits the file gets (`0o755` for a script that must run);
    /// `None` keeps them as they are. Rollback restores the old bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

/// A proposed fix for one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// The finding id (`E3`) in its session.
    pub finding: String,
    pub rule: String,
    pub strategy: Strategy,
    /// Where the fix comes from: `rustc suggestion (MachineApplicable)`, `template
    /// python.missing-module`...
    pub origin: String,
    /// Where the patch's text comes from; decides which files it may touch and
    /// which gates it may pass.
    #[serde(default)]
    pub provenance: Provenance,
    pub confidence: f64,
    /// One line a reviewer reads to decide.
    pub rationale: String,
    /// False when the fix has placeholders a human must fill: never applied by `--auto`.
    pub auto: bool,
    pub files: Vec<FileChange>,
}

impl Patch {
    /// The whole patch as a unified diff that `git apply` accepts.
    pub fn unified_diff(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            out.push_str(&file_diff(f));
        }
        out
    }
}

impl Patch {
    /// The diff for reports that leave the machine (exports, PR comments, the TUI):
    /// values in env-like files are replaced by `<redacted>`, except for the keys the
    /// patch itself adds.
    pub fn redacted_diff(&self) -> String {
        let mut out = String::new();
        for f in &self.files {
            let before = f.before.as_deref().unwrap_or("");
            if !is_env_like(&f.path, before) && !is_env_like(&f.path, &f.after) {
                out.push_str(&file_diff(f));
                continue;
            }
            let had: std::collections::HashSet<&str> = before.lines().filter_map(env_key).collect();
            let added: std::collections::HashSet<&str> = f
                .after
                .lines()
                .filter_map(env_key)
                .filter(|k| !had.contains(k))
                .collect();
            out.push_str(&file_diff(&FileChange {
                path: f.path.clone(),
                before: f.before.as_deref().map(|b| redact_env(b, &added)),
                after: redact_env(&f.after, &added),
                mode: f.mode,
            }));
        }
        out
    }
}

/// The key of a `KEY=value` (or `export KEY=value`) line.
fn env_key(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let t = t.strip_prefix("export ").unwrap_or(t);
    let (key, value) = t.split_once('=')?;
    let key = key.trim_end();
    let ok = !key.is_empty()
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !value.starts_with('=');
    ok.then_some(key)
}

/// `.env`, `.env.local`, `prod.env`, or a file whose every line is a comment or
/// `KEY=value`: where secrets live.
pub fn is_env_like(path: &str, text: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
        return true;
    }
    let mut assignments = 0;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if env_key(t).is_none() {
            return false;
        }
        assignments += 1;
    }
    assignments > 0
}

fn redact_env(text: &str, keep: &std::collections::HashSet<&str>) -> String {
    text.split_inclusive('\n')
        .map(|line| match env_key(line) {
            Some(k) if !keep.contains(k) => {
                let end = &line[line.trim_end_matches(['\n', '\r']).len()..];
                let eq = line.find('=').unwrap_or(line.len());
                format!("{}=<redacted>{end}", &line[..eq])
            }
            _ => line.to_string(),
        })
        .collect()
}

/// A unified diff of one file change with `a/` and `b/` headers.
pub fn file_diff(f: &FileChange) -> String {
    let before = f.before.as_deref().unwrap_or("");
    let old = if f.before.is_some() {
        format!("a/{}", f.path)
    } else {
        "/dev/null".to_string()
    };
    let diff = TextDiff::from_lines(before, &f.after);
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header(&old, &format!("b/{}", f.path))
        .missing_newline_hint(true)
        .to_string();
    let mut out = format!("diff --git a/{0} b/{0}\n", f.path);
    let git_mode = |m: u32| if m & 0o111 != 0 { 100755 } else { 100644 };
    match (f.before.is_some(), f.mode) {
        (false, m) => out.push_str(&format!("new file mode {}\n", git_mode(m.unwrap_or(0o644)))),
        // git records only whether a file is executable: the change flips that.
        (true, Some(m)) => {
            let new = git_mode(m);
            let old = if new == 100755 { 100644 } else { 100755 };
            out.push_str(&format!("old mode {old}\nnew mode {new}\n"));
        }
        (true, None) => {}
    }
    if f.before.as_deref() != Some(f.after.as_str()) {
        out.push_str(&body);
    }
    out
}

/// What fixing a finding needs to know about the project.
pub struct FixContext<'a> {
    /// Decides which files may be read (and later written); knows the root.
    pub policy: &'a PathPolicy,
    pub templates: &'a template::Templates,
    /// Runs the tools' own fixers; caches their runs across the findings of one call.
    pub fixers: &'a fixer::Delegation,
}

/// Why no patch could be made for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoPatch(pub String);

/// Every patch the sources can make for `finding`, best first; or why there is none.
pub fn propose(finding: &Finding, project: &FixContext) -> Result<Vec<Patch>, NoPatch> {
    let mut reasons = Vec::new();
    let mut patches = Vec::new();
    match suggest::from_tool(finding, project.policy) {
        Ok(mut p) => patches.append(&mut p),
        Err(NoPatch(r)) => reasons.push(r),
    }
    match project.templates.apply(finding, project.policy) {
        Ok(mut p) => patches.append(&mut p),
        Err(NoPatch(r)) => reasons.push(r),
    }
    // Third: the tool's own fixer, unless an earlier source made the same change.
    match fixer::propose(finding, project.policy, project.fixers, &patches) {
        Ok(p) => add_unseen(&mut patches, p),
        Err(NoPatch(r)) => reasons.push(r),
    }
    // A misspelt member of an imported Go package, from `go doc`'s list of names.
    match godoc::propose(finding, project.policy) {
        Ok(p) => add_unseen(&mut patches, p),
        Err(NoPatch(r)) => reasons.push(r),
    }
    // Last: TypeScript's language-service code fixes for tsc findings, likewise.
    match tsfix::propose(finding, project.policy, project.fixers) {
        Ok(p) => add_unseen(&mut patches, p),
        Err(NoPatch(r)) => reasons.push(r),
    }
    if patches.is_empty() {
        reasons.dedup();
        return Err(NoPatch(reasons.join("; ")));
    }
    patches.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    patches.dedup_by(|a, b| a.files == b.files);
    Ok(patches)
}

/// Adds the patches of `new` whose change none of `patches` already makes; one that
/// makes the same change with more confidence (a fixer confirming a log suggestion)
/// takes the earlier one's place.
fn add_unseen(patches: &mut Vec<Patch>, new: Vec<Patch>) {
    for p in new {
        match patches.iter_mut().find(|q| q.files == p.files) {
            Some(q) if p.confidence > q.confidence => *q = p,
            Some(_) => {}
            None => patches.push(p),
        }
    }
}

/// Re-applies the change `before -> after` on top of `current`, a later version of
/// `before`, when the lines the patch changes are untouched in `current`. Two fixes on one line (tsc's `consol.log(msg.lenght)`) merge
/// when their characters are apart. `None` when the changes meet: that needs a human.
pub fn rebase(before: &str, after: &str, current: &str) -> Option<String> {
    fn lines(s: &str) -> Vec<&str> {
        s.split_inclusive('\n').collect()
    }
    fn chars(s: &str) -> Vec<&str> {
        s.char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect()
    }
    let (b, a, c) = (lines(before), lines(after), lines(current));
    if let Some(merged) = rebase_tokens(&b, &a, &c) {
        return Some(merged);
    }
    // Both sides rewrote the same single line: merge it by characters. (Character
    // diffs are quadratic in the worst case, hence the size cap.)
    let one_line = |new: &[&str]| -> Option<usize> {
        let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &b, new);
        let mut changed = ops
            .iter()
            .filter(|op| !matches!(op, similar::DiffOp::Equal { .. }));
        let op = changed.next()?;
        (changed.next().is_none() && op.old_range().len() == 1 && op.new_range().len() == 1)
            .then(|| op.old_range().start)
    };
    let same_line = one_line(&a).is_some() && one_line(&a) == one_line(&c);
    if !same_line || before.len() > 256 << 10 {
        return None;
    }
    rebase_tokens(&chars(before), &chars(after), &chars(current))
}

fn rebase_tokens(before: &[&str], after: &[&str], current: &[&str]) -> Option<String> {
    use similar::{capture_diff_slices, Algorithm, DiffOp};
    type Change = (std::ops::Range<usize>, std::ops::Range<usize>);
    let changes = |new: &[&str]| -> Vec<Change> {
        capture_diff_slices(Algorithm::Myers, before, new)
            .iter()
            .filter(|op| !matches!(op, DiffOp::Equal { .. }))
            .map(|op| (op.old_range(), op.new_range()))
            .collect()
    };
    let ours = changes(after);
    let theirs = changes(current);
    // Overlapping changes conflict, and so does an insertion at the edge of the other
    // side's change (which goes first is ambiguous); changes on neighbouring lines
    // do not.
    let meets = |a: &std::ops::Range<usize>, b: &std::ops::Range<usize>| {
        let inside = |at: usize, r: &std::ops::Range<usize>| r.start <= at && at <= r.end;
        (a.start < b.end && b.start < a.end)
            || (a.is_empty() && inside(a.start, b))
            || (b.is_empty() && inside(b.start, a))
    };
    if ours
        .iter()
        .any(|(o, _)| theirs.iter().any(|(t, _)| meets(o, t)))
    {
        return None;
    }
    // Where a token of `before` sits in `current`: shift by the changes above it.
    let shift = |at: usize| -> usize {
        let mut pos = at as isize;
        for (old, new) in &theirs {
            if old.end <= at {
                pos += new.len() as isize - old.len() as isize;
            }
        }
        pos as usize
    };
    let mut out: Vec<&str> = current.to_vec();
    for (old, new) in ours.iter().rev() {
        let at = shift(old.start);
        if at + old.len() > out.len() {
            return None;
        }
        out.splice(at..at + old.len(), after[new.clone()].iter().copied());
    }
    Some(out.concat())
}

#[cfg(test)]
mod tests {
    use super::{rebase, FileChange, Patch, Strategy};

    #[test]
    fn env_files_are_redacted_but_the_added_key_is_shown() {
        let p = Patch {
            finding: "E1".into(),
            rule: "r".into(),
            strategy: Strategy::EnvironmentHealing,
            origin: "t".into(),
            provenance: Default::default(),
            confidence: 0.7,
            rationale: "r".into(),
            auto: false,
            files: vec![FileChange {
                path: ".env.example".into(),
                before: Some("DB_PASSWORD=hunter2\nexport API_TOKEN=abc\n".into()),
                after: "DB_PASSWORD=hunter2\nexport API_TOKEN=abc\nNEW_VAR=\n".into(),
                mode: None,
            }],
        };
        let d = p.redacted_diff();
        assert!(!d.contains("hunter2") && !d.contains("abc"), "{d}");
        assert!(d.contains("+NEW_VAR="), "{d}");
        assert!(d.contains("DB_PASSWORD=<redacted>"), "{d}");
        assert!(p.unified_diff().contains("hunter2"));
    }

    #[test]
    fn a_mode_change_shows_as_git_shows_it() {
        let script = "#!/bin/sh\necho hi\n";
        let f = FileChange {
            path: "x.sh".into(),
            before: Some(script.into()),
            after: script.into(),
            mode: Some(0o755),
        };
        assert_eq!(
            super::file_diff(&f),
            "diff --git a/x.sh b/x.sh\nold mode 100644\nnew mode 100755\n"
        );
        // Patches stored before modes existed still load.
        let old: FileChange =
            serde_json::from_str(r#"{"path":"a.rs","before":null,"after":"x"}"#).unwrap();
        assert_eq!(old.mode, None);
    }

    #[test]
    fn a_patch_rebases_over_an_unrelated_change() {
        let before = "a\nb\nc\nd\ne\nf\n";
        let after = "a\nb\nc\nd\nE\nf\n";
        // Someone removed line b: the patch's line moved up by one.
        let current = "a\nc\nd\ne\nf\n";
        assert_eq!(rebase(before, after, current).unwrap(), "a\nc\nd\nE\nf\n");
        // A change on the next line merges; one on the same line, or an insertion
        // right at it, does not.
        assert_eq!(
            rebase(before, after, "a\nb\nc\nD\ne\nf\n").unwrap(),
            "a\nb\nc\nD\nE\nf\n"
        );
        assert_eq!(rebase(before, after, "a\nb\nc\nd\nX\nf\n"), None);
        assert_eq!(rebase(before, after, "a\nb\nc\nd\nnew\ne\nf\n"), None);
        // Two fixes on one line merge when their characters are apart.
        assert_eq!(
            rebase(
                "consol.log(msg.lenght);\n",
                "console.log(msg.lenght);\n",
                "consol.log(msg.length);\n"
            )
            .unwrap(),
            "console.log(msg.length);\n"
        );
        // Inserting lines above shifts the patch down.
        assert_eq!(
            rebase(before, after, "x\ny\na\nb\nc\nd\ne\nf\n").unwrap(),
            "x\ny\na\nb\nc\nd\nE\nf\n"
        );
    }
}
