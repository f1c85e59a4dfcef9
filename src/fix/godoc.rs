//! A misspelt member of an imported Go package (`undefined: fmt.Printn`): the
//! package's exported names come from `go doc -short PKG`, which reads the standard
//! library or the module cache (never the network: GOPROXY=off) and runs no project
//! code; the one name close to the typo becomes a patch at the approve gate. Depends
//! on `analyze`, `policy` and `exec`; never writes.

use super::{paths, template, FileChange, NoPatch, Patch, Strategy};
use crate::analyze::Finding;
use crate::policy::{Access, PathPolicy, Provenance};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

/// The patch for a Go finding `undefined: pkg.Member`; `Ok(vec![])` for any other.
pub fn propose(finding: &Finding, policy: &PathPolicy) -> Result<Vec<Patch>, NoPatch> {
    if finding.tool != "go" {
        return Ok(Vec::new());
    }
    let Some((pkg, member)) = undefined_member(&finding.message) else {
        return Ok(Vec::new());
    };
    let Some(loc) = finding.location.as_ref() else {
        return Ok(Vec::new());
    };
    let (Some(file), Some(line)) = (paths::resolve(policy, &loc.file), loc.line) else {
        return Ok(Vec::new());
    };
    let text = policy
        .read_text(&file)
        .map_err(|e| NoPatch(e.to_string()))?;
    let path = import_path(&text, pkg)
        .ok_or_else(|| NoPatch(format!("{file} imports no package named `{pkg}`")))?;
    let names = exported_names(policy, &path)?;
    let choices: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let new = template::closest_name(member, &choices.join(", ")).ok_or_else(|| {
        NoPatch(format!(
            "no single exported name of {path} (go doc) is close to `{member}`"
        ))
    })?;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let n = line as usize;
    let old_line = lines
        .get(n.wrapping_sub(1))
        .ok_or_else(|| NoPatch(format!("{file} has no line {n}")))?;
    let (from, to) = (format!("{pkg}.{member}"), format!("{pkg}.{new}"));
    if old_line.matches(&from).count() != 1 {
        return Err(NoPatch(format!("`{from}` is not once on {file}:{n}")));
    }
    let after: String = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == n {
                l.replacen(&from, &to, 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    let provenance = Provenance::Fixer {
        tool: "go doc".into(),
    };
    policy
        .check(&file, Access::Write(&provenance))
        .map_err(|e| NoPatch(e.to_string()))?;
    Ok(vec![Patch {
        finding: finding.id.clone(),
        rule: finding.rule.clone(),
        strategy: Strategy::SyntaxRepair,
        origin: format!("go doc {path}"),
        provenance,
        // Approve, never auto: the closest name is cars' guess, not the compiler's.
        confidence: 0.8,
        rationale: format!(
            "`{from}` is undefined; `{new}`, an exported name of {path} (`go doc -short {path}`), \
             is the one close to it"
        ),
        auto: false,
        files: vec![FileChange {
            path: file,
            before: Some(text.clone()),
            after,
            mode: None,
        }],
    }])
}

/// `undefined: fmt.Printn` -> ("fmt", "Printn").
fn undefined_member(message: &str) -> Option<(&str, &str)> {
    let rest = message.trim().strip_prefix("undefined: ")?;
    let (pkg, member) = rest.split_once('.')?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    (word(pkg) && word(member)).then_some((pkg, member))
}

/// The import path the file binds to `name`: `"fmt"`, `"net/http"` as `http`, or an
/// alias (`h "net/http"`).
fn import_path(text: &str, name: &str) -> Option<String> {
    let mut in_block = false;
    for line in text.lines() {
        let t = line.trim();
        let spec = if let Some(rest) = t.strip_prefix("import") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                rest.trim_start_matches('(').trim()
            } else {
                rest
            }
        } else if in_block {
            if t.starts_with(')') {
                in_block = false;
                continue;
            }
            t
        } else {
            continue;
        };
        let Some(open) = spec.find('"') else { continue };
        let Some(len) = spec[open + 1..].find('"') else {
            continue;
        };
        let path = &spec[open + 1..open + 1 + len];
        let alias = spec[..open].trim();
        let bound = if alias.is_empty() {
            path.rsplit('/').next().unwrap_or(path)
        } else {
            alias
        };
        if bound == name {
            return Some(path.to_string());
        }
    }
    None
}

/// The exported functions, types, variables and constants `go doc -short` lists.
fn exported_names(policy: &PathPolicy, path: &str) -> Result<Vec<String>, NoPatch> {
    if !path
        .chars()
        .all(|c| c.is_alphanumeric() || "/._-~".contains(c))
    {
        return Err(NoPatch(format!("`{path}` is not a plain import path")));
    }
    let mut out = Vec::new();
    let exit = crate::exec::run(
        &format!("go doc -short '{path}'"),
        policy.root(),
        &[
            ("GOPROXY".into(), "off".into()),
            ("GOFLAGS".into(), "-mod=readonly".into()),
            ("GOTOOLCHAIN".into(), "local".into()),
        ],
        Some(TIMEOUT),
        &mut |stream, line| {
            if stream == crate::exec::Stream::Stdout {
                out.push(String::from_utf8_lossy(line).into_owned());
            }
        },
    )
    .map_err(|e| NoPatch(format!("go doc: {e}")))?;
    if !exit.success {
        return Err(NoPatch(format!(
            "`go doc -short {path}` failed (is go installed, and the package in the module cache?)"
        )));
    }
    Ok(out.iter().filter_map(|l| declared_name(l)).collect())
}

/// `func Println(a ...any) (n int, err error)` -> `Println`; methods and unexported
/// names are left out.
fn declared_name(line: &str) -> Option<String> {
    let t = line.trim();
    let rest = ["func ", "type ", "var ", "const "]
        .iter()
        .find_map(|k| t.strip_prefix(k))?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    name.chars()
        .next()
        .is_some_and(char::is_uppercase)
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_member_the_import_and_the_names() {
        assert_eq!(
            undefined_member("undefined: fmt.Printn"),
            Some(("fmt", "Printn"))
        );
        assert_eq!(undefined_member("undefined: Doubel"), None);
        let src = "package main\n\nimport (\n\t\"fmt\"\n\th \"net/http\"\n\t\"path/filepath\"\n)\n";
        assert_eq!(import_path(src, "fmt").as_deref(), Some("fmt"));
        assert_eq!(import_path(src, "h").as_deref(), Some("net/http"));
        assert_eq!(
            import_path(src, "filepath").as_deref(),
            Some("path/filepath")
        );
        assert_eq!(import_path(src, "http"), None);
        assert_eq!(import_path("import \"os\"\n", "os").as_deref(), Some("os"));
        assert_eq!(
            declared_name("func Println(a ...any) (n int, err error)").as_deref(),
            Some("Println")
        );
        assert_eq!(
            declared_name("type Stringer interface{ ... }").as_deref(),
            Some("Stringer")
        );
        assert_eq!(declared_name("func (s *State) Write(b []byte)"), None);
        assert_eq!(declared_name("var errBad = 1"), None);
    }
}
