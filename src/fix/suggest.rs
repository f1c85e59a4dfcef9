//! Fixes the compiler printed itself: rustc/clippy `help:` suggestions in the human
//! format (`N - old` / `N + new` rows, or a row with `++++` markers under it) and the
//! `suggested_replacement` spans of cargo's JSON messages. The log is untrusted, so a
//! suggestion becomes a patch only when the log's own copy of the source matches the
//! file's current bytes, the edit is small, and the path policy lets the tool's
//! suggestion touch that file.

use super::caret::{self, LineEdit, Tabs};
use super::{paths, FileChange, NoPatch, Patch, Strategy};
use crate::analyze::Finding;
use crate::policy::{self, Access, PathPolicy, Provenance};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Patches from the suggestions the tool printed for `finding`.
pub fn from_tool(finding: &Finding, policy: &PathPolicy) -> Result<Vec<Patch>, NoPatch> {
    if let Some(json) = finding.captures.get("suggestions") {
        return from_cargo_json(finding, policy, json);
    }
    if matches!(finding.tool.as_str(), "rustc" | "clippy" | "cargo") {
        return from_rustc_text(finding, policy);
    }
    if matches!(
        finding.tool.as_str(),
        "gcc" | "g++" | "cc" | "clang" | "clang++"
    ) {
        let edits = caret::gcc_fixits(&finding.message, &finding.excerpt);
        if !edits.is_empty() {
            return from_caret(finding, policy, &edits, Tabs::Stop8);
        }
    }
    Err(NoPatch(format!(
        "{} printed no fix suggestion",
        finding.tool
    )))
}

#[derive(Debug, Deserialize)]
struct JsonSuggestion {
    message: Option<String>,
    applicability: String,
    edits: Vec<JsonEdit>,
}

#[derive(Debug, Deserialize)]
struct JsonEdit {
    file: String,
    line_start: usize,
    byte_start: usize,
    byte_end: usize,
    replacement: String,
    /// The source lines of the span as rustc read them.
    #[serde(default)]
    text: Option<Vec<SpanLine>>,
}

#[derive(Debug, Deserialize)]
struct SpanLine {
    text: String,
}

/// The provenance of a suggestion `finding`'s tool printed, and the file it may edit:
/// the policy's answer for a log-derived write, or why not.
fn writable(policy: &PathPolicy, finding: &Finding, rel: &str) -> Result<Provenance, String> {
    let provenance = Provenance::Log {
        tool: finding.tool.clone(),
    };
    policy
        .check(rel, Access::Write(&provenance))
        .map_err(|e| e.to_string())?;
    Ok(provenance)
}

/// A suggestion on a warning never runs unattended: the build did not fail on it.
fn auto_allowed(finding: &Finding, tool_says_auto: bool) -> bool {
    tool_says_auto && finding.level == crate::rules::model::Level::Error
}

/// Confidence and auto-eligibility by rustc's applicability.
fn applicability(a: &str) -> (f64, bool) {
    match a {
        "MachineApplicable" => (0.95, true),
        "MaybeIncorrect" => (0.8, false),
        "HasPlaceholders" => (0.5, false),
        _ => (0.7, false),
    }
}

