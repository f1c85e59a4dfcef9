//! The rule library: loads `patterns/*.toml` (built in, then the user's config dir,
//! then the project's `.cars/patterns/`), validates each rule and hands the analyzer
//! a `RuleSet`. Depends only on `model`; knows nothing about logs or output.

pub mod model;

use model::{Category, Level, Severity};
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The pattern files compiled into the binary, as `(file name, contents)`.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/builtin_patterns.rs"))
}

/// What went wrong while loading or validating rules. Every variant names the file
/// and, where there is one, the rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: invalid TOML: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: rule `{rule}`: invalid regex in `{field}`: {message}")]
    Regex {
        file: String,
        rule: String,
        field: String,
        message: String,
    },
    #[error("{file}: rule `{rule}`: {reason}")]
    Invalid {
        file: String,
        rule: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default, rename = "rule")]
    rules: Vec<RuleSpec>,
}

/// One rule as written in a pattern file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub tool: String,
    pub category: Category,
    pub severity: Severity,
    #[serde(default)]
    pub level: Level,
    /// Base confidence in [0, 1]: how sure we are that a line matching this rule is a
    /// real error, before evidence and context are weighed.
    pub confidence: f64,
    /// Literal words (matched case-insensitively); a line is only tried against this
    /// rule when it contains one of them. This is what keeps the analyzer fast.
    pub keywords: Vec<String>,
    pub regex: String,
    pub explanation: String,
    /// Rules with a higher priority are tried first when several may match a line.
    #[serde(default)]
    pub priority: i32,
    /// A summary printed because of an earlier error ("could not compile", "BUILD
    /// FAILURE"); it ranks below the findings it follows.
    #[serde(default)]
    pub consequence: bool,
    /// The line means the current CI step failed (e.g. "Process completed with exit code 1").
    #[serde(default)]
    pub marks_failure: bool,
    /// A line that matches is never reported; it only suppresses (e.g. "0 errors").
    #[serde(default)]
    pub ignore: bool,
    /// A tool parser that reads the whole block (see `analyze::parsers`).
    #[serde(default)]
    pub parser: Option<String>,
    #[serde(default)]
    pub block: Option<BlockSpec>,
    /// Captures taken from a line above the matched one (see `HeaderSpec`).
    #[serde(default)]
    pub header: Option<HeaderSpec>,
    /// The error is about a project manifest (see `ManifestSpec`).
    #[serde(default)]
    pub manifest: Option<ManifestSpec>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, rename = "sample")]
    pub samples: Vec<Sample>,
}

/// How far a multi-line error extends after its first line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockSpec {
    /// At most this many lines after the first one belong to the block.
    #[serde(default = "default_max_lines")]
    pub max_lines: usize,
    /// The first line matching this ends the block (and is not part of it).
    #[serde(default)]
    pub until: Option<String>,
    /// The block goes on only while lines match this.
    #[serde(rename = "while", default)]
    pub while_: Option<String>,
    /// Regexes tried on the block's lines to fill captures the first line lacked
    /// (e.g. rustc's `--> src/main.rs:3:13`).
    #[serde(default)]
    pub captures: Vec<String>,
    /// A stack frame line with `file` and `line` captures (Go, Node, Java and Rust
    /// print the innermost frame first): the first frame that does not match
    /// `library` locates the error, so the finding points at the project's code, not
    /// at the runtime, the standard library or a dependency.
    #[serde(default)]
    pub frame: Option<String>,
    /// A frame line matching this is not project code.
    #[serde(default)]
    pub library: Option<String>,
    /// The tool prints the innermost frame last (Python, pytest): the last project
    /// frame wins, over the first line's own file too (pytest's header names the
    /// test module; its frames say where the error was raised).
    #[serde(default)]
    pub innermost_last: bool,
    /// Project frames passed over before one locates the error: Go reports the
    /// innermost frame of a stack overflow at the function's entry (its prologue's
    /// stack check), so its caller's line, the recursive call, is the one to fix.
    #[serde(default)]
    pub skip_frames: usize,
}

