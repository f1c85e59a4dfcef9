//! Dependency manifests: Cargo.toml and pyproject.toml (format-preserving, with
//! toml_edit) and requirements.txt.

use super::*;

/// Splits a PEP 508 requirement into its name and the rest; None when it does not start with one.
fn split_requirement(req: &str) -> Option<(&str, &str)> {
    let req = req.trim();
    let end = req.find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)));
    let (name, rest) = req.split_at(end.unwrap_or(req.len()));
    let after = rest.trim_start();
    let rest_ok = after.is_empty() || after.starts_with(|c: char| "[;@<>=!~(".contains(c));
    (name.starts_with(|c: char| c.is_ascii_alphanumeric()) && rest_ok).then_some((name, rest))
}

/// PEP 503 normalised name of the requirement a line or array string holds, comments ignored.
fn listed_name(line: &str) -> Option<String> {
    let code = line.split(" #").next()?.split("\t#").next()?;
    let (name, _) = split_requirement(code)?;
    Some(PKG_SEP.replace_all(name, "-").to_lowercase())
}

fn checked_requirement(req: &str) -> Result<(&str, &str, String), EditError> {
    let split = split_requirement(req).filter(|_| !req.contains(['\n', '\r', '#']));
    let (name, rest) = split.ok_or_else(|| invalid("requirement", req))?;
    Ok((name, rest, PKG_SEP.replace_all(name, "-").to_lowercase()))
}

/// Cargo.toml: adds `name = "version"` to [dependencies] / [dev-dependencies], in sorted position
/// when the table is sorted; creates the table at the end when missing.
pub fn cargo_add_dependency(
    manifest: &str,
    name: &str,
    version: &str,
    kind: DepKind,
) -> Result<String, EditError> {
    let crate_name = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
    if name.is_empty() || !crate_name || version.trim().is_empty() || version.contains('\n') {
        return Err(invalid("dependency", &format!("{name} = {version}")));
    }
    let section = ["dependencies", "dev-dependencies"][kind as usize];
    with_lf(manifest, |text| {
        let mut doc: DocumentMut = text.parse().map_err(|e| parse_err("Cargo.toml", e))?;
        if !doc.contains_key("package") {
            return Err(refuse("Cargo.toml has no [package] (virtual manifest?)"));
        }
        if !doc.contains_key(section) {
            let mut table = Table::new();
            table.decor_mut().set_prefix("\n");
            doc.insert(section, Item::Table(table));
        }
        let Some(table) = doc[section].as_table_mut() else {
            return Err(refuse(format!("[{section}] is not a table")));
        };
        // crates.io treats `-` and `_` alike, and `package =` renames hide the real name.
        let same = |s: &str| s.replace('-', "_") == name.replace('-', "_");
        let renamed = |v: &Item| v.get("package").and_then(Item::as_str).is_some_and(same);
        if table.iter().any(|(k, v)| same(k) || renamed(v)) {
            return Err(present(name, format!("[{section}]")));
        }
        let keys: Vec<&str> = table.iter().map(|(k, _)| k).collect();
        let sorted = sorted_slot(&keys, name).is_some();
        // sort_values also sorts inside dotted keys, which would reorder untouched lines.
        let dotted = |v: &Item| v.as_table().is_some_and(Table::is_dotted);
        let sort = sorted && !table.iter().any(|(_, v)| dotted(v));
        table.insert(name, toml_edit::value(version));
        if sort {
            table.sort_values();
        }
        Ok(keep_eof(text, doc.to_string()))
    })
}

/// Looks a path up without creating it: `Item::get_mut` would insert the missing tables.
fn at_path<'a>(table: &'a mut Table, path: &[&str]) -> Option<&'a mut Item> {
    let (first, rest) = path.split_first()?;
    let start = table.get_mut(first)?;
    rest.iter()
        .try_fold(start, |it, key| it.as_table_like_mut()?.get_mut(key))
}

const POETRY: [&str; 3] = ["tool", "poetry", "dependencies"];

