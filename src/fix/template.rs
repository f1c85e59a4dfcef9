//! Fix templates: `templates/*.toml`, keyed by rule id. A template names an action
//! (a format-aware edit from `edit`), the strategy it follows, its confidence and a
//! rationale; an optional `match` regex pulls what the action needs (`{module}`,
//! `{old}`, `{new}`) out of the finding's message or log excerpt.

use super::edit::{self, DepKind};
use super::{paths, FileChange, NoPatch, Patch, Strategy};
use crate::analyze::Finding;
use crate::policy::{Access, ConfigSource, PathPolicy, Provenance};
use crate::rules::{placeholders, render_explanation};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The template files compiled into the binary, as `(file name, contents)`.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/builtin_templates.rs"))
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: invalid TOML: {message}")]
    Toml { file: String, message: String },
    #[error("{file}: template `{id}`: {reason}")]
    Invalid {
        file: String,
        id: String,
        reason: String,
    },
}

/// What a template does to the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EditAction {
    /// Replace `{old}` with `{new}` on the finding's line (at its column when known).
    ReplaceIdentifier,
    /// Remove `{name}` from the import on the finding's line (Python, Rust).
    RemoveImport,
    /// Add `{package}` to the first manifest of `manifests` that exists.
    AddDependency,
    /// Move every `uses: {action}@...` in `.github/workflows/` to the ref in `refs`.
    BumpAction,
    /// Multiply the timeout written on the finding's line by `factor`.
    RaiseTimeout,
    /// Replace the stale literal `{expected}` with `{actual}` on the finding's line.
    UpdateAssertion,
    /// Add `{var}` to the first example env file of `files` that exists.
    AddEnvVar,
    /// Put `decorator` above the test function containing the finding's line.
    MarkFlaky,
    /// Indent the finding's line with a tab instead of spaces (a make recipe).
    IndentWithTab,
    /// Drop the spaces and tabs at the end of the finding's line (its line ending stays).
    StripTrailingSpace,
    /// Give the finding's file, a `#!` script, the executable bits where it is readable.
    MakeExecutable,
    /// In the finding's manifest, replace the version `{wanted}` of `{name}`, newer
    /// than any in the list `{versions}` the tool printed, with the newest of them.
    PickVersion,
    /// Replace `{old}` on the finding's line with the one name of the tool's list
    /// `{choices}` (quoted names) within a small edit distance of it.
    ClosestName,
    /// In the workflow of the finding, the `needs:` of job `{job}` names `{old}`, a
    /// job that does not exist: replace it with the one job id close to it.
    ClosestNeeds,
    /// `{old}`, a name the tool says is not defined, on the finding's line becomes the
    /// one identifier of the finding's file (or a file beside it with the same
    /// extension: a Go package, a Java package) within a small edit distance of it.
    ClosestIdentifier,
    /// The string literal at the finding's column holds a number where the Rust
    /// numeric type `{ty}` is expected: drop its quotes.
    UnquoteNumber,
    /// `{expected}` blank lines are wanted before the finding's line and `{found}` are
    /// there (pycodestyle E301/E302/E305): insert the missing ones right above it.
    InsertBlankLines,
}

/// A fixture proving a template works: the files before, the log, the files after.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSample {
    pub log: String,
    pub files: BTreeMap<String, String>,
    /// The expected content of every changed file; empty: no patch expected.
    pub expect: BTreeMap<String, String>,
    /// The permission bits the patch gives a file (`0o755`), for a mode change.
    #[serde(default)]
    pub modes: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub id: String,
    /// Rule ids this template fixes; `python.*` matches a prefix.
    pub rules: Vec<String>,
    pub strategy: Strategy,
    pub action: EditAction,
    pub confidence: f64,
    /// May `--auto` apply it (when confident enough)? Off for edits a human must check.
    #[serde(default = "yes")]
    pub auto: bool,
    /// The diagnostic states the edit exactly (pycodestyle's "expected 2 blank lines,
    /// found 0"): `--auto` may take it once a fresh run of the validation command
    /// makes the same patch again (see `session::reproduce`), even below its gate.
    #[serde(default)]
    pub confirm: bool,
    /// One line for the reviewer; `{name}` placeholders take captures.
    pub rationale: String,
    /// Defaults to `template <id>`.
    pub origin: Option<String>,
    /// Regex tried on the message, then on the excerpt's lines joined by `\n`; its
    /// named groups are captures. When given and nothing matches, the template does not apply.
    #[serde(rename = "match")]
    pub pattern: Option<String>,
    /// A regex that must match some excerpt line (context the message lacks).
    pub requires: Option<String>,
    /// add-dependency: the manifests to try, relative to the project root.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// add-dependency: the package to add, e.g. `{module}`.
    pub package: Option<String>,
    /// add-dependency: import name -> distribution name where they differ.
    #[serde(default)]
    pub packages: BTreeMap<String, String>,
    /// add-dependency: paths (with `{module}`, the import's first component) whose
    /// existence means the module is the project's own, not a dependency.
    #[serde(default)]
    pub local: Vec<String>,
    /// add-dependency: version requirement for Cargo.toml / package.json.
    pub version: Option<String>,
    #[serde(default)]
    pub dev: bool,
    /// bump-action: the ref each action should use.
    #[serde(default)]
    pub refs: BTreeMap<String, String>,
    /// add-env-var: the example env files to try.
    #[serde(default)]
    pub files: Vec<String>,
    /// closest-name: the names to choose from when the tool lists none (a format's
    /// fixed keywords).
    #[serde(default)]
    pub names: Vec<String>,
    /// raise-timeout: multiplier.
    pub factor: Option<u32>,
    /// mark-flaky: the line to insert, e.g. `@pytest.mark.flaky(reruns=3)`.
    pub decorator: Option<String>,
    /// update-assertion: also try replacing `{actual}` with `{expected}` (when the
    /// framework does not say which side is the literal).
    #[serde(default)]
    pub symmetric: bool,
    #[serde(default, rename = "sample")]
    pub samples: Vec<TemplateSample>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    #[serde(default, rename = "template")]
    templates: Vec<TemplateSpec>,
}