fn default_max_lines() -> usize {
    20
}

/// Captures from a line above: the file that eslint's "stylish", stylelint and
/// yamllint print alone above their `line:col` rows, or the code and message ruff
/// prints above its `--> file:line` line. Only a line that matched the rule looks up,
/// so the other lines pay nothing for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSpec {
    /// The nearest line above that matches gives the captures the matched line lacks.
    pub regex: String,
    /// How many lines above to look at.
    #[serde(default = "default_header_lines")]
    pub max_lines: usize,
    /// A line above matching this ends the search without a header (e.g. the blank
    /// line between two files' reports).
    #[serde(default)]
    pub until: Option<String>,
}

fn default_header_lines() -> usize {
    50
}

/// Manifests an error may be about; the analyzer only ever opens these names.
pub const MANIFESTS: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "requirements.txt",
    "go.mod",
    "Makefile",
    "pom.xml",
];

/// An error about a project manifest (a bad key, a misspelled or unresolvable
/// package): the finding points at the manifest when the log names no file, and at
/// the line naming the key or package when the project's own manifest has one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSpec {
    /// One of `MANIFESTS`.
    pub file: String,
    /// Captures whose value (without a version: `left-pad@^9` -> `left-pad`) is looked
    /// up in the manifest, first present capture first.
    #[serde(default)]
    pub find: Vec<String>,
    /// Point at the manifest only when the value is found in it (an npm 404 may be
    /// about a package named on the command line, not in package.json).
    #[serde(default)]
    pub only_if_found: bool,
}

/// A real line (and optionally the lines after it) that the rule must match, with the
/// captures it must produce.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    /// Lines printed before `line` (for a rule with a `header`).
    #[serde(default)]
    pub before: Vec<String>,
    pub line: String,
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub captures: BTreeMap<String, String>,
}

/// A validated rule. Regexes are compiled on first use so that start-up stays fast
/// even with hundreds of rules.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    /// Which file the rule came from (for messages).
    pub origin: String,
    regex: OnceLock<Option<LineRegex>>,
    block: OnceLock<Option<CompiledBlock>>,
    header: OnceLock<Option<CompiledHeader>>,
}

#[derive(Debug)]
pub struct CompiledHeader {
    pub regex: LineRegex,
    pub max_lines: usize,
    pub until: Option<LineRegex>,
}

#[derive(Debug)]
pub struct CompiledBlock {
    pub max_lines: usize,
    pub until: Option<LineRegex>,
    pub while_: Option<LineRegex>,
    pub captures: Vec<LineRegex>,
    pub frame: Option<LineRegex>,
    pub library: Option<LineRegex>,
    pub innermost_last: bool,
    pub skip_frames: usize,
}

impl Rule {
    fn new(spec: RuleSpec, origin: String) -> Rule {
        Rule {
            spec,
            origin,
            regex: OnceLock::new(),
            block: OnceLock::new(),
            header: OnceLock::new(),
        }
    }

    /// The compiled line regex; `None` only if it does not compile, which validation
    /// rules out for every rule that reaches a `RuleSet`.
    pub fn regex(&self) -> Option<&LineRegex> {
        self.regex
            .get_or_init(|| compile_bounded(&self.spec.regex).ok())
            .as_ref()
    }

    pub fn block(&self) -> Option<&CompiledBlock> {
        self.block
            .get_or_init(|| {
                let b = self.spec.block.as_ref()?;
                let opt = |s: &Option<String>| s.as_deref().and_then(|r| compile_bounded(r).ok());
                Some(CompiledBlock {
                    max_lines: b.max_lines,
                    until: opt(&b.until),
                    while_: opt(&b.while_),
                    captures: b
                        .captures
                        .iter()
                        .filter_map(|r| compile_bounded(r).ok())
                        .collect(),
                    frame: opt(&b.frame),
                    library: opt(&b.library),
                    innermost_last: b.innermost_last,
                    skip_frames: b.skip_frames,
                })
            })
            .as_ref()
    }

