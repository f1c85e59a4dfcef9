//! SARIF 2.1.0, as accepted by GitHub code scanning. Findings without a source
//! location point at the log lines they came from.

use super::Report;
use crate::rules::model::Level;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules: Vec<Value> = Vec::new();
    for f in &report.findings {
        if !rule_index.contains_key(f.rule.as_str()) {
            rule_index.insert(&f.rule, rules.len());
            rules.push(json!({
                "id": f.rule,
                "name": f.rule,
                "shortDescription": {"text": format!("{} ({})", f.rule, f.tool)},
                "properties": {"category": f.category, "tool": f.tool},
            }));
        }
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (uri, region) = match &f.location {
                Some(loc) => {
                    let mut region = serde_json::Map::new();
                    region.insert("startLine".into(), json!(loc.line.unwrap_or(1).max(1)));
                    if let Some(c) = loc.column {
                        region.insert("startColumn".into(), json!(c.max(1)));
                    }
                    (loc.file.clone(), Value::Object(region))
                }
                None => (
                    report.source.clone(),
                    json!({"startLine": f.log_lines.start.max(1), "endLine": f.log_lines.end.max(1)}),
                ),
            };
            json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule.as_str()],
                "level": match f.level { Level::Error => "error", Level::Warning => "warning" },
                "message": {"text": format!("{}\n{}", f.message, f.explanation)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": region,
                }}],
                "partialFingerprints": {"carsFingerprint/v1": f.fingerprint},
                "properties": {
                    "id": f.id, "rank": f.rank, "category": f.category,
                    "severity": f.severity, "confidence": f.confidence,
                    "logLines": f.log_lines, "step": f.step, "test": f.test,
                    "occurrences": f.occurrences,
                },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cars",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