/// A compiled template.
#[derive(Debug)]
pub struct Template {
    pub spec: TemplateSpec,
    pub file: String,
    /// Built in, the user's or the project's: becomes the patch's provenance.
    pub source: ConfigSource,
    pattern: Option<Regex>,
    requires: Option<Regex>,
}

/// All templates, in load order; later files override earlier ids.
#[derive(Debug, Default)]
pub struct Templates {
    pub list: Vec<Template>,
}

impl Templates {
    /// The built-in templates, then `*.toml` of each of `dirs` that exists (the user's,
    /// then the project's when it is trusted, see `config::template_dirs`).
    pub fn load(dirs: &[(PathBuf, ConfigSource)]) -> Result<Templates, TemplateError> {
        let mut t = Templates::default();
        for (name, text) in builtin_files() {
            t.add_file(name, text, ConfigSource::Builtin)?;
        }
        for (dir, source) in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Io {
                    path: path.clone(),
                    source,
                })?;
                t.add_file(&path.display().to_string(), &text, *source)?;
            }
        }
        Ok(t)
    }

    /// Parses and validates one template file's text and adds its templates.
    pub fn add_file(
        &mut self,
        file: &str,
        text: &str,
        source: ConfigSource,
    ) -> Result<(), TemplateError> {
        let parsed: TemplateFile = toml::from_str(text).map_err(|e| TemplateError::Toml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        for spec in parsed.templates {
            let t = compile(file, spec, source)?;
            self.list.retain(|old| old.spec.id != t.spec.id);
            self.list.push(t);
        }
        Ok(())
    }

    /// The template a patch of provenance `p` came from asks for a confirming run.
    pub fn confirms(&self, p: &crate::policy::Provenance) -> bool {
        use crate::policy::Provenance;
        let id = match p {
            Provenance::Builtin { template }
            | Provenance::User { template }
            | Provenance::Project { template } => template,
            _ => return false,
        };
        self.list.iter().any(|t| &t.spec.id == id && t.spec.confirm)
    }

    /// Templates that apply to a rule id.
    pub fn for_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Template> + 'a {
        self.list.iter().filter(move |t| {
            t.spec.rules.iter().any(|r| match r.strip_suffix('*') {
                Some(prefix) => rule.starts_with(prefix),
                None => r == rule,
            })
        })
    }

    /// Every patch a template makes for `finding`; or why none applies.
    pub fn apply(&self, finding: &Finding, policy: &PathPolicy) -> Result<Vec<Patch>, NoPatch> {
        let mut patches = Vec::new();
        let mut reasons = Vec::new();
        let mut any = false;
        for t in self.for_rule(&finding.rule) {
            any = true;
            match t.apply(finding, policy) {
                Ok(p) => patches.push(p),
                Err(NoPatch(r)) => reasons.push(format!("{}: {r}", t.spec.id)),
            }
        }
        if !any {
            return Err(NoPatch(format!(
                "no fix template for rule {}",
                finding.rule
            )));
        }
        if patches.is_empty() {
            // A template whose `match` or `requires` does not hold says nothing about
            // this finding: only the ones that tried are worth a reason.
            let tried: Vec<String> = reasons
                .iter()
                .filter(|r| !r.ends_with(NOT_SHOWN))
                .cloned()
                .collect();
            if tried.is_empty() {
                return Err(NoPatch(format!(
                    "no fix template for rule {} matches what the log shows",
                    finding.rule
                )));
            }
            return Err(NoPatch(tried.join("; ")));
        }
        Ok(patches)
    }
}

