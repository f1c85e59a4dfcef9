//! Settings, layered like bacon: built-in defaults, then the user's
//! `~/.config/cars/config.toml`, then the project's `.cars.toml`. The project's file is
//! the repository authors' input, so until the user runs `cars trust` it may only make
//! cars stricter: higher gates, jobs shown but not run. Unknown keys are an error, so
//! a typo never silently falls back to a default.

use crate::policy::trust::{ProjectFiles, TrustError, TrustState, TrustStore};
use crate::policy::ConfigSource;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Confidence thresholds that decide who may apply a patch (`[gates]`); the decision
/// itself is `repair`'s (`Gates::decide`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gates {
    /// At or above: `apply --auto` may apply it.
    pub auto: f64,
    /// At or above: applied on explicit approval (`cars apply P1`).
    pub approve: f64,
    /// At or above: applied only with `--force`; below: report only.
    pub force: f64,
}

impl Default for Gates {
    /// The `[gates]` of the embedded `defaults.toml`.
    fn default() -> Self {
        let g = defaults().gates;
        Gates {
            auto: g.auto.unwrap_or(0.90),
            approve: g.approve.unwrap_or(0.75),
            force: g.force.unwrap_or(0.60),
        }
    }
}

/// The built-in defaults, the first layer (`src/defaults.toml`, embedded).
pub const DEFAULTS: &str = include_str!("defaults.toml");

fn defaults() -> &'static ConfigFile {
    static PARSED: std::sync::OnceLock<ConfigFile> = std::sync::OnceLock::new();
    // A test parses the embedded file, so this cannot fail in a shipped binary.
    PARSED.get_or_init(|| toml::from_str(DEFAULTS).unwrap_or_default())
}

/// One command `cars watch` runs and re-runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// "check", "clippy", "test", "lint", "tsc", "pytest", ...
    pub name: String,
    /// Run with `sh -c`.
    pub command: String,
    /// Added to the inherited environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Relative to the project root; the root when absent.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Globs relative to the root; empty: every change that is not ignored.
    #[serde(default)]
    pub watch: Vec<String>,
    /// Rule-id prefixes to prefer when ranking this job's findings.
    #[serde(default)]
    pub hints: Vec<String>,
    /// Shown but not run: it comes from a project config the user has not trusted.
    #[serde(skip)]
    pub held: bool,
}

impl Job {
    pub(crate) fn new(name: &str, command: &str, watch: &[&str], hints: &[&str]) -> Job {
        Job {
            name: name.to_string(),
            command: command.to_string(),
            env: BTreeMap::new(),
            cwd: None,
            watch: watch.iter().map(|s| s.to_string()).collect(),
            hints: hints.iter().map(|s| s.to_string()).collect(),
            held: false,
        }
    }

    /// The directory the job runs in.
    pub fn dir(&self, root: &Path) -> PathBuf {
        match &self.cwd {
            Some(cwd) => root.join(cwd),
            None => root.to_path_buf(),
        }
    }

    /// Its `watch` globs compiled; `None` when it has none (it watches everything).
    pub fn watch_set(&self) -> Result<Option<GlobSet>, String> {
        if self.watch.is_empty() {
            return Ok(None);
        }
        let mut set = GlobSetBuilder::new();
        for pattern in &self.watch {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("job `{}`: watch glob `{pattern}`: {e}", self.name))?;
            set.add(glob);
        }
        set.build()
            .map(Some)
            .map_err(|e| format!("job `{}`: watch globs: {e}", self.name))
    }
}

/// `[watch]` in `.cars.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// The jobs to run, in this order; empty: every detected and configured job.
    pub jobs: Vec<String>,
    /// Makefile targets to run as jobs (`make <target>`), named after the target.
    pub make: Vec<String>,
    /// Quiet time after the last file change before jobs re-run.
    pub debounce_ms: u64,
    /// Output lines the TUI keeps per job.
    pub output_lines: usize,
    /// Jobs not to run (names that are not jobs here are ignored).
    pub disable: Vec<String>,
}

impl Default for WatchConfig {
    /// The `[watch]` of the embedded `defaults.toml`.
    fn default() -> Self {
        let w = &defaults().watch;
        WatchConfig {
            jobs: w.jobs.clone().unwrap_or_default(),
            make: w.make.clone().unwrap_or_default(),
            debounce_ms: w.debounce_ms.unwrap_or(50),
            output_lines: w.output_lines.unwrap_or(10_000),
            disable: w.disable.clone().unwrap_or_default(),
        }
    }
}