    pub fn header(&self) -> Option<&CompiledHeader> {
        self.header
            .get_or_init(|| {
                let h = self.spec.header.as_ref()?;
                Some(CompiledHeader {
                    regex: compile_bounded(&h.regex).ok()?,
                    max_lines: h.max_lines,
                    until: h.until.as_deref().and_then(|u| compile_bounded(u).ok()),
                })
            })
            .as_ref()
    }
}

/// Compiles a rule regex with bounded memory: with hundreds of rules, the default
/// lazy-DFA cache (several MiB each) would dominate the analyzer's footprint.
fn compile_bounded(pattern: &str) -> Result<LineRegex, String> {
    LineRegex::new(pattern)
}

/// A rule's line regex: the `regex` crate's engine and syntax, without the one-pass
/// DFA, which the `regex` crate builds for every regex with groups and cannot be told
/// not to. With a few hundred rules fired by real logs those tables were 11 MB of a
/// 68 MB heap; a matched line's groups come from the bounded backtracker instead.
#[derive(Debug)]
pub struct LineRegex {
    re: regex_automata::meta::Regex,
    /// (group index, name) of the named groups.
    names: Vec<(usize, String)>,
}

impl LineRegex {
    pub fn new(pattern: &str) -> Result<LineRegex, String> {
        use regex_automata::meta;
        let re = meta::Regex::builder()
            .configure(
                meta::Config::new()
                    .nfa_size_limit(Some(4 << 20))
                    .hybrid_cache_capacity(32 << 10)
                    .onepass(false),
            )
            .build(pattern)
            .map_err(|e| e.to_string())?;
        let names = re
            .group_info()
            .pattern_names(regex_automata::PatternID::ZERO)
            .enumerate()
            .filter_map(|(i, n)| Some((i, n?.to_string())))
            .collect();
        Ok(LineRegex { re, names })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }

    /// The named groups that took part in the first match, as (name, text), in the
    /// pattern's order; `None` when the regex does not match.
    pub fn groups<'t>(&self, text: &'t str) -> Option<Vec<(&str, &'t str)>> {
        let mut caps = self.re.create_captures();
        self.re.captures(text, &mut caps);
        if !caps.is_match() {
            return None;
        }
        Some(
            self.names
                .iter()
                .filter_map(|(i, name)| Some((name.as_str(), &text[caps.get_group(*i)?.range()])))
                .collect(),
        )
    }

    /// `groups`, trimmed, without the empty ones.
    pub fn named_captures(&self, text: &str) -> Option<BTreeMap<String, String>> {
        let groups = self.groups(text)?;
        Some(
            groups
                .into_iter()
                .map(|(name, v)| (name, v.trim()))
                .filter(|(_, v)| !v.is_empty())
                .map(|(name, v)| (name.to_string(), v.to_string()))
                .collect(),
        )
    }
}

/// The rules in effect, in the order they are tried (priority, then load order).
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

/// Where to look for rules beyond the built-in ones.
#[derive(Debug, Default, Clone)]
pub struct RuleSources {
    /// The user's config dir for cars (`~/.config/cars`); its `patterns/*.toml` are loaded.
    pub user_dir: Option<PathBuf>,
    /// The project root; its `.cars/patterns/*.toml` are loaded last.
    pub project_dir: Option<PathBuf>,
    /// Whether the user trusts the project's configuration (`cars trust`). An
    /// untrusted project's rules may only add findings: rules that ignore lines,
    /// disable or replace another rule are left out.
    pub project_trusted: bool,
    /// Extra rule files named on the command line.
    pub extra_files: Vec<PathBuf>,
    /// Skip the built-in library (for testing a rule file on its own).
    pub no_builtin: bool,
}

impl RuleSources {
    /// The usual places: built-in rules, the user's config dir, the project in `dir`.
    pub fn standard(project_dir: Option<PathBuf>, project_trusted: bool) -> RuleSources {
        RuleSources {
            user_dir: dirs::config_dir().map(|d| d.join("cars")),
            project_dir,
            project_trusted,
            extra_files: Vec::new(),
            no_builtin: false,
        }
    }
}