fn compile(
    file: &str,
    spec: TemplateSpec,
    source: ConfigSource,
) -> Result<Template, TemplateError> {
    let invalid = |reason: String| TemplateError::Invalid {
        file: file.to_string(),
        id: spec.id.clone(),
        reason,
    };
    let regex = |field: &str, text: &Option<String>| -> Result<Option<Regex>, TemplateError> {
        text.as_deref()
            .map(|r| Regex::new(r).map_err(|e| invalid(format!("`{field}`: {e}"))))
            .transpose()
    };
    let pattern = regex("match", &spec.pattern)?;
    let requires = regex("requires", &spec.requires)?;
    if spec.rules.is_empty() {
        return Err(invalid("`rules` is empty".into()));
    }
    // The files a template names are project paths: relative, no `..`. Where they
    // may be written is still the path policy's call, at propose and at apply.
    for path in spec.manifests.iter().chain(&spec.files).chain(&spec.local) {
        let p = Path::new(path);
        if path.is_empty()
            || p.is_absolute()
            || p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(invalid(format!(
                "`{path}` must be a path inside the project (relative, without `..`)"
            )));
        }
    }
    if !(0.0..=1.0).contains(&spec.confidence) {
        return Err(invalid(format!(
            "confidence {} is outside 0..=1",
            spec.confidence
        )));
    }
    let needs: &[&str] = match spec.action {
        EditAction::ReplaceIdentifier => &["old", "new"],
        EditAction::RemoveImport => &["name"],
        EditAction::AddDependency => &[],
        EditAction::BumpAction => &[],
        EditAction::RaiseTimeout => &[],
        EditAction::UpdateAssertion => &["expected", "actual"],
        EditAction::AddEnvVar => &["var"],
        EditAction::MarkFlaky => &[],
        EditAction::IndentWithTab => &[],
        EditAction::StripTrailingSpace => &[],
        EditAction::MakeExecutable => &[],
        EditAction::PickVersion => &["name", "wanted", "versions"],
        EditAction::ClosestName => &["old"],
        EditAction::ClosestNeeds => &["job", "old"],
        EditAction::ClosestIdentifier => &["old"],
        EditAction::UnquoteNumber => &["ty"],
        EditAction::InsertBlankLines => &["expected", "found"],
    };
    let groups: Vec<&str> = pattern
        .iter()
        .flat_map(|p| p.capture_names().flatten())
        .collect();
    for need in needs {
        if !groups.contains(need) {
            return Err(invalid(format!(
                "action {:?} needs a `{need}` group in `match`",
                spec.action
            )));
        }
    }
    let missing = |field: &str| invalid(format!("action {:?} needs `{field}`", spec.action));
    match spec.action {
        EditAction::AddDependency if spec.manifests.is_empty() => return Err(missing("manifests")),
        EditAction::AddDependency if spec.package.is_none() => return Err(missing("package")),
        EditAction::BumpAction if spec.refs.is_empty() => return Err(missing("refs")),
        EditAction::AddEnvVar if spec.files.is_empty() => return Err(missing("files")),
        EditAction::MarkFlaky if spec.decorator.is_none() => return Err(missing("decorator")),
        EditAction::ClosestName if spec.names.is_empty() && !groups.contains(&"choices") => {
            return Err(missing("`names` or a `choices` group in `match`"))
        }
        _ => {}
    }
    for p in placeholders(&spec.rationale).chain(
        spec.package
            .as_deref()
            .map(placeholders)
            .into_iter()
            .flatten(),
    ) {
        if !groups.contains(&p)
            && !matches!(
                p,
                "file"
                    | "line"
                    | "message"
                    | "rule"
                    | "package"
                    | "manifest"
                    | "actions"
                    | "module"
                    | "chosen"
                    | "new"
            )
        {
            return Err(invalid(format!(
                "placeholder `{{{p}}}` is not a `match` group"
            )));
        }
    }
    Ok(Template {
        spec,
        file: file.to_string(),
        source,
        pattern,
        requires,
    })
}

/// The finding's own line of a project file: relative path, content, 1-based line.
struct Target {
    path: String,
    text: String,
    line: usize,
}

impl Target {
    fn of(finding: &Finding, policy: &PathPolicy) -> Result<Target, NoPatch> {
        let loc = finding
            .location
            .as_ref()
            .ok_or_else(|| NoPatch("the finding has no file location".into()))?;
        let line = loc
            .line
            .ok_or_else(|| NoPatch(format!("the finding names {} but no line", loc.file)))?
            as usize;
        let path = paths::resolve(policy, &loc.file)
            .ok_or_else(|| NoPatch(format!("{} is not a file in the project", loc.file)))?;
        let text = read(policy, &path)?;
        if line == 0 || line > text.lines().count() {
            return Err(NoPatch(format!("{path} has no line {line}")));
        }
        Ok(Target { path, text, line })
    }

    fn line_text(&self) -> &str {
        self.text.lines().nth(self.line - 1).unwrap_or("")
    }

    /// The file with the target line replaced by `new` (`""` deletes it).
    fn with_line(&self, new: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + new.len());
        for (i, line) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == self.line {
                let body = line.trim_end_matches(['\n', '\r']);
                if !new.is_empty() {
                    out.push_str(new);
                    out.push_str(&line[body.len()..]);
                }
            } else {
                out.push_str(line);
            }
        }
        out
    }

    /// The file with the target line emptied, its line ending kept.
    fn blanked(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        for (i, line) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == self.line {
                let body = line.trim_end_matches(['\n', '\r']);
                out.push_str(&line[body.len()..]);
            } else {
                out.push_str(line);
            }
        }
        out
    }

    fn change(self, after: String) -> Result<FileChange, NoPatch> {
        if after == self.text {
            return Err(NoPatch(format!("{} needs no change", self.path)));
        }
        Ok(FileChange {
            path: self.path,
            before: Some(self.text),
            after,
            mode: None,
        })
    }
}

fn read(policy: &PathPolicy, rel: &str) -> Result<String, NoPatch> {
    policy
        .read_text(rel)
        .map_err(|e| NoPatch(format!("cannot read {e}")))
}

