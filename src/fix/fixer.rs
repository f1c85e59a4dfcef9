//! The tools' own fixers as a patch source (`ruff check --fix`, `cargo clippy --fix`,
//! `black`, `prettier --write`...), described as data in `src/fixers.toml`. A fixer
//! runs on a scratch copy of the project, never in place; its change to the finding's
//! file (near the finding's line, or the whole file for a formatter) becomes an
//! ordinary patch. Depends on `analyze` (the finding), `policy` (what may be read and
//! written, and who is trusted) and `exec` (the one process spawner); never prints.

use super::{paths, FileChange, NoPatch, Patch, Strategy};
use crate::analyze::Finding;
use crate::policy::{Access, PathPolicy, Provenance};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

const BUILTIN: &str = include_str!("../fixers.toml");

/// How far the tool itself vouches for its fixes; decides the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Safety {
    /// Each fix is marked behaviour-preserving by the tool (ruff's safe fixes).
    Safe,
    /// rustc/clippy MachineApplicable suggestions (what cargo fix applies).
    MachineApplicable,
    /// Layout only.
    Formatter,
    /// The tool says the fix may change behaviour (ruff `--unsafe-fixes`).
    Unsafe,
    /// The tool does not grade its fixes (phpcbf, goimports, stylelint): a person
    /// looks at each one.
    Unmarked,
    /// A fix the tool offers but does not apply itself (ESLint's suggestions): a
    /// person looks at each one.
    Suggestion,
}

/// Where a fixer's change comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// The files it rewrote in the scratch copy.
    #[default]
    Files,
    /// ESLint's `--format json` on stdout: the first suggestion of the finding's
    /// rule at its line and column, made by cars on the file as it reads it.
    EslintJson,
}

/// Which of the fixer's changes to the finding's file a patch keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The hunks at or within `NEAR` lines of the finding's line.
    Region,
    /// Every change to the file (formatters).
    File,
}

/// One fixer entry of `fixers.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixer {
    pub id: String,
    /// The tool named in the patch's provenance.
    pub tool: String,
    /// Findings of these tools...
    #[serde(default)]
    pub tools: Vec<String>,
    /// ...or with these rule ids are served.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Only files ending so (empty: any).
    #[serde(default)]
    pub extensions: Vec<String>,
    pub program: String,
    /// The project's own copy of the program, preferred over PATH.
    #[serde(default)]
    pub local: Option<String>,
    /// Files the project must have (`Cargo.toml` for `cargo fmt`).
    #[serde(default)]
    pub needs: Vec<String>,
    pub command: String,
    pub safety: Safety,
    pub scope: Scope,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub runs_project_code: bool,
    /// Programs whose presence in the session's command allows a fixer that runs
    /// project code in an untrusted project.
    #[serde(default)]
    pub allowed_by: Vec<String>,
    /// Seconds.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Rule codes whose fix the tool marks unsafe only because it may delete a comment
    /// (its own documentation says so): such a fix that deletes none is graded as a
    /// safe one, though never for `--auto`.
    #[serde(default)]
    pub unsafe_only_for_comments: Vec<String>,
    /// What starts a comment in the files this fixer edits (`#`).
    #[serde(default)]
    pub comment: Option<String>,
}

fn default_timeout() -> u64 {
    120
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixerFile {
    fixer: Vec<Fixer>,
}

#[derive(Debug, thiserror::Error)]
pub enum FixerError {
    #[error("fixers: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("fixer {id}: {message}")]
    Invalid { id: String, message: String },
}

/// Parses a fixers file and checks each entry's command.
pub fn parse(text: &str) -> Result<Vec<Fixer>, FixerError> {
    let file: FixerFile = toml::from_str(text)?;
    for f in &file.fixer {
        let invalid = |message: &str| FixerError::Invalid {
            id: f.id.clone(),
            message: message.into(),
        };
        if !f.command.contains("{program}") {
            return Err(invalid("the command must run {program}"));
        }
        if f.tools.is_empty() && f.rules.is_empty() {
            return Err(invalid("serves no tool and no rule"));
        }
        if f.runs_project_code && f.allowed_by.is_empty() {
            return Err(invalid("runs project code but names no allowed_by program"));
        }
        if !f.unsafe_only_for_comments.is_empty()
            && (f.safety != Safety::Unsafe || f.comment.as_deref().is_none_or(str::is_empty))
        {
            return Err(invalid(
                "unsafe_only_for_comments needs safety = \"unsafe\" and a comment marker",
            ));
        }
    }
    Ok(file.fixer)
}

/// The fixers shipped with cars.
pub fn builtin() -> &'static [Fixer] {
    static FIXERS: OnceLock<Vec<Fixer>> = OnceLock::new();
    FIXERS.get_or_init(|| parse(BUILTIN).expect("the built-in fixers parse (tested)"))
}