impl RuleSet {
    /// The built-in rules only. Built-in files are validated by the test suite, so
    /// they are not validated again here (that keeps start-up cheap).
    pub fn builtin() -> Result<RuleSet, RuleError> {
        Self::load(&RuleSources {
            no_builtin: false,
            ..RuleSources::default()
        })
    }

    /// Loads rules from every source; a later rule with the same id replaces an
    /// earlier one, and `disabled = true` removes it.
    pub fn load(sources: &RuleSources) -> Result<RuleSet, RuleError> {
        let mut specs: Vec<(RuleSpec, String)> = Vec::new();
        if !sources.no_builtin {
            for (name, text) in builtin_files() {
                for spec in parse_rules(name, text)? {
                    specs.push((spec, format!("builtin:{name}")));
                }
            }
        }
        // (file, may it hide or replace findings?)
        let mut files: Vec<(PathBuf, bool)> = Vec::new();
        if let Some(dir) = &sources.user_dir {
            files.extend(
                toml_files_in(&dir.join("patterns"))?
                    .into_iter()
                    .map(|f| (f, true)),
            );
        }
        if let Some(dir) = &sources.project_dir {
            let trusted = sources.project_trusted;
            files.extend(
                toml_files_in(&dir.join(".cars").join("patterns"))?
                    .into_iter()
                    .map(|f| (f, trusted)),
            );
        }
        files.extend(sources.extra_files.iter().map(|f| (f.clone(), true)));
        for (path, may_hide) in files {
            let (name, specs_in_file) = read_rule_file(&path)?;
            for spec in specs_in_file {
                validate(&spec, &name)?;
                let hides =
                    spec.ignore || spec.disabled || specs.iter().any(|(s, _)| s.id == spec.id);
                if hides && !may_hide {
                    continue;
                }
                specs.push((spec, name.clone()));
            }
        }
        Ok(Self::from_specs(specs))
    }

    fn from_specs(specs: Vec<(RuleSpec, String)>) -> RuleSet {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut merged: Vec<Option<(RuleSpec, String)>> = Vec::new();
        for (spec, origin) in specs {
            match index.get(&spec.id) {
                Some(&i) => merged[i] = Some((spec, origin)),
                None => {
                    index.insert(spec.id.clone(), merged.len());
                    merged.push(Some((spec, origin)));
                }
            }
        }
        let mut rules: Vec<Rule> = merged
            .into_iter()
            .flatten()
            .filter(|(s, _)| !s.disabled)
            .map(|(s, o)| Rule::new(s, o))
            .collect();
        // Stable: equal priorities keep load order.
        rules.sort_by_key(|r| std::cmp::Reverse(r.spec.priority));
        RuleSet { rules }
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }
}