impl Template {
    /// Captures for this finding, or `None` when the template's `match` or `requires`
    /// does not hold.
    fn captures(&self, finding: &Finding) -> Option<BTreeMap<String, String>> {
        let mut caps = finding.captures.clone();
        caps.insert("message".into(), finding.message.clone());
        caps.insert("rule".into(), finding.rule.clone());
        if let Some(loc) = &finding.location {
            caps.insert("file".into(), loc.file.clone());
            if let Some(l) = loc.line {
                caps.insert("line".into(), l.to_string());
            }
        }
        if let Some(req) = &self.requires {
            if !finding.excerpt.iter().any(|l| req.is_match(l)) {
                return None;
            }
        }
        if let Some(p) = &self.pattern {
            // The message first, then the whole excerpt (use `(?m)` for line anchors),
            // so a pattern can span lines such as rust's `left:` / `right:`.
            let excerpt = finding.excerpt.join("\n");
            let m = p
                .captures(&finding.message)
                .or_else(|| p.captures(&excerpt))?;
            for name in p.capture_names().flatten() {
                if let Some(v) = m.name(name) {
                    caps.insert(name.to_string(), v.as_str().to_string());
                }
            }
        }
        Some(caps)
    }

    /// The patch this template makes for `finding`.
    pub fn apply(&self, finding: &Finding, policy: &PathPolicy) -> Result<Patch, NoPatch> {
        let spec = &self.spec;
        let root = policy.root();
        let mut caps = self
            .captures(finding)
            .ok_or_else(|| NoPatch(NOT_SHOWN.into()))?;
        let get =
            |caps: &BTreeMap<String, String>, k: &str| caps.get(k).cloned().unwrap_or_default();
        let files = match spec.action {
            EditAction::ReplaceIdentifier => {
                let t = Target::of(finding, policy)?;
                let column = finding
                    .location
                    .as_ref()
                    .and_then(|l| l.column)
                    .map(|c| c as usize);
                let (old, new) = (get(&caps, "old"), get(&caps, "new"));
                // pylint's column is the expression's, not the attribute's: then the
                // name's one occurrence on the line.
                let new = edit::replace_identifier(t.line_text(), column, &old, &new)
                    .or_else(|| edit::replace_identifier(t.line_text(), None, &old, &new))
                    .ok_or_else(|| {
                        NoPatch(format!(
                            "`{}` is not on {}:{}",
                            get(&caps, "old"),
                            t.path,
                            t.line
                        ))
                    })?;
                let after = t.with_line(&new);
                vec![t.change(after)?]
            }
            EditAction::RemoveImport => {
                let t = Target::of(finding, policy)?;
                let name = get(&caps, "name");
                // flake8 names `typing.List` where the line binds `List`.
                let last = name.rsplit('.').next().unwrap_or(&name);
                let new = if t.path.ends_with(".py") {
                    edit::python_remove_import(t.line_text(), &name)
                        .or_else(|| edit::python_remove_import(t.line_text(), last))
                } else if t.path.ends_with(".rs") {
                    edit::rust_remove_use(t.line_text(), &name)
                } else {
                    None
                }
                .ok_or_else(|| {
                    NoPatch(format!(
                        "{}:{} is not a one-line import of `{name}`",
                        t.path, t.line
                    ))
                })?;
                let after = t.with_line(&new);
                vec![t.change(after)?]
            }
            EditAction::AddDependency => {
                // `yaml.constructor` -> `yaml`, `@scope/pkg/sub` stays `@scope/pkg`.
                if let Some(m) = caps.get("module").cloned() {
                    let top = if m.starts_with('@') {
                        m.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
                    } else {
                        m.split(['.', '/']).next().unwrap_or(&m).to_string()
                    };
                    caps.insert("module".into(), top);
                }
                for pattern in &spec.local {
                    let rel = render(pattern, &caps);
                    if !rel.contains("..") && root.join(&rel).exists() {
                        return Err(NoPatch(format!(
                            "`{rel}` is part of the project, not a dependency"
                        )));
                    }
                }
                let module = caps.get("module").cloned().unwrap_or_default();
                let package = spec
                    .packages
                    .get(&module)
                    .cloned()
                    .unwrap_or_else(|| render(spec.package.as_deref().unwrap_or(""), &caps));
                if package.is_empty() {
                    return Err(NoPatch("no package name in the log".into()));
                }
                caps.insert("package".into(), package.clone());
                let manifest = spec
                    .manifests
                    .iter()
                    .find(|m| policy.is_readable_file(m))
                    .ok_or_else(|| {
                        NoPatch(format!("none of {} exists", spec.manifests.join(", ")))
                    })?;
                caps.insert("manifest".into(), manifest.clone());
                let before = read(policy, manifest)?;
                let version = spec.version.clone().unwrap_or_else(|| "*".into());
                let kind = if spec.dev {
                    DepKind::Dev
                } else {
                    DepKind::Normal
                };
                let name = Path::new(manifest)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("");
                let after = match name {
                    "Cargo.toml" => edit::cargo_add_dependency(&before, &package, &version, kind),
                    "pyproject.toml" => edit::pyproject_add_dependency(&before, &package),
                    "package.json" => {
                        edit::package_json_add_dependency(&before, &package, &version, kind)
                    }
                    "go.mod" => edit::go_mod_add_require(&before, &package, &version),
                    _ => edit::requirements_add(&before, &package),
                }
                .map_err(|e| NoPatch(e.to_string()))?;
                vec![FileChange {
                    path: manifest.clone(),
                    before: Some(before),
                    after,
                    mode: None,
                }]
            }
            EditAction::BumpAction => self.bump_actions(finding, policy, &mut caps)?,
            EditAction::RaiseTimeout => {
                let t = Target::of(finding, policy)?;
                let new = edit::raise_timeout(t.line_text(), spec.factor.unwrap_or(2)).ok_or_else(
                    || NoPatch(format!("no timeout is written on {}:{}", t.path, t.line)),
                )?;
                let after = t.with_line(&new);
                vec![t.change(after)?]
            }
            EditAction::UpdateAssertion => {
                let t = Target::of(finding, policy)?;
                let (expected, actual) = (get(&caps, "expected"), get(&caps, "actual"));
                let new = edit::update_assertion_literal(t.line_text(), &expected, &actual)
                    .or_else(|| {
                        spec.symmetric
                            .then(|| {
                                edit::update_assertion_literal(t.line_text(), &actual, &expected)
                            })
                            .flatten()
                    })
                    .ok_or_else(|| {
                        NoPatch(format!(
                            "{}:{} has no single literal {expected} to update",
                            t.path, t.line
                        ))
                    })?;
                let after = t.with_line(&new);
                vec![t.change(after)?]
            }
            EditAction::AddEnvVar => {
                let file = spec
                    .files
                    .iter()
                    .find(|f| policy.is_readable_file(f))
                    .ok_or_else(|| {
                        NoPatch(format!("no example env file ({})", spec.files.join(", ")))
                    })?;
                let before = read(policy, file)?;
                let after = edit::env_file_add_var(&before, &get(&caps, "var"))
                    .map_err(|e| NoPatch(e.to_string()))?;
                vec![FileChange {
                    path: file.clone(),
                    before: Some(before),
                    after,
                    mode: None,
                }]
            }
            EditAction::MarkFlaky => {
                let t = Target::of(finding, policy)?;
                let def = enclosing_test(&t.text, t.line).ok_or_else(|| {
                    NoPatch(format!("no test function encloses {}:{}", t.path, t.line))
                })?;
                let decorator = spec.decorator.as_deref().unwrap_or("");
                let after = edit::insert_decorator(&t.text, def, decorator)
                    .map_err(|e| NoPatch(e.to_string()))?;
                vec![t.change(after)?]
            }
            EditAction::IndentWithTab => {
                let t = Target::of(finding, policy)?;
                let line = t.line_text();
                let body = line.trim_start_matches(' ');
                if body.len() == line.len() || body.is_empty() || body.starts_with('\t') {
                    return Err(NoPatch(format!(
                        "{}:{} is not indented with spaces",
                        t.path, t.line
                    )));
                }
                let after = t.with_line(&format!("\t{body}"));
                vec![t.change(after)?]
            }
            EditAction::StripTrailingSpace => {
                let t = Target::of(finding, policy)?;
                // `lines()` already left the line ending (`\n` or `\r\n`) out, and
                // `with_line` puts it back.
                let line = t.line_text();
                let stripped = line.trim_end_matches([' ', '\t']);
                if stripped.len() == line.len() {
                    return Err(NoPatch(format!(
                        "{}:{} has no trailing whitespace",
                        t.path, t.line
                    )));
                }
                let after = if stripped.is_empty() {
                    t.blanked()
                } else {
                    t.with_line(stripped)
                };
                vec![t.change(after)?]
            }
            EditAction::MakeExecutable => vec![make_executable(finding, policy)?],
            EditAction::ClosestName => {
                let t = Target::of(finding, policy)?;
                let old = get(&caps, "old");
                let listed: Vec<String> = spec.names.iter().map(|n| format!("\"{n}\"")).collect();
                let choices = caps
                    .get("choices")
                    .cloned()
                    .unwrap_or_else(|| listed.join(", "));
                let new = closest_name(&old, &choices).ok_or_else(|| {
                    NoPatch(format!("no single name the tool lists is close to `{old}`"))
                })?;
                let column = finding.location.as_ref().and_then(|l| l.column);
                let line = replace_token(t.line_text(), column.map(|c| c as usize), &old, &new)
                    .ok_or_else(|| NoPatch(format!("`{old}` is not on {}:{}", t.path, t.line)))?;
                caps.insert("new".into(), new);
                let after = t.with_line(&line);
                vec![t.change(after)?]
            }
            EditAction::ClosestIdentifier => {
                let t = Target::of(finding, policy)?;
                let old = get(&caps, "old");
                let names = nearby_identifiers(policy, &t.path, &t.text);
                let choices: Vec<String> = names
                    .iter()
                    .filter(|n| **n != old)
                    .map(|n| format!("\"{n}\""))
                    .collect();
                let new = closest_name(&old, &choices.join(", ")).ok_or_else(|| {
                    NoPatch(format!(
                        "no single name in or beside {} is close to `{old}`",
                        t.path
                    ))
                })?;
                // Node points at the statement, not the name: then the name's one
                // occurrence on the line.
                let column = finding.location.as_ref().and_then(|l| l.column);
                let line = replace_token(t.line_text(), column.map(|c| c as usize), &old, &new)
                    .or_else(|| replace_token(t.line_text(), None, &old, &new))
                    .ok_or_else(|| NoPatch(format!("`{old}` is not on {}:{}", t.path, t.line)))?;
                caps.insert("new".into(), new);
                let after = t.with_line(&line);
                vec![t.change(after)?]
            }
            EditAction::InsertBlankLines => {
                let t = Target::of(finding, policy)?;
                let count = |k: &str| get(&caps, k).parse::<usize>().ok();
                let missing = match (count("expected"), count("found")) {
                    (Some(e), Some(f)) if e > f && e <= 2 => e - f,
                    _ => return Err(NoPatch("no blank lines are missing".into())),
                };
                let lines: Vec<&str> = t.text.split_inclusive('\n').collect();
                // A comment right above belongs to the line: the blank lines would go
                // above the comment, which the tool does not say.
                let above = t.line.checked_sub(2).and_then(|i| lines.get(i));
                if above.is_some_and(|l| l.trim_start().starts_with('#')) {
                    return Err(NoPatch(format!(
                        "a comment is right above {}:{}",
                        t.path, t.line
                    )));
                }
                let eol = if t.text.contains("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                let mut after = String::with_capacity(t.text.len() + missing * 2);
                for (i, line) in lines.iter().enumerate() {
                    if i + 1 == t.line {
                        after.push_str(&eol.repeat(missing));
                    }
                    after.push_str(line);
                }
                vec![t.change(after)?]
            }
            EditAction::UnquoteNumber => {
                let t = Target::of(finding, policy)?;
                let column = finding
                    .location
                    .as_ref()
                    .and_then(|l| l.column)
                    .ok_or_else(|| NoPatch("the finding has no column".into()))?;
                let ty = get(&caps, "ty");
                let line =
                    edit::unquote_number(t.line_text(), column as usize, &ty).ok_or_else(|| {
                        NoPatch(format!(
                            "{}:{}:{column} is not a string holding a `{ty}`",
                            t.path, t.line
                        ))
                    })?;
                let after = t.with_line(&line);
                vec![t.change(after)?]
            }
            EditAction::ClosestNeeds => {
                let loc = finding
                    .location
                    .as_ref()
                    .ok_or_else(|| NoPatch("the finding names no workflow".into()))?;
                let path = paths::resolve(policy, &loc.file)
                    .ok_or_else(|| NoPatch(format!("{} is not a file in the project", loc.file)))?;
                let text = read(policy, &path)?;
                let (job, old) = (get(&caps, "job"), get(&caps, "old"));
                let (line, new) = closest_needs(&text, &job, &old).ok_or_else(|| {
                    NoPatch(format!(
                        "no one job of {path} is close to `{old}` where `{job}` needs it"
                    ))
                })?;
                let t = Target { path, text, line };
                let edited = replace_token(t.line_text(), None, &old, &new)
                    .ok_or_else(|| NoPatch(format!("`{old}` is not on {}:{line}", t.path)))?;
                caps.insert("new".into(), new);
                let after = t.with_line(&edited);
                vec![t.change(after)?]
            }
            EditAction::PickVersion => {
                let (change, chosen) = pick_version(finding, policy, &caps, &spec.manifests)?;
                caps.insert("chosen".into(), chosen);
                vec![change]
            }
        };
        let provenance = Provenance::template(self.source, &spec.id);
        for f in &files {
            policy
                .check(&f.path, Access::Write(&provenance))
                .map_err(|e| NoPatch(e.to_string()))?;
        }
        Ok(Patch {
            finding: finding.id.clone(),
            rule: finding.rule.clone(),
            provenance,
            strategy: spec.strategy,
            origin: spec
                .origin
                .clone()
                .unwrap_or_else(|| format!("template {}", spec.id)),
            confidence: spec.confidence,
            rationale: render(&spec.rationale, &caps),
            auto: spec.auto,
            files,
        })
    }

    fn bump_actions(
        &self,
        finding: &Finding,
        policy: &PathPolicy,
        caps: &mut BTreeMap<String, String>,
    ) -> Result<Vec<FileChange>, NoPatch> {
        let root = policy.root();
        let text = std::iter::once(finding.message.as_str())
            .chain(finding.excerpt.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("\n");
        let named: Vec<(&String, &String)> = self
            .spec
            .refs
            .iter()
            .filter(|(action, _)| {
                text.contains(&format!("{action}@")) || text.contains(&format!("{action}: v"))
            })
            .collect();
        if named.is_empty() {
            return Err(NoPatch(
                "the log names no action this template knows".into(),
            ));
        }
        let dir = root.join(".github/workflows");
        let mut workflows: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|_| NoPatch("the project has no .github/workflows".into()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
            .collect();
        workflows.sort();
        let mut files = Vec::new();
        for path in workflows {
            let rel = format!(
                ".github/workflows/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            // A workflow that is a link, or a workflows dir linked out of the
            // project, is refused here by the policy.
            let before = read(policy, &rel)?;
            let mut after = before.clone();
            for (action, new_ref) in &named {
                if let Ok((text, _)) = edit::workflow_bump_action(&after, action, new_ref) {
                    after = text;
                }
            }
            if after != before {
                files.push(FileChange {
                    path: rel,
                    before: Some(before),
                    after,
                    mode: None,
                });
            }
        }
        if files.is_empty() {
            return Err(NoPatch(
                "no workflow uses an outdated version of those actions".into(),
            ));
        }
        let list: Vec<String> = named.iter().map(|(a, r)| format!("{a}@{r}")).collect();
        caps.insert("actions".into(), list.join(", "));
        Ok(files)
    }
}

/// The mode change that lets the finding's file run: a tracked `#!` script without
/// its executable bits gets them where it is readable (`0o644` -> `0o755`).
fn make_executable(finding: &Finding, policy: &PathPolicy) -> Result<FileChange, NoPatch> {
    use std::os::unix::fs::PermissionsExt;
    let loc = finding
        .location
        .as_ref()
        .ok_or_else(|| NoPatch("the finding names no file".into()))?;
    let rel = paths::resolve(policy, &loc.file)
        .ok_or_else(|| NoPatch(format!("{} is not a file in the project", loc.file)))?;
    let text = read(policy, &rel)?;
    if !text.starts_with("#!") {
        return Err(NoPatch(format!(
            "{rel} has no `#!` line: it is not a script meant to run"
        )));
    }
    let full = policy
        .check(&rel, Access::Read)
        .map_err(|e| NoPatch(e.to_string()))?;
    let mode = std::fs::metadata(&full)
        .map_err(|e| NoPatch(format!("cannot read {rel}: {e}")))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o111 != 0 {
        return Err(NoPatch(format!(
            "{rel} is already executable: the permission problem is elsewhere"
        )));
    }
    Ok(FileChange {
        path: rel,
        before: Some(text.clone()),
        after: text,
        mode: Some(mode | (mode & 0o444) >> 2),
    })
}

/// Files beside the finding's whose names a typo may mean, and how much of them is read.
const MAX_SIBLINGS: usize = 64;
const MAX_SIBLING_BYTES: u64 = 256 << 10;

/// The identifiers of `text` (the file at `rel`) and of the files beside it with the
/// same extension, each read through the path policy; sorted, each once.
fn nearby_identifiers(policy: &PathPolicy, rel: &str, text: &str) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut add = |text: &str| {
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
            if word.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '$')
                && word.chars().count() >= 2
            {
                names.insert(word.to_string());
            }
        }
    };
    add(text);
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    // `rel` passed the policy; each sibling is read through it too.
    let listed = std::fs::read_dir(policy.root().join(dir)).ok();
    if let (Some(ext), Some(entries)) = (ext, listed) {
        let mut siblings: Vec<String> = entries
            .flatten()
            .filter(|e| {
                e.metadata()
                    .is_ok_and(|m| m.is_file() && m.len() <= MAX_SIBLING_BYTES)
            })
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n != name && n.rsplit_once('.').is_some_and(|(_, e)| e == ext))
            .collect();
        siblings.sort();
        for sibling in siblings.into_iter().take(MAX_SIBLINGS) {
            let path = if dir.is_empty() {
                sibling
            } else {
                format!("{dir}/{sibling}")
            };
            if let Ok(text) = policy.read_text(&path) {
                add(&text);
            }
        }
    }
    names.into_iter().collect()
}