/// Hunks this many lines from the finding's line still belong to it: a fix for a
/// warning on a `let` may also touch the line above or below.
const NEAR: usize = 3;
/// A project larger than this is not copied for a fixer.
const MAX_COPY_FILES: usize = 50_000;
const MAX_COPY_BYTES: u64 = 512 << 20;

/// What one propose call knows to run fixers: whether the project may run its own
/// code, the session's command, and the runs made so far (each (fixer, command)
/// runs at most once per call, however many findings share it).
pub struct Delegation {
    pub fixers: &'static [Fixer],
    /// The user ran `cars trust` on the project as it is now.
    pub trusted: bool,
    /// The command the session's log came from (`cargo build`), when known.
    pub command: Option<String>,
    /// Where cargo builds (`CARGO_TARGET_DIR`) instead of the project's `target/`.
    pub target_dir: Option<PathBuf>,
    runs: RefCell<HashMap<String, Result<Run, String>>>,
}

impl Delegation {
    pub fn new(trusted: bool, command: Option<String>, target_dir: Option<PathBuf>) -> Self {
        Delegation {
            fixers: builtin(),
            trusted,
            command,
            target_dir,
            runs: RefCell::new(HashMap::new()),
        }
    }
}

/// Where cargo builds for the fixers of the project at `root`: a cache under cars'
/// data dir (`$CARS_DATA_DIR`, else the user's cache dir), one per project, so the
/// project's own `target/` is never written and later runs are incremental.
pub fn target_dir(root: &Path) -> Option<PathBuf> {
    use sha2::{Digest, Sha256};
    let base = std::env::var_os("CARS_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::cache_dir().map(|d| d.join("cars")))?;
    let hash = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let key: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    Some(base.join("fixer-target").join(key))
}

/// What a fixer changed in the scratch copy: the text after, by project path, for
/// every copied file it modified (`None`: not UTF-8).
#[derive(Debug, Clone)]
struct Run {
    changed: std::collections::BTreeMap<String, Option<String>>,
    /// What the command printed on stdout, for `Output::EslintJson` (else empty).
    stdout: String,
}

/// Patches from the fixers that serve `finding`: `Ok(vec![])` when none serves it,
/// `Err` with the reasons when some serve it and none made a patch.
pub fn propose(
    finding: &Finding,
    policy: &PathPolicy,
    delegation: &Delegation,
    earlier: &[Patch],
) -> Result<Vec<Patch>, NoPatch> {
    let serving: Vec<&Fixer> = delegation
        .fixers
        .iter()
        .filter(|f| f.tools.contains(&finding.tool) || f.rules.contains(&finding.rule))
        .collect();
    if serving.is_empty() {
        return Ok(Vec::new());
    }
    let file = finding
        .location
        .as_ref()
        .and_then(|l| paths::resolve(policy, &l.file));
    let Some(file) = file else {
        return Ok(Vec::new());
    };
    let ext = Path::new(&file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let mut reasons = Vec::new();
    for fixer in serving
        .into_iter()
        .filter(|f| f.extensions.is_empty() || f.extensions.iter().any(|e| e == ext))
    {
        match one(fixer, finding, &file, policy, delegation, earlier) {
            Ok(patch) => return Ok(vec![patch]),
            Err(reason) => {
                if !reasons.contains(&reason) {
                    reasons.push(reason)
                }
            }
        }
    }
    if reasons.is_empty() {
        return Ok(Vec::new());
    }
    Err(NoPatch(reasons.join("; ")))
}

fn one(
    fixer: &Fixer,
    finding: &Finding,
    file: &str,
    policy: &PathPolicy,
    delegation: &Delegation,
    earlier: &[Patch],
) -> Result<Patch, String> {
    let root = policy.root();
    if let Some(missing) = fixer.needs.iter().find(|n| !root.join(n).is_file()) {
        return Err(format!("{} needs {missing}", fixer.id));
    }
    if fixer.runs_project_code
        && !delegation.trusted
        && !command_runs(delegation.command.as_deref(), &fixer.allowed_by)
    {
        return Err(format!(
            "{} runs the project's own code (build scripts, config files, plugins); \
             allow it with `cars trust`, or analyze a run of the command that already \
             runs it (`cars analyze LOG --command '{} ...'`)",
            fixer.id, fixer.allowed_by[0]
        ));
    }
    let code = finding.captures.get("code").map(String::as_str);
    if fixer.command.contains("{code}") && !code.is_some_and(plain_code) {
        return Err(format!("{} needs the finding's rule code", fixer.id));
    }
    let with_args = with_session_args(&fixer.command, delegation.command.as_deref());
    let program =
        locate(fixer, policy).ok_or_else(|| format!("{} is not installed", fixer.program))?;
    let expand = |program: &str| {
        with_args
            .replace("{program}", program)
            .replace("{file}", &shell_quote(file))
            .replace("{code}", code.unwrap_or(""))
    };
    let command = expand(&shell_quote(&program.to_string_lossy()));
    let shown = expand(&fixer.program);
    let key = format!("{}\0{command}", fixer.id);
    let run = {
        let mut runs = delegation.runs.borrow_mut();
        runs.entry(key)
            .or_insert_with(|| {
                run_in_scratch(
                    root,
                    policy,
                    &command,
                    Duration::from_secs(fixer.timeout),
                    delegation.target_dir.as_deref(),
                    fixer.output != Output::Files,
                )
                .map_err(|e| format!("`{shown}`: {e}"))
            })
            .clone()?
    };
    let suggested;
    let after = match fixer.output {
        Output::Files => {
            let Some(after) = run.changed.get(file) else {
                return Err(format!("`{shown}` did not change {file}"));
            };
            after
                .as_ref()
                .ok_or_else(|| format!("`{shown}` left {file} not UTF-8"))?
        }
        Output::EslintJson => {
            suggested = eslint_suggestion(&run.stdout, file, finding, policy)
                .map_err(|e| format!("`{shown}`: {e}"))?;
            &suggested
        }
    };
    let provenance = Provenance::Fixer {
        tool: fixer.tool.clone(),
    };
    policy
        .check(file, Access::Write(&provenance))
        .map_err(|e| e.to_string())?;
    let before = policy.read_text(file).map_err(|e| e.to_string())?;
    let line = finding.location.as_ref().and_then(|l| l.line);
    let kept = match (fixer.scope, line) {
        (Scope::Region, Some(line)) => keep_near(&before, after, line as usize),
        _ => (before != *after).then(|| after.clone()),
    };
    let Some(kept) = kept else {
        return Err(format!(
            "`{shown}` changed {file}, but not near line {}",
            line.unwrap_or(0)
        ));
    };
    let only_this_file = run.changed.len() == 1;
    // The tool's only doubt about this fix is a comment it may delete: none is.
    let keeps_comments = fixer.safety == Safety::Unsafe
        && code.is_some_and(|c| fixer.unsafe_only_for_comments.iter().any(|u| u == c))
        && fixer
            .comment
            .as_deref()
            .is_some_and(|marker| keeps_every_comment(&before, &kept, marker));
    let safety = if keeps_comments {
        Safety::Safe
    } else {
        fixer.safety
    };
    // The auto gate: only a fix the tool itself marks safe, made by a run that changed
    // nothing but this file, on a finding that failed the build. Anything else (a
    // formatter's rewrite of a whole file, cargo fix with `--broken-code`, a fixer
    // that also touched other files we dropped) waits for a person.
    let failed_build = finding.level == crate::rules::model::Level::Error;
    let safe_auto = fixer.safety == Safety::Safe && only_this_file && failed_build;
    // A formatter asked to fix the very check that failed (`black --check` ->
    // `black`): its rewrite is what the command demands. Auto, but only with the
    // session's command to validate it (`Gates::decide` asks for one).
    let own_check = fixer.safety == Safety::Formatter
        && only_this_file
        && (fixer.rules.contains(&finding.rule) || finding.tool == fixer.tool)
        && command_runs(
            delegation.command.as_deref(),
            &[fixer.program.clone(), fixer.tool.clone()],
        );
    // A fixer that applies only MachineApplicable suggestions (cargo fix, clippy
    // --fix) made, on its own run, exactly the change the log's suggestion for this
    // finding makes: the tool, not the log text, vouches for it.
    let confirmed = fixer.safety == Safety::MachineApplicable
        && only_this_file
        && failed_build
        && earlier.iter().any(|p| {
            p.finding == finding.id
                && p.provenance.from_log()
                && p.files.len() == 1
                && p.files[0].path == file
                && p.files[0].after == kept
        });
    let auto = safe_auto || own_check || confirmed;
    let confidence = match safety {
        _ if auto => 0.92,
        Safety::Safe
        | Safety::MachineApplicable
        | Safety::Formatter
        | Safety::Unmarked
        | Safety::Suggestion => 0.85,
        Safety::Unsafe => 0.65,
    };
    let what = match safety {
        Safety::MachineApplicable if confirmed => {
            "its machine-applicable fixes, the same change the log suggests"
        }
        Safety::Formatter if own_check => "its formatting, which the failing check asks for",
        Safety::Safe if keeps_comments => {
            "a fix it marks unsafe only because it may delete comments (it deletes none)"
        }
        Safety::Safe => "its safe fixes",
        Safety::MachineApplicable => "its machine-applicable fixes",
        Safety::Formatter => "its formatting",
        Safety::Unsafe => "fixes it marks unsafe",
        Safety::Unmarked => "its fixes",
        Safety::Suggestion => "its suggestion, which it does not apply by itself",
    };
    let place = match (fixer.scope, line) {
        (Scope::Region, Some(l)) => format!("{file} near line {l}"),
        _ => file.to_string(),
    };
    Ok(Patch {
        finding: finding.id.clone(),
        rule: finding.rule.clone(),
        strategy: Strategy::SyntaxRepair,
        origin: format!("{} fixer `{shown}`", fixer.tool),
        provenance,
        confidence,
        rationale: format!("`{shown}` on a scratch copy: {what} to {place}"),
        auto,
        files: vec![FileChange {
            path: file.to_string(),
            before: Some(before),
            after: kept,
            mode: None,
        }],
    })
}

/// True when every comment of `before` (the text from `marker` to the end of a line,
/// counted with repeats) is still in `after`. A marker inside a string counts too, so
/// a fix that drops such a string is not taken for comment-safe.
fn keeps_every_comment(before: &str, after: &str, marker: &str) -> bool {
    let comments = |text: &str| -> HashMap<String, usize> {
        let mut all = HashMap::new();
        for line in text.lines() {
            if let Some(at) = line.find(marker) {
                *all.entry(line[at..].trim_end().to_string()).or_insert(0) += 1;
            }
        }
        all
    };
    let kept = comments(after);
    comments(before)
        .iter()
        .all(|(c, n)| kept.get(c).is_some_and(|m| m >= n))
}

/// Expands each `{arg:--NAME}` of `command` to `--NAME=VALUE` when the session's
/// command passed `--NAME=VALUE` or `--NAME VALUE` (so `phpcbf` fixes to the same
/// `--standard` that `phpcs` checked), else to nothing. A value that is not a plain
/// word or a relative path inside the project is dropped: it goes into a shell command.
fn with_session_args(command: &str, session: Option<&str>) -> String {
    let mut out = String::with_capacity(command.len());
    let mut rest = command;
    while let Some(at) = rest.find("{arg:") {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else {
            break;
        };
        let name = &rest[at + 5..at + end];
        if let Some(value) = session.and_then(|s| session_arg(s, name)) {
            out.push_str(&format!("{name}={value}"));
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

fn session_arg<'a>(session: &'a str, name: &str) -> Option<&'a str> {
    let words: Vec<&str> = session.split_whitespace().collect();
    let value = words.iter().enumerate().find_map(|(i, w)| {
        if *w == name {
            words.get(i + 1).copied()
        } else {
            w.strip_prefix(name).and_then(|v| v.strip_prefix('='))
        }
    })?;
    let plain = !value.is_empty()
        && value.len() <= 200
        && !value.starts_with(['/', '-'])
        && !value.split('/').any(|part| part == "..")
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.,/".contains(c));
    plain.then_some(value)
}

/// A rule code from the log goes into a shell command: letters, digits and `_-:/`.
fn plain_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-:/".contains(c))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// True when `command` runs one of `programs` (as a word, or a path ending in it).
pub(super) fn command_runs(command: Option<&str>, programs: &[String]) -> bool {
    let Some(command) = command else {
        return false;
    };
    command
        .split(|c: char| c.is_whitespace() || ";&|()`'\"".contains(c))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .any(|w| programs.iter().any(|p| p == w))
}

/// The fixer's program: the project's own (`node_modules/.bin/eslint`), else on PATH.
fn locate(fixer: &Fixer, policy: &PathPolicy) -> Option<PathBuf> {
    if let Some(local) = &fixer.local {
        if let Ok(path) = policy.check(local, Access::Read) {
            return Some(path);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(&fixer.program))
        .find(|p| is_executable(p))
}

pub(super) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Copies the project into a temporary directory, runs `command` there and returns
/// which copied files it changed. The real project is only read.
fn run_in_scratch(
    root: &Path,
    policy: &PathPolicy,
    command: &str,
    timeout: Duration,
    target_dir: Option<&Path>,
    keep_stdout: bool,
) -> Result<Run, String> {
    let scratch = tempfile::Builder::new()
        .prefix("cars-fixer-")
        .tempdir()
        .map_err(|e| format!("no scratch directory: {e}"))?;
    let mut copied = Vec::new();
    let mut bytes = 0;
    copy_tree(root, root, scratch.path(), policy, &mut copied, &mut bytes)?;
    let target = match target_dir {
        Some(t) => t.to_path_buf(),
        None => scratch.path().join(".cars-target"),
    };
    let env = [
        (
            "CARGO_TARGET_DIR".to_string(),
            target.to_string_lossy().into_owned(),
        ),
        ("CARGO_TERM_COLOR".into(), "never".into()),
        ("NO_COLOR".into(), "1".into()),
    ];
    let mut tail: Vec<String> = Vec::new();
    let mut stdout = Vec::new();
    let exit = crate::exec::run(
        command,
        scratch.path(),
        &env,
        Some(timeout),
        &mut |stream, line| {
            if keep_stdout
                && stream == crate::exec::Stream::Stdout
                && stdout.len() + line.len() <= MAX_STDOUT
            {
                stdout.extend_from_slice(line);
            }
            if tail.len() == 4 {
                tail.remove(0);
            }
            tail.push(crate::policy::quote_log_text(&String::from_utf8_lossy(
                line,
            )));
        },
    )
    .map_err(|e| format!("could not run: {e}"))?;
    if exit.timed_out {
        return Err(format!("timed out after {}s", timeout.as_secs()));
    }
    let mut changed = std::collections::BTreeMap::new();
    for rel in copied {
        let (Ok(new), Ok(old)) = (
            std::fs::read(scratch.path().join(&rel)),
            std::fs::read(root.join(&rel)),
        ) else {
            continue;
        };
        if new != old {
            changed.insert(rel, String::from_utf8(new).ok());
        }
    }
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    if changed.is_empty() && !exit.success && stdout.trim().is_empty() {
        let said = tail.iter().rev().find(|l| !l.is_empty()).cloned();
        return Err(format!(
            "changed nothing (exit {}{})",
            exit.code.map_or("by signal".into(), |c| c.to_string()),
            said.map(|s| format!(": {s}")).unwrap_or_default()
        ));
    }
    Ok(Run { changed, stdout })
}

/// Output kept from a fixer that answers on stdout.
const MAX_STDOUT: usize = 16 << 20;

#[derive(Deserialize)]
struct EslintResult {
    #[serde(rename = "filePath")]
    file_path: String,
    #[serde(default)]
    messages: Vec<EslintMessage>,
}

#[derive(Deserialize)]
struct EslintMessage {
    #[serde(rename = "ruleId")]
    rule_id: Option<String>,
    line: Option<u64>,
    column: Option<u64>,
    #[serde(default)]
    suggestions: Vec<EslintSuggestion>,
}

#[derive(Deserialize)]
struct EslintSuggestion {
    fix: EslintFix,
}

/// `text` replaces the UTF-16 units `range[0]..range[1]`.
#[derive(Deserialize)]
struct EslintFix {
    range: [usize; 2],
    text: String,
}

/// `file` after ESLint's first suggestion for the finding's rule at its line (and
/// column, when known), from ESLint's JSON report of the scratch copy.
fn eslint_suggestion(
    stdout: &str,
    file: &str,
    finding: &Finding,
    policy: &PathPolicy,
) -> Result<String, String> {
    let results: Vec<EslintResult> =
        serde_json::from_str(stdout.trim()).map_err(|_| "printed no JSON report".to_string())?;
    let code = finding.captures.get("code").map(String::as_str);
    let loc = finding.location.as_ref();
    let (line, column) = (loc.and_then(|l| l.line), loc.and_then(|l| l.column));
    let suffix = format!("/{file}");
    let message = results
        .iter()
        .filter(|r| r.file_path == file || r.file_path.ends_with(&suffix))
        .flat_map(|r| &r.messages)
        .find(|m| {
            m.rule_id.as_deref() == code
                && m.line == line
                && (column.is_none() || m.column == column)
        })
        .ok_or_else(|| {
            format!(
                "reports no {} at {file}:{}",
                code.unwrap_or("problem"),
                line.unwrap_or(0)
            )
        })?;
    let first = message
        .suggestions
        .first()
        .ok_or_else(|| format!("has no suggestion for {}", code.unwrap_or("it")))?;
    let before = policy.read_text(file).map_err(|e| e.to_string())?;
    // ESLint counts from after a byte-order mark; cars does not guess.
    if before.starts_with('\u{feff}') {
        return Err(format!("{file} starts with a byte-order mark"));
    }
    let [start, end] = first.fix.range;
    let edit = super::tsfix::Utf16Edit {
        start,
        length: end.checked_sub(start).ok_or("a reversed range")?,
        text: first.fix.text.clone(),
    };
    super::tsfix::apply_utf16(&before, std::slice::from_ref(&edit))
        .ok_or_else(|| format!("its suggestion does not fit {file}"))
}

/// Directories never copied: VCS data, build output, caches.
const SKIP_DIRS: &[&str] = &[
    ".git",
    "target",
    ".ruff_cache",
    ".mypy_cache",
    ".pytest_cache",
    "__pycache__",
    ".tox",
    ".venv",
    "venv",
];

fn copy_tree(
    root: &Path,
    dir: &Path,
    to: &Path,
    policy: &PathPolicy,
    copied: &mut Vec<String>,
    bytes: &mut u64,
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("copying the project: {e}");
    std::fs::create_dir_all(to).map_err(io)?;
    let mut entries: Vec<_> = std::fs::read_dir(dir).map_err(io)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name_str) = name.to_str() else {
            continue;
        };
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name_str == "node_modules" && kind.is_dir() {
            // Linked, not copied: the fixer needs its packages and never writes
            // there (it is given one file); nothing under it becomes a patch.
            std::os::unix::fs::symlink(&path, to.join(&name)).map_err(io)?;
            continue;
        }
        if kind.is_symlink() {
            // A link could lead the fixer back into the real project: left out.
            continue;
        }
        if kind.is_dir() {
            if SKIP_DIRS.contains(&name_str) || policy_store(policy, &path) {
                continue;
            }
            copy_tree(root, &path, &to.join(&name), policy, copied, bytes)?;
        } else if kind.is_file() {
            *bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            if copied.len() >= MAX_COPY_FILES || *bytes > MAX_COPY_BYTES {
                return Err("the project is too large to copy for a fixer".into());
            }
            std::fs::copy(&path, to.join(&name)).map_err(io)?;
            copied.push(rel);
        }
    }
    Ok(())
}

fn policy_store(policy: &PathPolicy, path: &Path) -> bool {
    policy.store().is_some_and(|s| path.starts_with(s))
}

/// `after` with only the changes at or near 1-based `line` taken from it; `None` when
/// none is near.
fn keep_near(before: &str, after: &str, line: usize) -> Option<String> {
    use similar::{capture_diff_slices, Algorithm, DiffOp};
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    let ops = capture_diff_slices(Algorithm::Myers, &old, &new);
    let at = line.saturating_sub(1);
    let mut out = String::new();
    let mut kept = false;
    let mut i = 0;
    while i < ops.len() {
        if let DiffOp::Equal { old_index, len, .. } = ops[i] {
            out.extend(old[old_index..old_index + len].iter().copied());
            i += 1;
            continue;
        }
        // A hunk: the run of changes up to the next unchanged line.
        let first = i;
        while i < ops.len() && !matches!(ops[i], DiffOp::Equal { .. }) {
            i += 1;
        }
        let (o, n) = (
            ops[first].old_range().start..ops[i - 1].old_range().end,
            ops[first].new_range().start..ops[i - 1].new_range().end,
        );
        if at + NEAR >= o.start && at < o.end + NEAR {
            out.extend(new[n].iter().copied());
            kept = true;
        } else {
            out.extend(old[o].iter().copied());
        }
    }
    kept.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_fixers_parse_and_name_known_rules() {
        let fixers = builtin();
        assert!(fixers.iter().any(|f| f.id == "ruff-fix"));
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules load");
        for f in fixers {
            for r in &f.rules {
                assert!(rules.rules.iter().any(|x| &x.spec.id == r), "{}: {r}", f.id);
            }
        }
    }

    #[test]
    fn session_arguments_are_passed_on_only_when_plain() {
        let cmd = "{program} {arg:--standard} -q {file}";
        let phpcs = Some("phpcs --standard=PSR12 --report=full src");
        assert_eq!(
            with_session_args(cmd, phpcs),
            "{program} --standard=PSR12 -q {file}"
        );
        let spaced = Some("vendor/bin/phpcs --standard ci/ruleset.xml src");
        assert_eq!(
            with_session_args(cmd, spaced),
            "{program} --standard=ci/ruleset.xml -q {file}"
        );
        for bad in [
            "phpcs --standard='$(touch x)' src",
            "phpcs --standard=/etc/x.xml src",
            "phpcs --standard=../x.xml src",
        ] {
            assert_eq!(with_session_args(cmd, Some(bad)), "{program}  -q {file}");
        }
        assert_eq!(with_session_args(cmd, None), "{program}  -q {file}");
    }

    #[test]
    fn a_comment_lost_or_moved_is_told_apart() {
        let before = "x = 1  # one\n# keep\ny = 2\n";
        assert!(keeps_every_comment(before, "# keep\nx = 1  # one\n", "#"));
        assert!(!keeps_every_comment(before, "x = 1\n# keep\n", "#"));
        // Two equal comments, one deleted: a loss.
        assert!(!keeps_every_comment("# a\n# a\n", "# a\n", "#"));
        let parsed = parse(
            "[[fixer]]\nid = \"x\"\ntool = \"t\"\ntools = [\"t\"]\nprogram = \"t\"\n\
             command = \"{program}\"\nsafety = \"safe\"\nscope = \"file\"\n\
             unsafe_only_for_comments = [\"F841\"]\ncomment = \"#\"\n",
        );
        assert!(
            parsed.is_err(),
            "only an unsafe fixer can list comment-only rules"
        );
    }

    #[test]
    fn only_the_hunks_near_the_line_are_kept() {
        let before = "import os\nimport sys\n\n\n\n\n\nx = 1\nimport re\n";
        let after = "import sys\n\n\n\n\n\nx = 1\n";
        assert_eq!(
            keep_near(before, after, 1).unwrap(),
            "import sys\n\n\n\n\n\nx = 1\nimport re\n"
        );
        assert_eq!(
            keep_near(before, after, 9).unwrap(),
            "import os\nimport sys\n\n\n\n\n\nx = 1\n"
        );
        assert_eq!(keep_near(before, after, 5), None);
    }

    #[test]
    fn a_session_command_allows_the_tool_it_runs() {
        let cargo = ["cargo".to_string()];
        assert!(command_runs(Some("cargo clippy -- -D warnings"), &cargo));
        assert!(command_runs(
            Some("cd x && ~/.cargo/bin/cargo build"),
            &cargo
        ));
        assert!(!command_runs(Some("make test"), &cargo));
        assert!(!command_runs(None, &cargo));
        assert!(plain_code("F401") && plain_code("clippy::len_zero"));
        assert!(!plain_code("F401;rm -rf ~") && !plain_code("$(x)"));
    }
}