fn from_cargo_json(
    finding: &Finding,
    policy: &PathPolicy,
    json: &str,
) -> Result<Vec<Patch>, NoPatch> {
    let suggestions: Vec<JsonSuggestion> = serde_json::from_str(json)
        .map_err(|e| NoPatch(format!("unreadable suggestion record: {e}")))?;
    let mut patches = Vec::new();
    let mut why = None;
    for s in suggestions {
        let mut by_file: BTreeMap<String, Vec<&JsonEdit>> = BTreeMap::new();
        for e in &s.edits {
            by_file.entry(e.file.clone()).or_default().push(e);
        }
        let mut files = Vec::new();
        for (file, mut edits) in by_file {
            let Some(rel) = paths::resolve(policy, &file) else {
                why = Some(format!("{file} is not a file in the project"));
                files.clear();
                break;
            };
            if let Err(reason) = writable(policy, finding, &rel) {
                why = Some(reason);
                files.clear();
                break;
            }
            let before = match policy.read_text(&rel) {
                Ok(text) => text,
                Err(e) => {
                    why = Some(e.to_string());
                    files.clear();
                    break;
                }
            };
            edits.sort_by_key(|e| std::cmp::Reverse(e.byte_start));
            let mut after = before.clone();
            let mut failed = None;
            let mut inserts_lines = false;
            for e in edits {
                let in_bounds = e.byte_start <= e.byte_end
                    && e.byte_end <= after.len()
                    && after.is_char_boundary(e.byte_start)
                    && after.is_char_boundary(e.byte_end);
                // The span must still start on the line the compiler saw, and the
                // lines the log quotes must be the file's lines there.
                if !in_bounds || line_of(&before, e.byte_start) != e.line_start {
                    failed = Some(format!("{rel} changed since the log was written"));
                    break;
                }
                if let Err(reason) = span_text_matches(&before, e) {
                    failed = Some(format!("{rel}: {reason}"));
                    break;
                }
                inserts_lines |= e.byte_start == e.byte_end && e.replacement.contains('\n');
                after.replace_range(e.byte_start..e.byte_end, &e.replacement);
            }
            if failed.is_none() {
                if let Err(reason) = policy::check_log_edit_size(&before, &after, inserts_lines) {
                    failed = Some(format!("{rel}: {reason}"));
                }
            }
            if let Some(reason) = failed {
                why = Some(reason);
                files.clear();
                break;
            }
            files.push(FileChange {
                path: rel,
                before: Some(before),
                after,
                mode: None,
            });
        }
        if files.is_empty() {
            continue;
        }
        let (confidence, auto) = applicability(&s.applicability);
        let help = s.message.unwrap_or_else(|| "apply the suggestion".into());
        patches.push(Patch {
            finding: finding.id.clone(),
            rule: finding.rule.clone(),
            strategy: strategy_for(finding),
            origin: format!(
                "{} suggestion ({})",
                finding.tool,
                policy::quote_log_text(&s.applicability)
            ),
            provenance: Provenance::Log {
                tool: finding.tool.clone(),
            },
            confidence,
            rationale: format!("{}: {}", finding.tool, policy::quote_log_text(&help)),
            auto: auto_allowed(finding, auto),
            files,
        });
    }
    if patches.is_empty() {
        return Err(NoPatch(why.unwrap_or_else(|| {
            format!("{} printed no applicable suggestion", finding.tool)
        })));
    }
    Ok(patches)
}

/// The log's copy of the span's lines against the file's: they must be the same.
fn span_text_matches(before: &str, e: &JsonEdit) -> Result<(), String> {
    let Some(lines) = e.text.as_ref().filter(|l| !l.is_empty()) else {
        return Err("the log does not quote the source the suggestion edits".into());
    };
    let file_lines: Vec<&str> = before.lines().collect();
    for (i, quoted) in lines.iter().enumerate() {
        let n = e.line_start - 1 + i;
        if file_lines.get(n).map(|l| l.trim_end_matches('\r')) != Some(quoted.text.as_str()) {
            return Err(format!("line {} does not read as the log quotes it", n + 1));
        }
    }
    Ok(())
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn strategy_for(finding: &Finding) -> Strategy {
    use crate::rules::model::Category;
    match finding.category {
        Category::Dependency => Strategy::DependencyFix,
        Category::Type => Strategy::ApiContractAdaptation,
        _ => Strategy::SyntaxRepair,
    }
}

/// One edit of a rustc human-format suggestion, in the numbering rustc prints.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    /// `N - text`: old line N goes.
    Delete(usize, String),
    /// `N + text`: a line that is line N of the new file.
    Insert(usize, String),
    /// `N | text` with `+`/`~` markers below (the marker row, when shown): line N
    /// now reads `text`.
    Replace(usize, String, Option<String>),
}

/// One alternative of a `help:` block: the file it edits and its edits.
#[derive(Debug, Clone, PartialEq)]
struct Alternative {
    help: String,
    file: Option<String>,
    ops: Vec<Op>,
}

