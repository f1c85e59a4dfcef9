//! Tool parsers for formats a line regex cannot express: Python tracebacks (the
//! innermost frame in the project, not in site-packages), cargo's and eslint's JSON
//! output.
//! A rule names its parser with `parser = "..."`.

use std::collections::BTreeMap;

/// What a block parser says about the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The line belongs to the block; more may follow.
    Absorb,
    /// The line belongs to the block and ends it.
    Last,
    /// The line does not belong to the block, which ended on the line before.
    Stop,
}

/// Running state of a block parser.
#[derive(Debug, Clone)]
pub enum BlockParser {
    PythonTraceback(Traceback),
}

impl BlockParser {
    pub fn start(name: &str) -> Option<BlockParser> {
        match name {
            "python-traceback" => Some(BlockParser::PythonTraceback(Traceback::default())),
            _ => None,
        }
    }

    pub fn feed(&mut self, line: &str, captures: &mut BTreeMap<String, String>) -> Next {
        match self {
            BlockParser::PythonTraceback(t) => t.feed(line, captures),
        }
    }
}

/// Applies a single-line parser at match time; returns false when the line turns out
/// not to be a diagnostic (e.g. a cargo JSON message that is not an error or warning).
pub fn parse_line(name: &str, line: &str, captures: &mut BTreeMap<String, String>) -> bool {
    match name {
        "cargo-json" => cargo_json(line, captures),
        "eslint-json" => eslint_json(line, captures),
        _ => true,
    }
}

#[derive(Debug, Clone, Default)]
pub struct Traceback {
    frames: Vec<(String, String)>,
}

fn is_library_path(path: &str) -> bool {
    path.contains("site-packages")
        || path.contains("dist-packages")
        || path.starts_with('<')
        || path.contains("/lib/python")
        || path.contains("\\lib\\python")
        || path.contains("/.pyenv/")
        || path.contains("/_pytest/")
        || path.contains("/unittest/")
}

impl Traceback {
    fn feed(&mut self, line: &str, captures: &mut BTreeMap<String, String>) -> Next {
        let trimmed = line.trim();
        if trimmed.is_empty()
            || trimmed.starts_with("During handling of the above exception")
            || trimmed.starts_with("The above exception was the direct cause")
            || trimmed.starts_with("Traceback (most recent call last)")
        {
            return Next::Absorb;
        }
        if let Some(rest) = trimmed.strip_prefix("File \"") {
            // File "app/models.py", line 12, in save
            if let Some((file, rest)) = rest.split_once('"') {
                let line_no: String = rest
                    .trim_start_matches(", line ")
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                self.frames.push((file.to_string(), line_no));
                self.locate(captures);
            }
            return Next::Absorb;
        }
        if line.starts_with(char::is_whitespace)
            || trimmed.starts_with('^')
            || trimmed.starts_with("...")
        {
            return Next::Absorb;
        }
        // The first unindented line is the exception: "ValueError: bad value".
        if looks_like_exception(trimmed) {
            captures.insert("message".into(), trimmed.to_string());
            let kind = trimmed.split(':').next().unwrap_or(trimmed);
            captures.insert(
                "code".into(),
                kind.rsplit('.').next().unwrap_or(kind).to_string(),
            );
            Next::Last
        } else {
            Next::Stop
        }
    }

    /// The innermost frame in project code, or the innermost frame when all are libraries.
    fn locate(&self, captures: &mut BTreeMap<String, String>) {
        let frame = self
            .frames
            .iter()
            .rev()
            .find(|(f, _)| !is_library_path(f))
            .or(self.frames.last());
        if let Some((file, line)) = frame {
            captures.insert("file".into(), file.clone());
            if !line.is_empty() {
                captures.insert("line".into(), line.clone());
            }
        }
    }
}

