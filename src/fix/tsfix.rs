//! TypeScript's language-service code fixes (did-you-mean, unused declarations,
//! missing imports...) as a patch source for tsc findings. A small Node script
//! (`tsfix.js`) loads the project's own `typescript` package, else the global one,
//! and prints the fixes' text changes; cars applies them to the file it reads itself,
//! after checking it is the text the service saw. Depends on `analyze`, `policy` and
//! `exec` (through the fixers' helpers); never prints.

use super::fixer::{command_runs, is_executable, Delegation};
use super::{paths, FileChange, NoPatch, Patch, Strategy};
use crate::analyze::Finding;
use crate::policy::{Access, PathPolicy, Provenance};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SCRIPT: &str = include_str!("tsfix.js");
/// Loading a project's types can take a while; a fix that takes longer is not worth it.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Commands that already run the project's `typescript` package.
const ALLOWED_BY: &[&str] = &["tsc", "npm", "npx", "yarn", "pnpm"];
const EXTENSIONS: &[&str] = &["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"];
/// The service's fixes offered per finding: its first only; the later ones (an index
/// signature for a misspelt property) are rarely what the author meant.
const MAX_FIXES: usize = 1;

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    version: String,
    #[serde(default)]
    fixes: Vec<Fix>,
}

#[derive(Deserialize)]
struct Fix {
    name: String,
    description: String,
    changes: Vec<FileEdits>,
}

#[derive(Deserialize)]
struct FileEdits {
    file: String,
    /// The text the service saw (`None`: it did not read the file).
    text: Option<String>,
    edits: Vec<Utf16Edit>,
}

/// A replacement of `length` UTF-16 units at UTF-16 offset `start` (as JavaScript
/// tools count: TypeScript's edits, ESLint's ranges).
#[derive(Deserialize)]
pub(super) struct Utf16Edit {
    pub start: usize,
    pub length: usize,
    pub text: String,
}