/// A gutter row: `12 | text`, `12 + text`, `   | ^^^`, `  |`.
fn gutter(line: &str) -> Option<(Option<usize>, char, &str)> {
    let t = line.trim_start();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let num = if digits > 0 {
        t[..digits].parse().ok()
    } else {
        None
    };
    let rest = t[digits..].trim_start();
    let mark = rest.chars().next()?;
    if !matches!(mark, '|' | '+' | '-' | '~') {
        return None;
    }
    if num.is_none() && mark != '|' {
        return None;
    }
    let after = &rest[1..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((num, mark, after.strip_prefix(' ').unwrap_or(after)))
}

fn is_marker_row(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.chars().all(|c| matches!(c, '+' | '~' | '-' | ' ')) && t.contains(['+', '~'])
}

/// The suggestions of a human-format rustc diagnostic, in excerpt order.
fn parse_help_blocks(excerpt: &[String]) -> Vec<Alternative> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < excerpt.len() {
        let t = excerpt[i].trim_start();
        let Some(help) = t.strip_prefix("help:") else {
            i += 1;
            continue;
        };
        let help = help.trim().to_string();
        i += 1;
        let mut file = None;
        // An alternative ends at a bare gutter or at the end of the help block; one
        // the excerpt cap cut off is incomplete and dropped.
        let mut alt: Vec<Op> = Vec::new();
        let mut ended = false;
        while i < excerpt.len() {
            let line = &excerpt[i];
            let lt = line.trim_start();
            if let Some(loc) = lt.strip_prefix("--> ").or_else(|| lt.strip_prefix("::: ")) {
                file = loc.rsplitn(3, ':').nth(2).map(str::to_string);
                i += 1;
                continue;
            }
            if lt == "..." {
                i += 1;
                continue;
            }
            let Some((num, mark, text)) = gutter(line) else {
                ended = true;
                break;
            };
            match (num, mark) {
                (Some(n), '-') => alt.push(Op::Delete(n, text.to_string())),
                (Some(n), '+') => alt.push(Op::Insert(n, text.to_string())),
                (Some(n), '~') => alt.push(Op::Replace(n, text.to_string(), None)),
                (Some(n), '|') => {
                    let markers = excerpt
                        .get(i + 1)
                        .and_then(|next| gutter(next))
                        .filter(|(nn, m, t)| nn.is_none() && *m == '|' && is_marker_row(t))
                        .map(|(_, _, t)| t.to_string());
                    if let Some(markers) = markers {
                        alt.push(Op::Replace(n, text.to_string(), Some(markers)));
                        i += 1;
                    }
                }
                (None, '|') if text.trim().is_empty() && !alt.is_empty() => {
                    out.push(Alternative {
                        help: help.clone(),
                        file: file.clone(),
                        ops: std::mem::take(&mut alt),
                    });
                }
                _ => {}
            }
            i += 1;
        }
        if !alt.is_empty() && (ended || excerpt.len() < crate::analyze::MAX_EXCERPT) {
            out.push(Alternative {
                help,
                file,
                ops: alt,
            });
        }
    }
    out
}

/// Applies one alternative to `before`; `None` when the file does not read as shown.
fn apply_ops(before: &str, ops: &[Op]) -> Option<String> {
    let ending = if before.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let body = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let mut deletes = BTreeMap::new();
    let mut replaces = BTreeMap::new();
    let mut inserts = BTreeMap::new();
    for op in ops {
        match op {
            Op::Delete(n, t) => {
                let current = old.get(n.checked_sub(1)?)?;
                if expand_tabs(&body(current)).trim_end() != t.trim_end() {
                    return None;
                }
                deletes.insert(*n, ());
            }
            Op::Replace(n, t, _) => {
                let current = old.get(n.checked_sub(1)?)?;
                replaces.insert(*n, restore_tabs(&body(current), t));
            }
            Op::Insert(n, t) => {
                let reference = old.get(n.saturating_sub(1)).map(|l| body(l));
                let text = match reference {
                    Some(r) => restore_tabs(&r, t),
                    None => t.clone(),
                };
                if inserts.insert(*n, text).is_some() {
                    return None;
                }
            }
        }
    }
    let mut new: Vec<String> = Vec::with_capacity(old.len() + inserts.len());
    let mut flush = |new: &mut Vec<String>| {
        while let Some(text) = inserts.remove(&(new.len() + 1)) {
            new.push(format!("{text}{ending}"));
        }
    };
    for (idx, line) in old.iter().enumerate() {
        let n = idx + 1;
        flush(&mut new);
        if deletes.contains_key(&n) {
            continue;
        }
        match replaces.get(&n) {
            Some(text) => {
                let end = &line[line.trim_end_matches(['\n', '\r']).len()..];
                new.push(format!("{text}{end}"));
            }
            None => new.push(line.to_string()),
        }
    }
    flush(&mut new);
    if !inserts.is_empty() {
        return None;
    }
    let after = new.concat();
    (after != before).then_some(after)
}