fn toml_files_in(dir: &Path) -> Result<Vec<PathBuf>, RuleError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(RuleError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads and parses one rule file from disk (without validating it).
pub fn read_rule_file(path: &Path) -> Result<(String, Vec<RuleSpec>), RuleError> {
    let text = std::fs::read_to_string(path).map_err(|source| RuleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let specs = parse_rules(&name, &text)?;
    Ok((name, specs))
}

/// Parses the text of a rule file.
pub fn parse_rules(file: &str, text: &str) -> Result<Vec<RuleSpec>, RuleError> {
    toml::from_str::<RuleFile>(text)
        .map(|f| f.rules)
        .map_err(|e| RuleError::Toml {
            file: file.to_string(),
            message: e.to_string().trim_end().replace('\n', " "),
        })
}

/// Checks everything about a rule that can be checked without running it: regexes
/// compile, captures are used consistently, the numbers are in range, samples exist.
pub fn validate(spec: &RuleSpec, file: &str) -> Result<(), RuleError> {
    let invalid = |reason: String| RuleError::Invalid {
        file: file.to_string(),
        rule: spec.id.clone(),
        reason,
    };
    let compile = |field: &str, pattern: &str| {
        Regex::new(pattern).map_err(|e| RuleError::Regex {
            file: file.to_string(),
            rule: spec.id.clone(),
            field: field.to_string(),
            message: e.to_string().replace('\n', " "),
        })
    };
    if spec.id.trim().is_empty() || spec.id.contains(char::is_whitespace) {
        return Err(invalid("id must be non-empty and contain no spaces".into()));
    }
    if !(0.0..=1.0).contains(&spec.confidence) {
        return Err(invalid(format!(
            "confidence {} is outside [0, 1]",
            spec.confidence
        )));
    }
    if spec.keywords.is_empty() {
        return Err(invalid("needs at least one keyword".into()));
    }
    for k in &spec.keywords {
        // Every line holding a keyword takes the slow path, so keywords must be rare
        // in ordinary output: four bytes or more (or a symbol such as ✘), with a letter.
        let symbol = !k.is_ascii();
        if !symbol && (k.len() < 4 || k.chars().all(|c| c.is_ascii_digit() || c.is_whitespace())) {
            return Err(invalid(format!(
                "keyword {k:?} is too short or too common: use 4+ characters, not only digits"
            )));
        }
    }
    let re = compile("regex", &spec.regex)?;
    if let Some(block) = &spec.block {
        if let Some(u) = &block.until {
            compile("block.until", u)?;
        }
        if let Some(w) = &block.while_ {
            compile("block.while", w)?;
        }
    }
    let mut extra: Vec<Regex> = Vec::new();
    if let Some(block) = &spec.block {
        for c in &block.captures {
            extra.push(compile("block.captures", c)?);
        }
        if let Some(f) = &block.frame {
            extra.push(compile("block.frame", f)?);
        }
        if let Some(l) = &block.library {
            compile("block.library", l)?;
        }
    }
    if let Some(h) = &spec.header {
        extra.push(compile("header.regex", &h.regex)?);
        if let Some(u) = &h.until {
            compile("header.until", u)?;
        }
        if h.max_lines == 0 {
            return Err(invalid("header.max_lines must be at least 1".into()));
        }
    }
    let declared = |name: &str| {
        re.capture_names().flatten().any(|n| n == name)
            || extra
                .iter()
                .any(|r| r.capture_names().flatten().any(|n| n == name))
    };
    if let Some(m) = &spec.manifest {
        if !MANIFESTS.contains(&m.file.as_str()) {
            return Err(invalid(format!(
                "manifest `{}` is not one of {}",
                m.file,
                MANIFESTS.join(", ")
            )));
        }
        if let Some(name) = m.find.iter().find(|n| !declared(n)) {
            return Err(invalid(format!(
                "manifest.find names `{name}` but no regex captures it"
            )));
        }
    }
    for placeholder in placeholders(&spec.explanation) {
        if !declared(placeholder) {
            return Err(invalid(format!(
                "explanation uses {{{placeholder}}} but no regex captures it"
            )));
        }
    }
    if let Some(p) = &spec.parser {
        if !model::PARSERS.contains(&p.as_str()) {
            return Err(invalid(format!(
                "unknown parser `{p}` (known: {})",
                model::PARSERS.join(", ")
            )));
        }
    }
    if spec.samples.is_empty() {
        return Err(invalid("needs at least one [[rule.sample]]".into()));
    }
    for sample in &spec.samples {
        let lower = sample.line.to_ascii_lowercase();
        if !spec
            .keywords
            .iter()
            .any(|k| lower.contains(&k.to_ascii_lowercase()))
        {
            return Err(invalid(format!(
                "sample line contains none of the keywords: {:?}",
                sample.line
            )));
        }
        if !re.is_match(&sample.line) {
            return Err(invalid(format!(
                "regex does not match its sample line: {:?}",
                sample.line
            )));
        }
    }
    Ok(())
}

/// The `{name}` placeholders in an explanation.
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Fills `{name}` placeholders from `values`; unknown names become `?`.
pub fn render_explanation(text: &str, values: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && end > 0 =>
            {
                out.push_str(&values(&after[..end]).unwrap_or_else(|| "?".into()));
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