/// The one quoted name of `choices` (`"a", "b"`) closest to `old`, when it is within
/// a third of its length in edits (at least one) and no other is as close.
pub(super) fn closest_name(old: &str, choices: &str) -> Option<String> {
    let names: Vec<&str> = choices
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|n| !n.is_empty())
        .collect();
    let mut scored: Vec<(usize, &str)> =
        names.iter().map(|n| (edit_distance(old, n), *n)).collect();
    scored.sort();
    let limit = (old.chars().count() / 3).max(1);
    match scored.as_slice() {
        [(d, n), rest @ ..] if *d > 0 && *d <= limit && rest.first().is_none_or(|r| r.0 > *d) => {
            Some(n.to_string())
        }
        _ => None,
    }
}

/// Edits between `a` and `b`, a swap of two neighbours counting as one (typos).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The job ids of a workflow (the keys one level under a top-level `jobs:`) with
/// the line each starts on (1-based).
fn workflow_jobs(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.trim_end() == "jobs:") else {
        return Vec::new();
    };
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut level = None;
    let mut jobs = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(start + 1) {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent(l) == 0 {
            break;
        }
        let at = *level.get_or_insert(indent(l));
        if indent(l) == at {
            if let Some(key) = t
                .strip_suffix(':')
                .or_else(|| t.split_once(": ").map(|(k, _)| k))
            {
                jobs.push((key.trim_matches(['"', '\'']).to_string(), i + 1));
            }
        }
    }
    jobs
}

