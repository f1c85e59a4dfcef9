//! SARIF 2.1.0, as GitHub code scanning ingests it (checked against the official
//! validator, `sarif-multitool validate --rule-kind "Gh;Sarif"`, by `tests/sarif.rs`).
//! Source paths are relative to the project. Findings without a source location
//! (a failed step, a summary line) get no physical location: the log is not source.

use super::{md, Report};
use crate::analyze::{Finding, Location};
use crate::rules::model::Level;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Where cars is documented: `repository` in Cargo.toml. None is set yet, and no
/// address is made up: without it the driver has no `informationUri`.
const PROJECT_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// What SARIF says about a rule: the built-in rule's own explanation when it is one,
/// else the explanation of its first finding.
struct RuleDoc {
    explanation: String,
    /// The pattern file of a built-in rule.
    file: Option<&'static str>,
}

/// The explanations of the built-in rules, placeholders shown as `<name>`.
fn builtin_docs() -> BTreeMap<String, RuleDoc> {
    let mut docs = BTreeMap::new();
    for (file, text) in crate::rules::builtin_files() {
        let Ok(specs) = crate::rules::parse_rules(file, text) else {
            continue;
        };
        for spec in specs {
            let explanation = crate::rules::render_explanation(&spec.explanation, &|name| {
                Some(format!("<{name}>"))
            });
            let file = Some(*file);
            docs.insert(spec.id, RuleDoc { explanation, file });
        }
    }
    docs
}

/// `rust.could-not-compile` -> `RustCouldNotCompile`: a readable name that is not the id.
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A title for the rule: the explanation's opening words when they are short and
/// general (`Type mismatch`), else what the tool and category say.
fn short_description(doc: &str, f: &Finding) -> String {
    let head = doc.split([':', '.', '(', ';']).next().unwrap_or("").trim();
    if !head.is_empty() && head.len() <= 60 && !head.contains('<') {
        head.to_string()
    } else {
        format!("{} {} error", f.tool, f.category)
    }
}

fn descriptor(f: &Finding, doc: Option<&RuleDoc>) -> Value {
    let explanation = doc.map_or(f.explanation.as_str(), |d| d.explanation.as_str());
    let help_uri = doc
        .and_then(|d| d.file)
        .filter(|_| !PROJECT_URI.is_empty())
        .map(|file| format!("{PROJECT_URI}/blob/main/patterns/{file}"));
    let mut help_text = explanation.to_string();
    let mut help_markdown = md::inline(explanation);
    if let Some(uri) = &help_uri {
        help_text.push_str(&format!("\n\nRule definition: {uri}"));
        help_markdown.push_str(&format!("\n\n[Rule definition]({uri})"));
    }
    let mut rule = json!({
        "id": f.rule,
        "name": rule_name(&f.rule),
        "shortDescription": {"text": short_description(explanation, f)},
        "fullDescription": {"text": explanation},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": level(f.level)},
        "properties": {"category": f.category, "tool": f.tool, "tags": [f.category, f.tool]},
    });
    if let Some(uri) = help_uri {
        rule["helpUri"] = json!(uri);
    }
    rule
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
    }
}

/// A relative path as a URI reference: `/`-separated, reserved bytes percent-encoded.
/// An absolute path (outside the project) becomes a `file:` URI.
fn uri_of(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    match out.as_bytes() {
        [b'/', ..] => format!("file://{out}"),
        [d, b':', b'/', ..] if d.is_ascii_alphabetic() => format!("file:///{out}"),
        _ => out,
    }
}

/// A file and line in the project.
fn source_location(report: &Report, loc: &Location) -> Value {
    let mut region = serde_json::Map::new();
    region.insert("startLine".into(), json!(loc.line.unwrap_or(1).max(1)));
    if let Some(c) = loc.column {
        region.insert("startColumn".into(), json!(c.max(1)));
    }
    json!({"physicalLocation": {
        "artifactLocation": {"uri": uri_of(&report.paths.show(&loc.file))},
        "region": region,
    }})
}

/// A finding with no source location (a failed step, a summary line): named by its
/// step and log lines as a logical location. The log is not a file of the repository,
/// so it is never given as a physical location.
fn log_location(report: &Report, f: &Finding) -> Value {
    let lines = format!("{}-{}", f.log_lines.start, f.log_lines.end);
    let (name, where_) = match &f.step {
        Some(step) => (step.clone(), format!("step `{step}`, ")),
        None => (report.source.clone(), String::new()),
    };
    json!({
        "logicalLocations": [{
            "name": name,
            "fullyQualifiedName": format!("{}:{lines}", report.source),
            "kind": "resource",
        }],
        "message": {"text": format!("{where_}log lines {lines} of {}", report.source)},
    })
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let docs = builtin_docs();
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    for f in &report.findings {
        if !rule_index.contains_key(f.rule.as_str()) {
            rule_index.insert(&f.rule, rules.len());
            rules.push(descriptor(f, docs.get(&f.rule)));
        }
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let location = match &f.location {
                Some(loc) => source_location(report, loc),
                None => log_location(report, f),
            };
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule.as_str()],
                "level": level(f.level),
                "message": {"text": format!("{}\n{}", f.message, report.explanation(f))},
                "locations": [location],
                "partialFingerprints": {"carsFingerprint/v1": f.fingerprint},
                "properties": {
                    "id": f.id, "rank": f.rank, "category": f.category,
                    "severity": f.severity, "confidence": f.confidence,
                    "logLines": f.log_lines, "step": f.step, "test": f.test,
                    "occurrences": f.occurrences,
                },
            });
            if let Some(flaky) = &f.flaky {
                result["properties"]["flaky"] = json!(flaky);
            }
            result
        })
        .collect();
    let mut driver = json!({
        "name": "cars",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if !PROJECT_URI.is_empty() {
        driver["informationUri"] = json!(format!("{PROJECT_URI}#readme"));
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_differ_from_their_ids() {
        assert_eq!(rule_name("rust.E0425"), "RustE0425");
        assert_eq!(rule_name("rust.could-not-compile"), "RustCouldNotCompile");
        assert_eq!(rule_name("ci.gha-exit-code"), "CiGhaExitCode");
    }

    #[test]
    fn uris_are_relative_or_file_uris() {
        assert_eq!(uri_of("src/main.rs"), "src/main.rs");
        assert_eq!(uri_of("src/my file%.rs"), "src/my%20file%25.rs");
        assert_eq!(uri_of("/usr/lib/x.py"), "file:///usr/lib/x.py");
        assert_eq!(uri_of("C:\\x\\y.cs"), "file:///C:/x/y.cs");
    }

    #[test]
    fn every_builtin_rule_has_an_explanation_for_sarif() {
        let docs = builtin_docs();
        assert!(docs.len() > 50, "{} built-in rules", docs.len());
        let e0308 = &docs["rust.E0308"];
        assert!(e0308.explanation.starts_with("Type mismatch (<message>)"));
        assert_eq!(e0308.file, Some("rust.toml"));
    }
}