/// rustc shows a tab as four spaces.
fn expand_tabs(s: &str) -> String {
    s.replace('\t', "    ")
}

/// Puts back the tab indentation of `original` that rustc's display turned to spaces.
fn restore_tabs(original: &str, shown: &str) -> String {
    let indent: String = original.chars().take_while(|c| c.is_whitespace()).collect();
    if !indent.contains('\t') {
        return shown.to_string();
    }
    let shown_indent_len = shown.len() - shown.trim_start().len();
    let expanded = expand_tabs(&indent);
    if shown_indent_len >= expanded.len() {
        let extra = &shown[expanded.len()..shown_indent_len];
        format!("{indent}{extra}{}", shown.trim_start())
    } else {
        shown.to_string()
    }
}

/// The source rows (`N | text`) of the diagnostic itself, before its first `help:`,
/// with the file they belong to: the log's copy of the source.
fn source_rows(excerpt: &[String]) -> Vec<(Option<String>, usize, String)> {
    let mut file = None;
    let mut out = Vec::new();
    for line in excerpt {
        let lt = line.trim_start();
        if lt.starts_with("help:") {
            break;
        }
        if let Some(loc) = lt.strip_prefix("--> ").or_else(|| lt.strip_prefix("::: ")) {
            file = loc.rsplitn(3, ':').nth(2).map(str::to_string);
            continue;
        }
        if let Some((Some(n), '|', text)) = gutter(line) {
            out.push((file.clone(), n, text.to_string()));
        }
    }
    out
}

/// Checks an alternative against the file: every source row the log shows for it
/// reads as the file does, a `+`-marked row is the current line plus the marked
/// characters, and at least one line of the file was checked this way.
fn verify_alternative(before: &str, rows: &[(usize, &str)], ops: &[Op]) -> Result<(), String> {
    let lines: Vec<&str> = before.lines().collect();
    let shown = |n: usize| {
        lines
            .get(n.wrapping_sub(1))
            .map(|l| expand_tabs(l.trim_end_matches('\r')).trim_end().to_string())
    };
    let mut checked = 0;
    for (n, text) in rows {
        if shown(*n).as_deref() != Some(text.trim_end()) {
            return Err(format!("line {n} does not read as the log shows it"));
        }
        checked += 1;
    }
    for op in ops {
        match op {
            // apply_ops compares deleted lines with the file.
            Op::Delete(..) => checked += 1,
            Op::Replace(n, new, Some(markers)) if !markers.contains(['~', '-']) => {
                let old: String = new
                    .chars()
                    .enumerate()
                    .filter(|(i, _)| markers.chars().nth(*i) != Some('+'))
                    .map(|(_, c)| c)
                    .collect();
                if shown(*n).as_deref() != Some(old.trim_end()) {
                    return Err(format!("line {n} is not the line the suggestion adds to"));
                }
                checked += 1;
            }
            _ => {}
        }
    }
    if checked == 0 {
        return Err("the log shows no source line to check the suggestion against".into());
    }
    Ok(())
}

/// rustc messages of span labels that its JSON marks MachineApplicable.
fn label_is_machine_applicable(help: &str) -> bool {
    (help.starts_with("add `") && help.ends_with("` here"))
        || help.starts_with("remove this `")
        || help == "remove this"
        || help.starts_with("if this is intentional, prefix it with an underscore: `")
}

