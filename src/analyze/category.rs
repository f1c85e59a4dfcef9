//! Category tables: what kind of problem a finding is, from its tool, its diagnostic
//! code and its message, as data (`categories/*.toml`, embedded by build.rs). A rule
//! only gives the default: rustc's one `error:` rule sees syntax errors, missing
//! crates and denied lints alike, and a test failure is decided by the error inside
//! it. Depends on `rules::model` only.

use crate::rules::model::Category;
use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use std::sync::OnceLock;

/// The category table files compiled into the binary, as `(file name, contents)`.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/builtin_categories.rs"))
}

/// What is wrong with a category table file; names the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{file}: invalid TOML: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: entry {index} ({why}): invalid regex in `{field}`: {message}")]
    Regex {
        file: String,
        index: usize,
        why: String,
        field: &'static str,
        message: String,
    },
    #[error("{file}: entry {index} ({why}): {reason}")]
    Invalid {
        file: String,
        index: usize,
        why: String,
        reason: String,
    },
}

/// One table file: the tools it speaks for and its entries, first match wins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Rule `tool` names whose findings this table classifies; `"*"` is every tool
    /// (tried after the tool's own tables).
    pub tools: Vec<String>,
    #[serde(rename = "entry")]
    pub entries: Vec<EntrySpec>,
}

/// One row: every condition given must hold. At least one of `code`, `message`,
/// `text` is required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    pub category: Category,
    /// Why this category, in a few words; reported with the finding.
    pub why: String,
    /// A regex the whole `code` capture must match (`E0432`, `TS1\d{3}`, `S\d+`).
    #[serde(default)]
    pub code: Option<String>,
    /// A regex searched in the finding's message.
    #[serde(default)]
    pub message: Option<String>,
    /// A regex searched in the finding's message and in each of its log lines (the
    /// excerpt is cut at a few dozen lines; the message often holds the error line).
    #[serde(default)]
    pub text: Option<String>,
    /// The entry only replaces these rule categories (empty: any). Message tables use
    /// it so that an error inside a test decides the test's category, while a type
    /// error that mentions "timeout" stays a type error.
    #[serde(default)]
    pub over: Vec<Category>,
    #[serde(default, rename = "sample")]
    pub samples: Vec<EntrySample>,
}

/// A finding as a real tool run printed it, which must resolve to the entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySample {
    pub tool: String,
    /// The rule's own category (default: the entry's first `over`, else build).
    #[serde(default)]
    pub rule_category: Option<Category>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub lines: Vec<String>,
    /// Where the sample comes from: `run: <tool version>` for output made by running
    /// the tool, else the corpus or fixture it was taken from.
    pub source: String,
}

struct Entry {
    spec: EntrySpec,
    code: Option<Regex>,
    message: Option<Regex>,
    text: Option<Regex>,
}

struct Table {
    file: String,
    tools: Vec<String>,
    entries: Vec<Entry>,
}

/// All category tables, in file-name order.
pub struct Tables {
    tables: Vec<Table>,
}

/// What a finding looks like to the tables.
pub struct Diagnostic<'a> {
    pub tool: &'a str,
    /// The category its rule (or the fallback classifier) gave it.
    pub category: Category,
    pub code: Option<&'a str>,
    pub message: &'a str,
    pub lines: &'a [String],
}

/// A table's verdict: the category and which entry gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub category: Category,
    /// `rustc.toml: unresolved import of a crate (E0432)`.
    pub reason: String,
}

impl Tables {
    /// The built-in tables. They are validated by the test suite; should one be
    /// broken anyway, findings keep their rules' categories rather than failing.
    pub fn builtin() -> Option<&'static Tables> {
        static TABLES: OnceLock<Option<Tables>> = OnceLock::new();
        TABLES
            .get_or_init(|| Tables::parse(builtin_files()).ok())
            .as_ref()
    }

    /// Parses and validates table files given as `(name, text)`.
    pub fn parse(files: &[(&str, &str)]) -> Result<Tables, TableError> {
        let mut tables = Vec::new();
        for (name, text) in files {
            let spec = parse_table(name, text)?;
            tables.push(compile(name, spec)?);
        }
        Ok(Tables { tables })
    }

    /// The first matching entry of the tool's own tables, then of the `*` tables.
    pub fn resolve(&self, d: &Diagnostic) -> Option<Verdict> {
        let own = self
            .tables
            .iter()
            .filter(|t| t.tools.iter().any(|x| x == d.tool));
        let any = self
            .tables
            .iter()
            .filter(|t| t.tools.iter().any(|x| x == "*"));
        own.chain(any).find_map(|t| {
            t.entries.iter().find_map(|e| {
                let hit = e.matches(d)?;
                Some(Verdict {
                    category: e.spec.category,
                    reason: format!("{}: {} ({hit})", t.file, e.spec.why),
                })
            })
        })
    }
}

