//! Settings, layered like bacon: built-in defaults, then the user's
//! `~/.config/cars/config.toml`, then the project's `.cars.toml`. The project's file is
//! the repository authors' input, so until the user runs `cars trust` it may only make
//! cars stricter: higher gates, jobs shown but not run. Unknown keys are an error, so
//! a typo never silently falls back to a default.

use crate::policy::trust::{ProjectFiles, TrustError, TrustState, TrustStore};
use crate::policy::ConfigSource;
use crate::repair::Gates;
use crate::watch::jobs::{Job, WatchConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
}

/// One config file as written: every key optional, so layers can be merged.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    gates: GatesFile,
    #[serde(default)]
    watch: Option<WatchConfig>,
    #[serde(default, rename = "job")]
    jobs: Vec<Job>,
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
        let watch = file.watch.unwrap_or_else(|| self.watch.clone());
        crate::watch::jobs::validate(&watch, &file.jobs).map_err(bad)?;
        if !trusted && !watch.make.is_empty() {
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