/// Checks the watch-related parts of a parsed `.cars.toml` (called for every config layer).
pub fn validate_watch(watch: &WatchConfig, jobs: &[Job]) -> Result<(), String> {
    if watch.output_lines == 0 {
        return Err("[watch] output_lines must be at least 1".into());
    }
    if watch.debounce_ms > 60_000 {
        return Err(format!(
            "[watch] debounce_ms = {} is over a minute; it is in milliseconds",
            watch.debounce_ms
        ));
    }
    for (i, job) in jobs.iter().enumerate() {
        if job.name.trim().is_empty() || job.name.chars().any(char::is_whitespace) {
            return Err(format!(
                "[[job]] name `{}` must be one word (it is how [watch] jobs names it)",
                job.name
            ));
        }
        if job.command.trim().is_empty() {
            return Err(format!("[[job]] `{}` has an empty command", job.name));
        }
        if jobs[..i].iter().any(|j| j.name == job.name) {
            return Err(format!("[[job]] `{}` is defined twice", job.name));
        }
        if let Some(cwd) = &job.cwd {
            if cwd.is_absolute()
                || cwd
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(format!(
                    "[[job]] `{}`: cwd must be a path inside the project root",
                    job.name
                ));
            }
        }
        job.watch_set()?;
    }
    for name in &watch.jobs {
        if watch.disable.contains(name) {
            return Err(format!(
                "[watch] `{name}` is both in jobs and in disable; keep one"
            ));
        }
    }
    for target in &watch.make {
        if target.is_empty() || target.starts_with('-') || target.contains(char::is_whitespace) {
            return Err(format!("[watch] make: `{target}` is not a make target"));
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub gates: Gates,
    pub watch: WatchConfig,
    pub jobs: Vec<Job>,
    /// Whether the project's own configuration is used in full.
    pub trust: Option<TrustState>,
    /// What the project's configuration asked for and did not get, one line each,
    /// for the front ends to show (with how to allow it).
    pub withheld: Vec<String>,
    /// `[watch] make` came from an untrusted project file: its jobs are held.
    pub make_held: bool,
    /// Where each effective value came from (`gates.auto` -> `built-in`, a path).
    pub sources: BTreeMap<String, String>,
}

/// One config file as written: every key optional, so layers can be merged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    gates: GatesFile,
    #[serde(default)]
    watch: WatchFile,
    #[serde(default, rename = "job")]
    jobs: Vec<Job>,
}

/// `[watch]` as written: each key laid over the layers below on its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchFile {
    jobs: Option<Vec<String>>,
    make: Option<Vec<String>>,
    debounce_ms: Option<u64>,
    output_lines: Option<usize>,
    disable: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GatesFile {
    auto: Option<f64>,
    approve: Option<f64>,
    force: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl From<TrustError> for ConfigError {
    fn from(e: TrustError) -> Self {
        let path = match &e {
            TrustError::Io { path, .. } | TrustError::Corrupt { path, .. } => path.clone(),
        };
        ConfigError {
            path,
            message: e.to_string(),
        }
    }
}

/// The user's config file.
pub fn user_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("cars").join("config.toml"))
}

fn read_layer(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ConfigError {
                path: path.to_path_buf(),
                message: format!("cannot read it: {e}"),
            })
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(Some(file))
}

impl Config {
    /// The settings for the project at `root`, with the user's trust list deciding how
    /// much of its `.cars.toml` applies.
    pub fn load(project_root: &Path) -> Result<Config, ConfigError> {
        let trust = TrustStore::load()?;
        let root = project_root
            .canonicalize()
            .unwrap_or_else(|_| project_root.to_path_buf());
        let state = trust.state(&root, &ProjectFiles::read(&root)?);
        let user = match user_config_path() {
            Some(p) => read_layer(&p)?.map(|f| (p, f)),
            None => None,
        };
        let project_path = root.join(".cars.toml");
        let project = read_layer(&project_path)?;
        let mut config = Self::layered(user, project.map(|f| (project_path, f)), state)?;
        if !state.allows() {
            if root.join(".cars/templates").is_dir() {
                config
                    .withheld
                    .push("fix templates in .cars/templates are not loaded".into());
            }
            if root.join(".cars/patterns").is_dir() {
                config.withheld.push(
                    "rules in .cars/patterns may only add findings (ignore, disabled and replacing rules are left out)"
                        .into(),
                );
            }
            if !config.withheld.is_empty() {
                config.withheld.push(untrusted_hint(state).into());
            }
        }
        Ok(config)
    }