/// The line of job `job`'s `needs:` that names `old`, and the one other job id
/// close to `old`.
fn closest_needs(text: &str, job: &str, old: &str) -> Option<(usize, String)> {
    let jobs = workflow_jobs(text);
    let i = jobs.iter().position(|(name, _)| name == job)?;
    let from = jobs[i].1;
    let to = jobs.get(i + 1).map_or(usize::MAX, |j| j.1);
    let others: Vec<String> = jobs
        .iter()
        .filter(|(name, _)| name != job)
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    let new = closest_name(old, &others.join(", "))?;
    // `needs: x`, `needs: [a, x]`, or a `- x` item of a `needs:` list.
    let mut in_needs = false;
    for (n, l) in text.lines().enumerate().map(|(n, l)| (n + 1, l)) {
        if n <= from || n >= to {
            continue;
        }
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("needs:") {
            in_needs = rest.trim().is_empty();
            if replace_token(rest, None, old, &new).is_some() {
                return Some((n, new));
            }
        } else if in_needs && t.starts_with('-') {
            if replace_token(t, None, old, &new).is_some() {
                return Some((n, new));
            }
        } else {
            in_needs = false;
        }
    }
    None
}

/// `line` with the key or name `old` (letters, digits, `_`, `-`) replaced by `new`:
/// at the 1-based `column` when given, else its one occurrence.
fn replace_token(line: &str, column: Option<usize>, old: &str, new: &str) -> Option<String> {
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let whole = |i: usize| {
        !line[..i].chars().next_back().is_some_and(part)
            && !line[i + old.len()..].chars().next().is_some_and(part)
    };
    let spots: Vec<usize> = line
        .match_indices(old)
        .map(|(i, _)| i)
        .filter(|i| whole(*i))
        .collect();
    let at = match column {
        Some(c) => line
            .char_indices()
            .nth(c.checked_sub(1)?)
            .map(|(i, _)| i)
            .filter(|i| spots.contains(i))?,
        None if spots.len() == 1 => spots[0],
        None => return None,
    };
    Some(format!("{}{new}{}", &line[..at], &line[at + old.len()..]))
}

