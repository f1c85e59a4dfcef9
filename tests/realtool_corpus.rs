//! The real-tool corpus (tests/realtool, made by scripts/realtool/generate.py) is well formed:
//! every case has a log, a label with the keys score.py and repair_eval.py read, category
//! names cars knows, and labelled files that exist in the case's project. How well cars does
//! on the corpus is measured by score.py, not asserted here.

use cars::rules::model::Category;
use serde_json::Value;
use std::path::{Path, PathBuf};

const ERROR_KEYS: &[&str] = &["tool", "category", "file", "message_contains", "fixable"];

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realtool");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/realtool exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The labelled errors of a case: the `errors` list, or the label itself for one error.
fn errors(label: &Value) -> Vec<&Value> {
    match label.get("errors") {
        Some(Value::Array(list)) => list.iter().collect(),
        _ => vec![label],
    }
}

fn check_error(case: &Path, e: &Value) -> Result<(), String> {
    for key in ERROR_KEYS {
        if e.get(key).is_none() {
            return Err(format!("missing key `{key}`"));
        }
    }
    let category = e["category"].as_str().ok_or("category is not a string")?;
    category.parse::<Category>()?;
    if !e["fixable"].is_boolean() {
        return Err("fixable is not a boolean".into());
    }
    if e["message_contains"].as_str().is_none() {
        return Err("message_contains is not a string".into());
    }
    if let Some(line) = e.get("line") {
        if line.as_u64().is_none_or(|n| n == 0) {
            return Err(format!("line {line} is not a positive number"));
        }
    }
    // `file` is null only where the log names no file of the project.
    if let Some(file) = e["file"].as_str() {
        if !case.join("project").join(file).is_file() {
            return Err(format!("labelled file {file} is not in project/"));
        }
    } else if !e["file"].is_null() {
        return Err("file is neither a path nor null".into());
    } else if e.get("line").is_some() {
        return Err("a line without a file".into());
    }
    Ok(())
}

#[test]
fn every_realtool_case_is_well_formed() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let log = std::fs::read_to_string(case.join("output.log")).unwrap_or_default();
        if log.trim().is_empty() {
            problems.push(format!("{name}: output.log is missing or empty"));
        }
        if !case.join("project").is_dir() {
            problems.push(format!("{name}: no project/"));
        }
        let label: Value = match std::fs::read_to_string(case.join("label.json"))
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{name}: label.json: {e}"));
                continue;
            }
        };
        if label["fix_check"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: no fix_check"));
        }
        for (i, e) in errors(&label).into_iter().enumerate() {
            if let Err(why) = check_error(case, e) {
                problems.push(format!("{name}: error {i}: {why}"));
            }
            if let Some(msg) = e["message_contains"].as_str() {
                if !log.contains(msg) {
                    problems.push(format!("{name}: error {i}: {msg:?} is not in output.log"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_corpus_covers_every_category_and_many_tools() {
    let mut categories = std::collections::BTreeSet::new();
    let mut tools = std::collections::BTreeSet::new();
    for case in cases() {
        let Ok(text) = std::fs::read_to_string(case.join("label.json")) else {
            continue;
        };
        let label: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        for e in errors(&label) {
            categories.extend(e["category"].as_str().map(str::to_owned));
            tools.extend(e["tool"].as_str().map(str::to_owned));
        }
    }
    let missing: Vec<&str> = Category::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !categories.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no case of category {missing:?}");
    assert!(tools.len() >= 25, "only {} tools: {tools:?}", tools.len());
}