/// Patches from TypeScript's code fixes for a tsc finding: `Ok(vec![])` for any other
/// finding, `Err` with the reason when the service could not be asked or had none.
pub fn propose(
    finding: &Finding,
    policy: &PathPolicy,
    delegation: &Delegation,
) -> Result<Vec<Patch>, NoPatch> {
    if finding.tool != "tsc" || !finding.rule.starts_with("tsc.") {
        return Ok(Vec::new());
    }
    let code = finding.captures.get("code").map(String::as_str);
    let Some(code) = code.filter(|c| c.len() <= 8 && c.strip_prefix("TS").is_some_and(digits))
    else {
        return Ok(Vec::new());
    };
    let Some(loc) = finding.location.as_ref() else {
        return Ok(Vec::new());
    };
    let (Some(line), Some(column)) = (loc.line, loc.column) else {
        return Ok(Vec::new());
    };
    let Some(file) = paths::resolve(policy, &loc.file) else {
        return Ok(Vec::new());
    };
    let ext = Path::new(&file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    if !EXTENSIONS.contains(&ext) {
        return Ok(Vec::new());
    }
    let answer = ask(policy, delegation, &file, line, column, code).map_err(NoPatch)?;
    if let Some(error) = answer.error {
        return Err(NoPatch(format!(
            "typescript code fixes: {}",
            crate::policy::quote_log_text(&error)
        )));
    }
    let provenance = Provenance::Fixer {
        tool: "typescript".into(),
    };
    let mut patches = Vec::new();
    let mut reasons = Vec::new();
    for fix in answer.fixes.iter() {
        if patches.len() == MAX_FIXES {
            break;
        }
        match files(fix, policy, &provenance) {
            Ok(files) => {
                let description = crate::policy::quote_log_text(&fix.description);
                patches.push(Patch {
                    finding: finding.id.clone(),
                    rule: finding.rule.clone(),
                    strategy: Strategy::SyntaxRepair,
                    origin: format!("typescript {} code fix `{}`", answer.version, fix.name),
                    provenance: provenance.clone(),
                    // Approve, never auto: the service proposes, it does not vouch
                    // that the fix is what the author meant.
                    confidence: 0.85 - 0.03 * patches.len() as f64,
                    rationale: format!(
                        "TypeScript's language service for {code} at {file}:{line}:{column}: \
                         {description}"
                    ),
                    auto: false,
                    files,
                });
            }
            Err(reason) => reasons.push(reason),
        }
    }
    if patches.is_empty() {
        let why = reasons.first().cloned().unwrap_or_else(|| {
            format!(
                "typescript {} has no code fix for {code} at {file}:{line}:{column}",
                answer.version
            )
        });
        return Err(NoPatch(why));
    }
    Ok(patches)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The fix's changes applied to the files as cars reads them now.
fn files(
    fix: &Fix,
    policy: &PathPolicy,
    provenance: &Provenance,
) -> Result<Vec<FileChange>, String> {
    let mut out = Vec::new();
    for change in &fix.changes {
        let file = &change.file;
        policy
            .check(file, Access::Write(provenance))
            .map_err(|e| e.to_string())?;
        let before = policy.read_text(file).map_err(|e| e.to_string())?;
        if change.text.as_deref() != Some(before.as_str()) {
            return Err(format!(
                "{file} is not the text TypeScript's language service read"
            ));
        }
        let after = apply_utf16(&before, &change.edits)
            .ok_or_else(|| format!("TypeScript's edits do not fit {file}"))?;
        if after != before {
            out.push(FileChange {
                path: file.clone(),
                before: Some(before),
                after,
                mode: None,
            });
        }
    }
    if out.is_empty() {
        return Err(format!("the code fix `{}` changes nothing", fix.name));
    }
    Ok(out)
}

/// `text` with `edits` (UTF-16 offsets into `text`, as TypeScript counts) made;
/// `None` when one lies outside the text, splits a character or overlaps another.
pub(super) fn apply_utf16(text: &str, edits: &[Utf16Edit]) -> Option<String> {
    let byte_at = |unit: usize| -> Option<usize> {
        let mut units = 0;
        for (i, c) in text.char_indices() {
            if units == unit {
                return Some(i);
            }
            if units > unit {
                return None;
            }
            units += c.len_utf16();
        }
        (units == unit).then_some(text.len())
    };
    let mut spans = edits
        .iter()
        .map(|e| {
            Some((
                byte_at(e.start)?,
                byte_at(e.start.checked_add(e.length)?)?,
                &e.text,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    spans.sort_by_key(|s| (s.0, s.1));
    if spans.windows(2).any(|w| w[0].1 > w[1].0) {
        return None;
    }
    let mut out = text.to_string();
    for (start, end, new) in spans.iter().rev() {
        out.replace_range(*start..*end, new);
    }
    Some(out)
}

/// Where `typescript` is: the project's own package (`true`: loading it runs the
/// project's code), else the global install.
fn locate(policy: &PathPolicy) -> Result<(PathBuf, bool), String> {
    if let Ok(path) = policy.check("node_modules/typescript/package.json", Access::Read) {
        if let Some(dir) = path.parent() {
            return Ok((dir.to_path_buf(), true));
        }
    }
    let mut root = String::new();
    let npm_root = crate::exec::run(
        "npm root -g",
        policy.root(),
        &[],
        Some(Duration::from_secs(20)),
        &mut |stream, line| {
            if stream == crate::exec::Stream::Stdout {
                root = String::from_utf8_lossy(line).trim().to_string();
            }
        },
    );
    match npm_root {
        Ok(exit) if exit.success && !root.is_empty() => {
            let dir = PathBuf::from(root).join("typescript");
            if dir.join("lib/typescript.js").is_file() {
                Ok((dir, false))
            } else if dir.is_dir() {
                Err(format!(
                    "the global typescript ({}) has no JavaScript language-service API \
                     (typescript 7 is native); add typescript@5 to the project's devDependencies",
                    dir.display()
                ))
            } else {
                Err("typescript is not installed (neither in node_modules nor globally)".into())
            }
        }
        _ => Err("typescript is not in node_modules and npm is not installed".into()),
    }
}

fn ask(
    policy: &PathPolicy,
    delegation: &Delegation,
    file: &str,
    line: u64,
    column: u64,
    code: &str,
) -> Result<Answer, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let node = std::env::split_paths(&path)
        .map(|dir| dir.join("node"))
        .find(|p| is_executable(p))
        .ok_or("typescript code fixes need node, which is not installed")?;
    let (typescript, project_code) = locate(policy)?;
    let allowed: Vec<String> = ALLOWED_BY.iter().map(|s| s.to_string()).collect();
    if project_code && !delegation.trusted && !command_runs(delegation.command.as_deref(), &allowed)
    {
        return Err(
            "typescript code fixes load the project's own node_modules/typescript; allow it \
             with `cars trust`, or analyze a run of the command that already runs it \
             (`cars analyze LOG --command 'tsc ...'`)"
                .into(),
        );
    }
    let scratch = tempfile::Builder::new()
        .prefix("cars-tsfix-")
        .tempdir()
        .map_err(|e| format!("no scratch directory: {e}"))?;
    let script = scratch.path().join("tsfix.js");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("writing the tsfix script: {e}"))?;
    let q = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let lossy = |p: &Path| p.to_string_lossy().into_owned();
    let command = [
        q(&lossy(&node)),
        q(&lossy(&script)),
        q(&lossy(&typescript)),
        q(&lossy(policy.root())),
        q(file),
        line.to_string(),
        column.to_string(),
        q(code),
        q(delegation.command.as_deref().unwrap_or("")),
    ]
    .join(" ");
    let mut stdout = Vec::new();
    let exit = crate::exec::run(
        &command,
        scratch.path(),
        &[("NO_COLOR".into(), "1".into())],
        Some(TIMEOUT),
        &mut |stream, line| {
            if stream == crate::exec::Stream::Stdout {
                stdout = line.to_vec();
            }
        },
    )
    .map_err(|e| format!("could not run node: {e}"))?;
    if exit.timed_out {
        return Err(format!(
            "typescript code fixes timed out after {}s",
            TIMEOUT.as_secs()
        ));
    }
    serde_json::from_slice(&stdout).map_err(|_| {
        format!(
            "typescript code fixes gave no answer (exit {})",
            exit.code.map_or("by signal".into(), |c| c.to_string())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, length: usize, text: &str) -> Utf16Edit {
        Utf16Edit {
            start,
            length,
            text: text.into(),
        }
    }

    #[test]
    fn utf16_offsets_map_past_wide_characters() {
        // "é" is one UTF-16 unit and two bytes; "😀" two units and four bytes.
        let text = "const é = '😀'; valeu;";
        let at = "const é = '😀'; ".encode_utf16().count();
        assert_eq!(
            apply_utf16(text, &[edit(at, 5, "value")]).unwrap(),
            "const é = '😀'; value;"
        );
        // Inside the surrogate pair of the emoji: refused.
        assert_eq!(apply_utf16(text, &[edit(12, 1, "")]), None);
        assert_eq!(apply_utf16(text, &[edit(1, 2, ""), edit(2, 1, "")]), None);
        assert_eq!(
            apply_utf16("ab", &[edit(2, 0, "c"), edit(0, 1, "")]).unwrap(),
            "bc"
        );
        assert_eq!(apply_utf16("ab", &[edit(3, 0, "c")]), None);
    }
}