/// pyproject.toml: adds to PEP 621 `[project] dependencies`, else to Poetry's table.
pub fn pyproject_add_dependency(text: &str, requirement: &str) -> Result<String, EditError> {
    let (name, rest, norm) = checked_requirement(requirement)?;
    let req = requirement.trim();
    with_lf(text, |text| {
        let mut doc: DocumentMut = text.parse().map_err(|e| parse_err("pyproject.toml", e))?;
        let taken = |k: &str| listed_name(k).as_ref() == Some(&norm);
        let poetry = at_path(&mut doc, &POETRY).and_then(|i| i.as_table_like());
        if poetry.is_some_and(|t| t.iter().any(|(k, _)| taken(k))) {
            return Err(present(name, "[tool.poetry.dependencies]"));
        }
        if let Some(item) = at_path(&mut doc, &["project", "dependencies"]) {
            let Some(array) = item.as_array_mut() else {
                return Err(refuse("[project] dependencies is not an array"));
            };
            if array.iter().any(|v| v.as_str().is_some_and(taken)) {
                return Err(present(name, "[project] dependencies"));
            }
            push_like_last(array, req)?;
        } else if let Some(item) = at_path(&mut doc, &POETRY) {
            // Extras, markers and URLs need Poetry's inline-table form; not worth guessing.
            if rest.contains(['[', ';', '@', '(']) || norm == "python" {
                return Err(refuse(format!("`{req}` as a Poetry dependency")));
            }
            let Some(table) = item.as_table_like_mut() else {
                return Err(refuse("[tool.poetry.dependencies] is not a table"));
            };
            let spec: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
            let spec = if spec.is_empty() { "*".into() } else { spec };
            table.insert(name, toml_edit::value(spec));
        } else {
            let Some(project) = doc.get_mut("project").and_then(Item::as_table_mut) else {
                return Err(EditError::NotFound(
                    "[project] or Poetry dependencies".into(),
                ));
            };
            let dynamic = project.get("dynamic").and_then(Item::as_array);
            if dynamic.is_some_and(|d| d.iter().any(|v| v.as_str() == Some("dependencies"))) {
                return Err(refuse("[project] dependencies are dynamic"));
            }
            project.insert("dependencies", toml_edit::value(Array::from_iter([req])));
        }
        Ok(keep_eof(text, doc.to_string()))
    })
}

/// toml_edit always ends a document with a newline; a file without one keeps it that way.
fn keep_eof(text: &str, out: String) -> String {
    match out.strip_suffix('\n') {
        Some(cut) if !text.is_empty() && !text.ends_with('\n') => cut.to_string(),
        _ => out,
    }
}

fn raw(r: Option<&RawString>) -> String {
    r.and_then(RawString::as_str).unwrap_or("").to_string()
}

/// Appends to a TOML array in the layout of its last element: one per line stays one per line.
fn push_like_last(array: &mut Array, item: &str) -> Result<(), EditError> {
    // A comment before `]` annotates the last element; the new one must not slide under it.
    if raw(Some(array.trailing())).contains('#') {
        return Err(refuse("comment before the closing bracket"));
    }
    if array.is_empty() {
        array.set_trailing("");
    }
    let mut value = Value::from(item);
    if let Some(last) = array.iter_mut().last() {
        let (prefix, suffix) = (raw(last.decor().prefix()), raw(last.decor().suffix()));
        if suffix.contains('#') {
            return Err(refuse("comment after the last array element"));
        }
        // Without a trailing comma the newline before `]` is the last element's suffix: move it.
        last.decor_mut().set_suffix("");
        let indent = prefix.rfind('\n').map_or(" ", |p| &prefix[p..]);
        value = value.decorated(indent, suffix);
    }
    array.push_formatted(value);
    Ok(())
}

/// requirements.txt: adds a line, in sorted position when the requirements are sorted.
pub fn requirements_add(text: &str, requirement: &str) -> Result<String, EditError> {
    let (name, _, norm) = checked_requirement(requirement)?;
    with_lf(text, |text| {
        if text.contains("--hash") {
            return Err(refuse("hash-pinned: a new line would need a hash too"));
        }
        if text.lines().any(|l| l.trim_end().ends_with('\\')) {
            return Err(refuse("line continuations"));
        }
        let (mut lines, mut names, mut last) = (Vec::new(), Vec::new(), 0);
        for (i, line) in text.lines().enumerate() {
            if let Some(n) = listed_name(line).filter(|_| !line.trim_start().starts_with('-')) {
                lines.push(i);
                names.push(n);
            }
            if !line.trim().is_empty() {
                last = i + 1;
            }
        }
        if names.contains(&norm) {
            return Err(present(name, "requirements"));
        }
        let at = entry_line(&lines, sorted_slot(&names, &norm), last);
        Ok(insert_line(text, at, requirement.trim()))
    })
}