impl Entry {
    /// The text that decided (the code, else the matched words), when every given
    /// condition holds.
    fn matches(&self, d: &Diagnostic) -> Option<String> {
        if !self.spec.over.is_empty() && !self.spec.over.contains(&d.category) {
            return None;
        }
        let mut hit = None;
        if let Some(re) = &self.code {
            let code = d.code.filter(|c| re.is_match(c))?;
            hit = Some(code.to_string());
        }
        if let Some(re) = &self.message {
            let m = re.find(d.message)?;
            hit.get_or_insert_with(|| m.as_str().to_string());
        }
        if let Some(re) = &self.text {
            let m = std::iter::once(d.message)
                .chain(d.lines.iter().map(String::as_str))
                .find_map(|l| re.find(l))?;
            hit.get_or_insert_with(|| m.as_str().trim().to_string());
        }
        hit
    }
}

/// Parses one table file without compiling it.
pub fn parse_table(file: &str, text: &str) -> Result<TableSpec, TableError> {
    toml::from_str::<TableSpec>(text).map_err(|e| TableError::Toml {
        file: file.to_string(),
        message: e.to_string().trim_end().replace('\n', " "),
    })
}

fn compile(file: &str, spec: TableSpec) -> Result<Table, TableError> {
    let mut entries = Vec::new();
    for (i, e) in spec.entries.into_iter().enumerate() {
        let index = i + 1;
        let regex = |field: &'static str, pattern: &Option<String>, whole: bool| {
            pattern
                .as_ref()
                .map(|p| {
                    let p = if whole {
                        format!("^(?:{p})$")
                    } else {
                        p.clone()
                    };
                    // Bounded like rule regexes: the tables are small but many findings
                    // are tried against them.
                    RegexBuilder::new(&p)
                        .size_limit(1 << 20)
                        .dfa_size_limit(32 << 10)
                        .build()
                })
                .transpose()
                .map_err(|err| TableError::Regex {
                    file: file.to_string(),
                    index,
                    why: e.why.clone(),
                    field,
                    message: err.to_string().replace('\n', " "),
                })
        };
        let entry = Entry {
            code: regex("code", &e.code, true)?,
            message: regex("message", &e.message, false)?,
            text: regex("text", &e.text, false)?,
            spec: e.clone(),
        };
        if entry.code.is_none() && entry.message.is_none() && entry.text.is_none() {
            return Err(TableError::Invalid {
                file: file.to_string(),
                index,
                why: e.why,
                reason: "needs at least one of `code`, `message`, `text`".into(),
            });
        }
        entries.push(entry);
    }
    Ok(Table {
        file: file.to_string(),
        tools: spec.tools,
        entries,
    })
}

impl EntrySample {
    /// The sample as the tables see a finding.
    pub fn diagnostic<'a>(&'a self, entry: &EntrySpec) -> Diagnostic<'a> {
        Diagnostic {
            tool: &self.tool,
            category: self
                .rule_category
                .or(entry.over.first().copied())
                .unwrap_or(Category::Build),
            code: self.code.as_deref(),
            message: &self.message,
            lines: &self.lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = r#"
tools = ["rustc"]
[[entry]]
code = 'E0432'
text = 'unlinked crate'
category = "dependency"
why = "unresolved import of a crate"
[[entry]]
message = 'connection refused'
over = ["test"]
category = "network"
why = "the test could not connect"
"#;

    fn diag<'a>(
        category: Category,
        code: Option<&'a str>,
        message: &'a str,
        lines: &'a [String],
    ) -> Diagnostic<'a> {
        Diagnostic {
            tool: "rustc",
            category,
            code,
            message,
            lines,
        }
    }

    #[test]
    fn every_condition_of_an_entry_must_hold() {
        let t = Tables::parse(&[("t.toml", TABLE)]).unwrap();
        let lines = vec!["use of unresolved module or unlinked crate `serde`".to_string()];
        let v = t
            .resolve(&diag(
                Category::Build,
                Some("E0432"),
                "unresolved import `serde`",
                &lines,
            ))
            .unwrap();
        assert_eq!(v.category, Category::Dependency);
        assert_eq!(v.reason, "t.toml: unresolved import of a crate (E0432)");
        assert!(t
            .resolve(&diag(
                Category::Build,
                Some("E0432"),
                "unresolved import `crate::x`",
                &[]
            ))
            .is_none());
        assert!(t
            .resolve(&diag(Category::Build, Some("E04321"), "", &lines))
            .is_none());
    }

    #[test]
    fn over_limits_which_rule_categories_an_entry_replaces() {
        let t = Tables::parse(&[("t.toml", TABLE)]).unwrap();
        assert!(t
            .resolve(&diag(Category::Test, None, "connection refused", &[]))
            .is_some());
        assert!(t
            .resolve(&diag(Category::Type, None, "connection refused", &[]))
            .is_none());
    }

    #[test]
    fn an_entry_without_conditions_is_rejected() {
        let bad = "tools = [\"x\"]\n[[entry]]\ncategory = \"lint\"\nwhy = \"w\"\n";
        let err = Tables::parse(&[("bad.toml", bad)]).err().unwrap();
        assert!(err.to_string().contains("bad.toml: entry 1 (w)"), "{err}");
    }
}