/// Patches from one-line edits read off a caret (`caret`): each is checked against
/// the file's line as the log shows it, and must stay a small in-line change.
fn from_caret(
    finding: &Finding,
    policy: &PathPolicy,
    edits: &[LineEdit],
    tabs: Tabs,
) -> Result<Vec<Patch>, NoPatch> {
    let primary = finding.location.as_ref().map(|l| l.file.clone());
    let mut patches = Vec::new();
    let mut why = String::from("the suggested edit does not match the file any more");
    for edit in edits {
        let Some(file) = edit.file.clone().or_else(|| primary.clone()) else {
            why = "the diagnostic names no file".into();
            continue;
        };
        let Some(rel) = paths::resolve(policy, &file) else {
            why = format!("{file} is not a file in the project");
            continue;
        };
        let made = writable(policy, finding, &rel).and_then(|provenance| {
            let before = policy.read_text(&rel).map_err(|e| e.to_string())?;
            let line = before
                .lines()
                .nth(edit.line.wrapping_sub(1))
                .ok_or_else(|| format!("{rel} has no line {}", edit.line))?;
            let new = caret::apply(line.trim_end_matches('\r'), edit, tabs)?;
            let after = replace_line(&before, edit.line, &new);
            policy::check_log_edit_size(&before, &after, false)?;
            Ok((provenance, before, after))
        });
        let (provenance, before, after) = match made {
            Ok(m) => m,
            Err(reason) => {
                why = format!("{rel}: {reason}");
                continue;
            }
        };
        let sure = tabs == Tabs::Four && label_is_machine_applicable(&edit.help);
        let (confidence, auto) = if sure && edits.len() == 1 {
            (0.9, auto_allowed(finding, true))
        } else {
            (0.8, false)
        };
        patches.push(Patch {
            finding: finding.id.clone(),
            rule: finding.rule.clone(),
            strategy: strategy_for(finding),
            origin: format!("{} suggestion", finding.tool),
            provenance,
            confidence,
            rationale: format!("{}: {}", finding.tool, policy::quote_log_text(&edit.help)),
            auto,
            files: vec![FileChange {
                path: rel,
                before: Some(before),
                after,
                mode: None,
            }],
        });
    }
    if patches.is_empty() {
        return Err(NoPatch(why));
    }
    Ok(patches)
}

/// `text` with its 1-based line `n` replaced by `new`, keeping the line's ending.
fn replace_line(text: &str, n: usize, new: &str) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if i + 1 == n {
                let body = line.trim_end_matches(['\n', '\r']);
                format!("{new}{}", &line[body.len()..])
            } else {
                line.to_string()
            }
        })
        .collect()
}