/// A release version (`3.7`, `1.0.105`, `2024`) as numbers; `None` for anything
/// else (a pre-release, a range).
fn release(v: &str) -> Option<Vec<u64>> {
    v.split('.').map(|p| p.parse().ok()).collect()
}

/// Manifests a version fix may edit: never a lockfile, which the tool regenerates.
fn is_manifest(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    matches!(
        name,
        "Cargo.toml" | "package.json" | "pyproject.toml" | "go.mod"
    ) || (name.starts_with("requirements") && name.ends_with(".txt"))
}

/// The edit for `pick-version`, and the version chosen.
fn pick_version(
    finding: &Finding,
    policy: &PathPolicy,
    caps: &BTreeMap<String, String>,
    manifests: &[String],
) -> Result<(FileChange, String), NoPatch> {
    let get = |k: &str| caps.get(k).map(String::as_str).unwrap_or("");
    let (name, versions) = (get("name"), get("versions"));
    let wanted = get("wanted").trim_start_matches(['^', '~', '=', '>', '<', '!', 'v', ' ']);
    let want =
        release(wanted).ok_or_else(|| NoPatch(format!("`{wanted}` is not a plain version")))?;
    let newest = versions
        .split([',', ' '])
        .map(|v| v.trim_matches(['`', '"', '\'']))
        .filter(|v| !v.is_empty() && *v != "and")
        .filter_map(|v| release(v).map(|r| (r, v)))
        .max()
        .ok_or_else(|| NoPatch("the tool listed no release versions".into()))?;
    if newest.0 >= want {
        return Err(NoPatch(format!(
            "{wanted} is not newer than every listed version: which one is meant needs a human"
        )));
    }
    // The manifest the finding names, else the first of `manifests` that names the
    // package with that version.
    let (named, at_line) = match &finding.location {
        Some(loc) => (
            vec![paths::resolve(policy, &loc.file)
                .ok_or_else(|| NoPatch(format!("{} is not a file in the project", loc.file)))?],
            loc.line.map(|n| n as usize),
        ),
        None => (manifests.to_vec(), None),
    };
    let mut found = None;
    for rel in named.iter().filter(|m| policy.is_readable_file(m)) {
        if !is_manifest(rel) {
            return Err(NoPatch(format!("{rel} is not a manifest")));
        }
        let text = read(policy, rel)?;
        let hits = version_lines(&text, name, wanted);
        let on_line: Vec<_> = hits
            .iter()
            .filter(|h| Some(h.0) == at_line)
            .cloned()
            .collect();
        let hits = if on_line.is_empty() { hits } else { on_line };
        match hits.as_slice() {
            [] => continue,
            [(line, at)] => {
                found = Some((rel.clone(), text, *line, *at));
                break;
            }
            _ => {
                return Err(NoPatch(format!(
                    "{rel} names {name} {wanted} more than once"
                )))
            }
        }
    }
    let (rel, text, line, at) =
        found.ok_or_else(|| NoPatch(format!("no manifest has a line with {name} {wanted}")))?;
    let text_line = text.lines().nth(line - 1).unwrap_or("");
    let new = format!(
        "{}{}{}",
        &text_line[..at],
        newest.1,
        &text_line[at + wanted.len()..]
    );
    let t = Target {
        path: rel,
        text: text.clone(),
        line,
    };
    let after = t.with_line(&new);
    Ok((t.change(after)?, newest.1.to_string()))
}

