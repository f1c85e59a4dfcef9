//! Patches that do exactly what the tool's diagnostic names: swap one identifier (the
//! one it says does not exist) for the one it suggests, on the line it points at.
//! `cars apply --auto` takes such a patch once a fresh run of the validation command
//! prints the same diagnostic (see `session::Session::reproduce`): then the suggestion
//! is the tool's own on this tree, not text a crafted log put there.

use super::Patch;
use crate::analyze::Finding;

/// What a confirming run adds to a patch's confidence: the swap is the tool's own on
/// this tree, and validation will judge it (0.80 for a compiler's "similar name"
/// suggestion becomes 0.90, the default auto gate).
pub const REPRODUCED_BONUS: f64 = 0.10;
const REPRODUCED_MAX: f64 = 0.97;

/// `patch` as a confirming run leaves it: auto-eligible, its confidence raised.
pub fn confirmed(mut patch: Patch) -> Patch {
    patch.auto = true;
    patch.confidence = (patch.confidence + REPRODUCED_BONUS).min(REPRODUCED_MAX);
    if !patch.rationale.ends_with(CONFIRMED) {
        patch.rationale.push_str(CONFIRMED);
    }
    patch
}

const CONFIRMED: &str =
    " (confirmed: a fresh run of the validation command prints the same suggestion)";

/// True when `patch`, on one existing file of an error's finding, makes exactly the edit
/// the diagnostic names: one identifier swapped for another on one line, where the
/// diagnostic quotes the wrong one and quotes or shows the replacement; or one line
/// added that the diagnostic shows as its only added line (`1 + use std::...;`) and
/// that names an identifier the diagnostic quotes (the missing import).
pub fn tool_named_edit(finding: &Finding, patch: &Patch) -> bool {
    if finding.level != crate::rules::model::Level::Error || patch.files.len() != 1 {
        return false;
    }
    let f = &patch.files[0];
    let Some(before) = f.before.as_deref() else {
        return false;
    };
    if f.mode.is_some() {
        return false;
    }
    if let Some(added) = one_added_line(before, &f.after) {
        let shown: Vec<&String> = finding
            .excerpt
            .iter()
            .filter(|l| shows_added(l, None))
            .collect();
        return shown.len() == 1
            && shows_added(shown[0], Some(&added))
            && tokens(&added)
                .into_iter()
                .any(|t| is_identifier(t) && quotes(&finding.message, t));
    }
    let Some((old, new, fixed)) = swapped_identifier(before, &f.after) else {
        return false;
    };
    let mut said = finding.message.clone();
    for line in &finding.excerpt {
        said.push('\n');
        said.push_str(line);
    }
    quotes(&said, &old)
        && (quotes(&said, &new) || finding.excerpt.iter().any(|l| shows_added(l, Some(&fixed))))
}

/// `line` is a suggestion diff's added line (`3 +     println!("{}", count);`, as
/// rustc prints them), with the text `fixed` when given.
fn shows_added(line: &str, fixed: Option<&str>) -> bool {
    let rest = line.trim_start();
    let digits = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    if digits.len() == rest.len() {
        return false;
    }
    digits.trim_start().strip_prefix('+').is_some_and(|added| {
        !added.trim().is_empty() && fixed.is_none_or(|f| added.trim() == f.trim())
    })
}

/// The one line `after` adds to `before`, when that is the whole difference.
fn one_added_line(before: &str, after: &str) -> Option<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    if b.len() != a.len() + 1 {
        return None;
    }
    let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    (a[at..] == b[at + 1..]).then(|| b[at].to_string())
}

/// The one identifier that differs between `before` and `after`, which differ on one
/// line only: `(old, new, the changed line)`.
fn swapped_identifier(before: &str, after: &str) -> Option<(String, String, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    if a.len() != b.len() {
        return None;
    }
    let mut changed = a.iter().zip(&b).filter(|(x, y)| x != y);
    let (x, y) = changed.next()?;
    if changed.next().is_some() {
        return None;
    }
    let (tx, ty) = (tokens(x), tokens(y));
    if tx.len() != ty.len() {
        return None;
    }
    let mut diff = tx.iter().zip(&ty).filter(|(p, q)| p != q);
    let (old, new) = diff.next()?;
    if diff.next().is_some() || !is_identifier(old) || !is_identifier(new) {
        return None;
    }
    Some((old.to_string(), new.to_string(), y.to_string()))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn is_identifier(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| is_word(c) && !c.is_ascii_digit())
}

/// The line as words and single other characters.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (is_word(c), start) {
            (true, None) => start = Some(i),
            (true, Some(_)) => {}
            (false, s) => {
                if let Some(s) = s {
                    out.push(&line[s..i]);
                }
                start = None;
                out.push(&line[i..i + c.len_utf8()]);
            }
        }
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