fn from_rustc_text(finding: &Finding, policy: &PathPolicy) -> Result<Vec<Patch>, NoPatch> {
    let alternatives = parse_help_blocks(&finding.excerpt);
    let labels = caret::rustc_labels(&finding.excerpt);
    if alternatives.is_empty() {
        if !labels.is_empty() {
            return from_caret(finding, policy, &labels, Tabs::Four);
        }
        return Err(NoPatch(format!(
            "{} printed no code suggestion for this diagnostic",
            finding.tool
        )));
    }
    let primary = finding.location.as_ref().map(|l| l.file.clone());
    let rows = source_rows(&finding.excerpt);
    let several = alternatives.len() > 1;
    let mut patches = Vec::new();
    let mut why = String::from("the suggested edit does not match the file any more");
    for alt in &alternatives {
        let Some(file) = alt.file.clone().or_else(|| primary.clone()) else {
            why = "the diagnostic names no file".into();
            continue;
        };
        let Some(rel) = paths::resolve(policy, &file) else {
            why = format!("{file} is not a file in the project");
            continue;
        };
        let provenance = match writable(policy, finding, &rel) {
            Ok(p) => p,
            Err(reason) => {
                why = reason;
                continue;
            }
        };
        let before = match policy.read_text(&rel) {
            Ok(t) => t,
            Err(e) => {
                why = e.to_string();
                continue;
            }
        };
        let own_rows: Vec<(usize, &str)> = rows
            .iter()
            .filter(|(f, _, _)| {
                f.as_deref()
                    .or(primary.as_deref())
                    .and_then(|f| paths::resolve(policy, f))
                    .as_deref()
                    == Some(rel.as_str())
            })
            .map(|(_, n, t)| (*n, t.as_str()))
            .collect();
        if let Err(reason) = verify_alternative(&before, &own_rows, &alt.ops) {
            why = format!("{rel}: {reason}");
            continue;
        }
        let Some(after) = apply_ops(&before, &alt.ops) else {
            continue;
        };
        let count = |insert: bool| {
            alt.ops
                .iter()
                .filter(|o| matches!(o, Op::Insert(..)) == insert && !matches!(o, Op::Replace(..)))
                .count()
        };
        if let Err(reason) =
            policy::check_log_edit_size(&before, &after, count(true) != count(false))
        {
            why = format!("{rel}: {reason}");
            continue;
        }
        // rustc's text output does not say how sure it is; one alternative reads as a
        // "maybe incorrect" fix, a choice among several needs a human.
        let (confidence, auto) = if several { (0.65, false) } else { (0.8, false) };
        patches.push(Patch {
            finding: finding.id.clone(),
            rule: finding.rule.clone(),
            strategy: strategy_for(finding),
            origin: format!("{} suggestion", finding.tool),
            provenance,
            confidence,
            rationale: format!("{}: {}", finding.tool, policy::quote_log_text(&alt.help)),
            auto,
            files: vec![FileChange {
                path: rel,
                before: Some(before),
                after,
                mode: None,
            }],
        });
    }
    if !labels.is_empty() {
        if let Ok(mut more) = from_caret(finding, policy, &labels, Tabs::Four) {
            patches.append(&mut more);
        }
    }
    if patches.is_empty() {
        return Err(NoPatch(why));
    }
    Ok(patches)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn minus_plus_rows_replace_a_line() {
        let excerpt = lines(
            "error[E0425]: cannot find value `coutn` in this scope
 --> src/main.rs:6:20
  |
6 |     println!(\"{}\", coutn);
  |                    ^^^^^
  |
help: a local variable with a similar name exists
  |
6 -     println!(\"{}\", coutn);
6 +     println!(\"{}\", count);
  |",
        );
        let alts = parse_help_blocks(&excerpt);
        assert_eq!(alts.len(), 1);
        let src = "fn main() {\n    let count = 3;\n\n\n\n    println!(\"{}\", coutn);\n}\n";
        let out = apply_ops(src, &alts[0].ops).unwrap();
        assert_eq!(
            out,
            "fn main() {\n    let count = 3;\n\n\n\n    println!(\"{}\", count);\n}\n"
        );
        // The file no longer reads as the log shows: no patch.
        assert_eq!(
            apply_ops(&src.replace("coutn", "other"), &alts[0].ops),
            None
        );
    }

    #[test]
    fn marker_rows_and_insertions() {
        let excerpt = lines(
            "help: try using a conversion method
   |
10 |     let s: String = \"abc\".to_string();
   |                          ++++++++++++
help: consider importing this struct
  |
1 + use std::collections::HashMap;
  |",
        );
        let alts = parse_help_blocks(&excerpt);
        assert_eq!(alts.len(), 2, "{alts:?}");
        assert_eq!(
            alts[0].ops,
            vec![Op::Replace(
                10,
                "    let s: String = \"abc\".to_string();".into(),
                Some("                         ++++++++++++".into())
            )]
        );
        let src = "fn main() {}\r\n";
        assert_eq!(
            apply_ops(src, &alts[1].ops).unwrap(),
            "use std::collections::HashMap;\r\nfn main() {}\r\n"
        );
    }

    #[test]
    fn several_import_alternatives_are_separate() {
        let excerpt = lines(
            "help: consider importing one of these items
  |
1 + use std::fmt::Result;
  |
1 + use std::io::Result;
  |",
        );
        assert_eq!(parse_help_blocks(&excerpt).len(), 2);
    }

    #[test]
    fn tab_indented_files_keep_their_tabs() {
        let ops = vec![
            Op::Delete(2, "    foo(x);".into()),
            Op::Insert(2, "    foo(&x);".into()),
        ];
        assert_eq!(
            apply_ops("fn a() {\n\tfoo(x);\n}\n", &ops).unwrap(),
            "fn a() {\n\tfoo(&x);\n}\n"
        );
    }
}