/// The lines (1-based) of `text` that name `name` and `version` as whole tokens,
/// with the byte offset of the version.
fn version_lines(text: &str, name: &str, version: &str) -> Vec<(usize, usize)> {
    fn token(line: &str, t: &str) -> Option<usize> {
        let is_part = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
        line.match_indices(t).map(|(i, _)| i).find(|i| {
            let before = line[..*i].chars().next_back();
            let after = line[i + t.len()..].chars().next();
            !before.is_some_and(is_part) && !after.is_some_and(is_part)
        })
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| token(l, name).is_some())
        .filter_map(|(i, l)| token(l, version).map(|at| (i + 1, at)))
        .collect()
}

/// Why a template whose `match` or `requires` fails makes no patch.
const NOT_SHOWN: &str = "the log does not show what this fix needs";

fn render(text: &str, caps: &BTreeMap<String, String>) -> String {
    render_explanation(text, &|name| caps.get(name).cloned())
}

/// The 1-based line of the test function that contains `line`: the nearest line at
/// or above it that defines a function named like a test (`def test_`, `fn `,
/// `it(`, `test(`), indented less than or as much as `line`.
fn enclosing_test(text: &str, line: usize) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let start = lines.get(line.checked_sub(1)?)?;
    let mut limit = indent(start);
    for n in (0..line).rev() {
        let l = lines[n];
        let t = l.trim_start();
        if t.is_empty() {
            continue;
        }
        if indent(l) > limit {
            continue;
        }
        limit = indent(l);
        let is_test = t.starts_with("def test")
            || t.starts_with("async def test")
            || t.starts_with("fn ")
            || t.starts_with("it(")
            || t.starts_with("test(");
        if is_test {
            return Some(n + 1);
        }
    }
    None
}