/// `text` has `name` in quotes, as tools quote names: 'x', "x", `x`, ‘x’ or «x».
fn quotes(text: &str, name: &str) -> bool {
    const PAIRS: [(char, char); 5] = [
        ('\'', '\''),
        ('"', '"'),
        ('`', '`'),
        ('\u{2018}', '\u{2019}'),
        ('\u{ab}', '\u{bb}'),
    ];
    PAIRS
        .iter()
        .any(|(l, r)| text.contains(&format!("{l}{name}{r}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::{FileChange, Strategy};
    use crate::rules::model::Level;

    fn patch(before: &str, after: &str) -> Patch {
        Patch {
            finding: "E1".into(),
            rule: "r".into(),
            strategy: Strategy::SyntaxRepair,
            origin: "o".into(),
            provenance: Default::default(),
            confidence: 0.8,
            rationale: String::new(),
            auto: false,
            files: vec![FileChange {
                path: "a.py".into(),
                before: Some(before.into()),
                after: after.into(),
                mode: None,
            }],
        }
    }

    fn finding(message: &str, excerpt: &[&str]) -> Finding {
        let mut f: Finding = serde_json::from_value(serde_json::json!({
            "id": "E1", "rank": 1, "level": "error", "category": "build",
            "severity": "high", "confidence": 0.8, "tool": "t", "rule": "r",
            "message": message, "location": null, "test": null,
            "log_lines": {"start": 1, "end": 1}, "step": null, "fingerprint": "f",
            "occurrences": 1, "explanation": ""
        }))
        .unwrap();
        f.excerpt = excerpt.iter().map(|s| s.to_string()).collect();
        f
    }

    #[test]
    fn a_swap_the_diagnostic_names_counts() {
        let p = patch("x = 1\nprint(nme)\n", "x = 1\nprint(name)\n");
        let python = finding(
            "NameError: name 'nme' is not defined. Did you mean: 'name'?",
            &[],
        );
        assert!(tool_named_edit(&python, &p));
        // rustc names the replacement in its help line, in the excerpt.
        let rustc = finding(
            "cannot find value `nme` in this scope",
            &["help: a local variable with a similar name exists: `name`"],
        );
        assert!(tool_named_edit(&rustc, &p));
        // Newer rustc shows the fixed line as a diff instead.
        let diff = finding(
            "cannot find value `nme` in this scope",
            &[
                "help: a local variable with a similar name exists",
                "2 - print(nme)",
                "2 + print(name)",
            ],
        );
        assert!(tool_named_edit(&diff, &p));
        // gcc in a UTF-8 locale.
        let gcc = finding("‘nme’ undeclared; did you mean ‘name’?", &[]);
        assert!(tool_named_edit(&gcc, &p));
    }

    #[test]
    fn an_import_the_diagnostic_shows_counts_when_it_is_the_only_one() {
        let p = patch(
            "fn main() {\n    HashMap::new();\n}\n",
            "use std::collections::HashMap;\nfn main() {\n    HashMap::new();\n}\n",
        );
        let one = finding(
            "cannot find type `HashMap` in this scope",
            &[
                "help: consider importing this struct",
                "1 + use std::collections::HashMap;",
            ],
        );
        assert!(tool_named_edit(&one, &p));
        let two = finding(
            "cannot find type `HashMap` in this scope",
            &[
                "help: consider importing one of these items",
                "1 + use std::collections::HashMap;",
                "1 + use hashbrown::HashMap;",
            ],
        );
        assert!(!tool_named_edit(&two, &p), "the tool did not choose");
        let unnamed = finding(
            "cannot find type in this scope",
            &["1 + use std::collections::HashMap;"],
        );
        assert!(!tool_named_edit(&unnamed, &p));
    }

    #[test]
    fn anything_else_does_not() {
        let p = patch("print(nme)\n", "print(name)\n");
        // The tool names only the wrong one: the replacement is cars' guess.
        assert!(!tool_named_edit(
            &finding("name 'nme' is not defined", &[]),
            &p
        ));
        // A warning did not fail the build.
        let mut w = finding("'nme' ... did you mean 'name'?", &[]);
        w.level = Level::Warning;
        assert!(!tool_named_edit(&w, &p));
        let said = finding("'nme' ... did you mean 'name'?", &[]);
        // Two tokens changed, two lines changed, a line added.
        assert!(!tool_named_edit(
            &said,
            &patch("print(nme)\n", "echo(name)\n")
        ));
        assert!(!tool_named_edit(
            &said,
            &patch("nme\nnme\n", "name\nname\n")
        ));
        assert!(!tool_named_edit(&said, &patch("nme\n", "name\nx\n")));
        // Not an identifier.
        assert!(!tool_named_edit(
            &finding("'1' ... did you mean '2'?", &[]),
            &patch("x = 1\n", "x = 2\n")
        ));
    }
}