fn looks_like_exception(line: &str) -> bool {
    let head = line.split(':').next().unwrap_or("");
    !head.is_empty()
        && !head.contains(' ')
        && head.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn cargo_json(line: &str, captures: &mut BTreeMap<String, String>) -> bool {
    let Some(start) = line.find('{') else {
        return false;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&line[start..]) else {
        return false;
    };
    if value["reason"] != "compiler-message" {
        return false;
    }
    let msg = &value["message"];
    let level = msg["level"].as_str().unwrap_or("");
    if !matches!(level, "error" | "warning")
        || msg["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("aborting due to"))
    {
        return false;
    }
    captures.insert("level".into(), level.to_string());
    if let Some(m) = msg["message"].as_str() {
        captures.insert("message".into(), m.to_string());
    }
    if let Some(code) = msg["code"]["code"].as_str() {
        captures.insert("code".into(), code.to_string());
    }
    if let Some(target) = value["target"]["name"].as_str() {
        captures.insert("package".into(), target.to_string());
    }
    let spans = msg["spans"].as_array();
    let primary = spans.and_then(|s| s.iter().find(|s| s["is_primary"] == true));
    if let Some(span) = primary {
        if let Some(f) = span["file_name"].as_str() {
            captures.insert("file".into(), f.to_string());
        }
        if let Some(l) = span["line_start"].as_u64() {
            captures.insert("line".into(), l.to_string());
        }
        if let Some(c) = span["column_start"].as_u64() {
            captures.insert("column".into(), c.to_string());
        }
    }
    let suggestions = cargo_suggestions(msg);
    if !suggestions.is_empty() {
        captures.insert(
            "suggestions".into(),
            serde_json::Value::Array(suggestions).to_string(),
        );
    }
    true
}

/// eslint's `--format json`: one line, an array of files with their messages. The
/// first error (else the first warning) of the first file that has one is the finding.
fn eslint_json(line: &str, captures: &mut BTreeMap<String, String>) -> bool {
    let Some(start) = line.find('[') else {
        return false;
    };
    let Ok(serde_json::Value::Array(files)) = serde_json::from_str(&line[start..]) else {
        return false;
    };
    let messages = files.iter().flat_map(|f| {
        let path = f["filePath"].as_str();
        f["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(move |m| (path, m))
    });
    let severity = |m: &serde_json::Value| m["severity"].as_u64().unwrap_or(0);
    let Some((path, msg)) = messages
        .clone()
        .find(|(_, m)| severity(m) >= 2)
        .or_else(|| messages.clone().find(|(_, m)| severity(m) == 1))
    else {
        return false;
    };
    if let Some(p) = path {
        captures.insert("file".into(), p.to_string());
    }
    for (key, name) in [("line", "line"), ("column", "column")] {
        if let Some(n) = msg[key].as_u64() {
            captures.insert(name.into(), n.to_string());
        }
    }
    if let Some(code) = msg["ruleId"].as_str() {
        captures.insert("code".into(), code.to_string());
    }
    if let Some(m) = msg["message"].as_str() {
        captures.insert("message".into(), m.to_string());
    }
    if severity(msg) == 1 {
        captures.insert("level".into(), "warning".into());
    }
    true
}

/// The machine-readable fixes rustc attaches to a message's children: one entry per
/// child, `{"message", "applicability", "edits": [{file, line_start, column_start,
/// line_end, column_end, byte_start, byte_end, replacement}]}` (lines and columns
/// 1-based; bytes 0-based, end exclusive).
fn cargo_suggestions(msg: &serde_json::Value) -> Vec<serde_json::Value> {
    let Some(children) = msg["children"].as_array() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for child in children {
        let Some(spans) = child["spans"].as_array() else {
            continue;
        };
        let mut applicability = None;
        let edits: Vec<serde_json::Value> = spans
            .iter()
            .filter_map(|span| {
                let replacement = span["suggested_replacement"].as_str()?;
                applicability = applicability.or(span["suggestion_applicability"].as_str());
                Some(serde_json::json!({
                    "file": span["file_name"],
                    "line_start": span["line_start"],
                    "column_start": span["column_start"],
                    "line_end": span["line_end"],
                    "column_end": span["column_end"],
                    "byte_start": span["byte_start"],
                    "byte_end": span["byte_end"],
                    "replacement": replacement,
                    // rustc's copy of the source lines the span covers: an edit is
                    // only made when the file still reads the same.
                    "text": span["text"],
                }))
            })
            .collect();
        if !edits.is_empty() {
            out.push(serde_json::json!({
                "message": child["message"],
                "applicability": applicability.unwrap_or("Unspecified"),
                "edits": edits,
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parser_a_rule_may_name_is_implemented() {
        for name in crate::rules::model::PARSERS {
            let block = BlockParser::start(name).is_some();
            let line = !parse_line(name, "not json", &mut BTreeMap::new());
            assert!(block || line, "no parser `{name}`");
        }
    }

    #[test]
    fn traceback_points_at_the_innermost_project_frame() {
        let mut caps = BTreeMap::new();
        let mut p = BlockParser::start("python-traceback").unwrap();
        let lines = [
            "  File \"/app/src/app/main.py\", line 10, in <module>",
            "    run()",
            "  File \"/app/src/app/core.py\", line 42, in run",
            "    json.loads(x)",
            "  File \"/usr/lib/python3.11/json/__init__.py\", line 346, in loads",
            "    return _default_decoder.decode(s)",
            "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        ];
        let outcome: Vec<Next> = lines.iter().map(|l| p.feed(l, &mut caps)).collect();
        assert_eq!(outcome.last(), Some(&Next::Last));
        assert_eq!(caps["file"], "/app/src/app/core.py");
        assert_eq!(caps["line"], "42");
        assert_eq!(caps["code"], "JSONDecodeError");
    }

    #[test]
    fn eslint_json_gives_the_first_error_of_the_first_file_with_one() {
        // eslint 10 `-f json`, a run of mine: a warning-only file, then two errors.
        let line = r#"[{"filePath":"/p/ok.js","messages":[{"ruleId":"no-unused-vars","severity":1,"message":"'y' is assigned a value but never used.","line":1,"column":5}]},{"filePath":"/p/a.js","messages":[{"ruleId":"eqeqeq","severity":2,"message":"Expected '===' and instead saw '=='.","line":2,"column":7},{"ruleId":"no-eval","severity":2,"message":"`eval` can be harmful.","line":2,"column":15}],"errorCount":2}]"#;
        let mut caps = BTreeMap::new();
        assert!(parse_line("eslint-json", line, &mut caps));
        assert_eq!(caps["file"], "/p/a.js");
        assert_eq!((caps["line"].as_str(), caps["column"].as_str()), ("2", "7"));
        assert_eq!(caps["code"], "eqeqeq");
        assert!(!caps.contains_key("level"));
        let clean = r#"[{"filePath":"/p/a.js","messages":[],"errorCount":0}]"#;
        assert!(!parse_line("eslint-json", clean, &mut BTreeMap::new()));
    }

    #[test]
    fn cargo_json_messages_give_the_primary_span() {
        let line = r#"{"reason":"compiler-message","package_id":"x","target":{"name":"demo"},"message":{"message":"mismatched types","code":{"code":"E0308"},"level":"error","spans":[{"file_name":"src/main.rs","line_start":3,"column_start":18,"is_primary":true}],"rendered":"error[E0308]"}}"#;
        let mut caps = BTreeMap::new();
        assert!(parse_line("cargo-json", line, &mut caps));
        assert_eq!(caps["file"], "src/main.rs");
        assert_eq!(caps["line"], "3");
        assert_eq!(caps["code"], "E0308");
        let artifact = r#"{"reason":"compiler-artifact","target":{"name":"demo"}}"#;
        assert!(!parse_line("cargo-json", artifact, &mut BTreeMap::new()));
    }
}