    /// Parses one config file's text on its own (defaults below it, fully trusted).
    pub fn parse(text: &str) -> Result<Config, String> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        Self::layered(
            None,
            Some((PathBuf::from(".cars.toml"), file)),
            TrustState::Trusted,
        )
        .map_err(|e| e.message)
    }

    fn layered(
        user: Option<(PathBuf, ConfigFile)>,
        project: Option<(PathBuf, ConfigFile)>,
        state: TrustState,
    ) -> Result<Config, ConfigError> {
        let mut config = Config {
            trust: Some(state),
            ..Config::default()
        };
        config.merge(Path::new("built-in"), defaults().clone(), true)?;
        if let Some((path, file)) = user {
            config.merge(&path, file, true)?;
        }
        if let Some((path, file)) = project {
            config.merge(&path, file, state.allows())?;
        }
        Ok(config)
    }

    /// Lays `file` over the settings so far. An untrusted file may raise gates and add
    /// jobs that are shown but held; anything else it asks for is withheld.
    fn merge(&mut self, path: &Path, file: ConfigFile, trusted: bool) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError {
            path: path.to_path_buf(),
            message,
        };
        let g = file.gates;
        let mut gates = self.gates;
        for (name, asked, current) in [
            ("auto", g.auto, &mut gates.auto),
            ("approve", g.approve, &mut gates.approve),
            ("force", g.force, &mut gates.force),
        ] {
            let Some(v) = asked else { continue };
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!("[gates] {name} = {v} is outside 0..=1")));
            }
            if trusted || v >= *current {
                *current = v;
                self.sources
                    .insert(format!("gates.{name}"), path.display().to_string());
            } else {
                self.withheld.push(format!(
                    "[gates] {name} = {v} from {} is lower than {:.2}; kept {:.2}",
                    path.display(),
                    *current,
                    *current
                ));
            }
        }
        if gates.force > gates.approve || gates.approve > gates.auto {
            return Err(bad(format!(
                "[gates] must satisfy 0 <= force <= approve <= auto <= 1 (got {}, {}, {})",
                gates.force, gates.approve, gates.auto
            )));
        }
        self.gates = gates;
        let mut watch = self.watch.clone();
        let w = file.watch;
        let source = path.display().to_string();
        let mut set = |key: &str| {
            self.sources.insert(format!("watch.{key}"), source.clone());
        };
        if let Some(v) = w.jobs {
            watch.jobs = v;
            set("jobs");
        }
        if let Some(v) = w.make {
            watch.make = v;
            set("make");
        }
        if let Some(v) = w.debounce_ms {
            watch.debounce_ms = v;
            set("debounce_ms");
        }
        if let Some(v) = w.output_lines {
            watch.output_lines = v;
            set("output_lines");
        }
        if let Some(v) = w.disable {
            watch.disable = v;
            set("disable");
        }
        validate_watch(&watch, &file.jobs).map_err(bad)?;
        if !trusted && !watch.make.is_empty() && self.watch.make != watch.make {
            self.make_held = true;
            self.withheld.push(format!(
                "[watch] make targets ({}) are shown but not run",
                watch.make.join(", ")
            ));
        }
        self.watch = watch;
        for mut job in file.jobs {
            if !trusted {
                self.withheld.push(format!(
                    "[[job]] `{}` (`{}`) is shown but not run",
                    job.name, job.command
                ));
                job.held = true;
            }
            self.sources
                .insert(format!("job.{}", job.name), path.display().to_string());
            self.jobs.retain(|j| j.name != job.name);
            self.jobs.push(job);
        }
        Ok(())
    }

    /// True when the project's own rules and templates may be loaded in full.
    pub fn project_trusted(&self) -> bool {
        self.trust.is_none_or(|t| t.allows())
    }
}

fn untrusted_hint(state: TrustState) -> &'static str {
    match state {
        TrustState::Untrusted { changed: true } => {
            "the project's cars configuration changed since you trusted it; review it, then run `cars trust` to allow it"
        }
        _ => "the project's cars configuration is not trusted; review it, then run `cars trust` to allow it",
    }
}

/// The user's fix templates, and the project's when trusted, in load order.
pub fn template_dirs(project_root: &Path, project_trusted: bool) -> Vec<(PathBuf, ConfigSource)> {
    let mut dirs: Vec<(PathBuf, ConfigSource)> = dirs::config_dir()
        .map(|d| (d.join("cars").join("templates"), ConfigSource::User))
        .into_iter()
        .collect();
    if project_trusted {
        dirs.push((
            project_root.join(".cars").join("templates"),
            ConfigSource::Project,
        ));
    }
    dirs
}

/// Where cars keeps what is the user's, not a project's (the trust list, the
/// knowledge base): `CARS_DATA_DIR`, else `cars/` in the user's data dir.
pub fn data_dir() -> PathBuf {
    std::env::var_os("CARS_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("cars")))
        .unwrap_or_else(|| std::env::temp_dir().join("cars"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_defaults_parse_and_are_the_defaults() {
        let file: ConfigFile = toml::from_str(DEFAULTS).unwrap();
        assert_eq!(file.gates.auto, Some(Gates::default().auto));
        assert_eq!(
            file.watch.debounce_ms,
            Some(WatchConfig::default().debounce_ms)
        );
    }

    #[test]
    fn layers_merge_field_by_field_and_say_where_each_value_came_from() {
        let user: ConfigFile =
            toml::from_str("[gates]\napprove = 0.8\n[watch]\noutput_lines = 500\n").unwrap();
        let project: ConfigFile = toml::from_str("[watch]\ndebounce_ms = 200\n").unwrap();
        let c = Config::layered(
            Some((PathBuf::from("user.toml"), user)),
            Some((PathBuf::from(".cars.toml"), project)),
            TrustState::Trusted,
        )
        .unwrap();
        assert_eq!(c.gates.approve, 0.8);
        assert_eq!(c.gates.auto, 0.9);
        assert_eq!((c.watch.output_lines, c.watch.debounce_ms), (500, 200));
        assert_eq!(c.sources["gates.auto"], "built-in");
        assert_eq!(c.sources["gates.approve"], "user.toml");
        assert_eq!(c.sources["watch.output_lines"], "user.toml");
        assert_eq!(c.sources["watch.debounce_ms"], ".cars.toml");
    }
}
