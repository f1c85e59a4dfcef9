//! Project settings from `.cars.toml` at the project root (after the user's
//! `~/.config/cars/config.toml`): the confidence gates, and the jobs `cars watch`
//! runs (`[watch]`, `[[job]]`). Unknown keys are an error, so a typo never silently
//! falls back to a default.

use crate::repair::Gates;
use crate::watch::jobs::{Job, WatchConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub gates: Gates,
    #[serde(default)]
    pub watch: WatchConfig,
    #[serde(default, rename = "job")]
    pub jobs: Vec<Job>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl Config {
    /// The project's `.cars.toml`, else the user's config file, else defaults.
    pub fn load(project_root: &Path) -> Result<Config, ConfigError> {
        let candidates = [
            Some(project_root.join(".cars.toml")),
            dirs::config_dir().map(|d| d.join("cars").join("config.toml")),
        ];
        for path in candidates.into_iter().flatten() {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            return Config::parse(&text).map_err(|message| ConfigError { path, message });
        }
        Ok(Config::default())
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        let g = &config.gates;
        if !(0.0..=1.0).contains(&g.force)
            || g.force > g.approve
            || g.approve > g.auto
            || g.auto > 1.0
        {
            return Err(format!(
                "[gates] must satisfy 0 <= force <= approve <= auto <= 1 (got {}, {}, {})",
                g.force, g.approve, g.auto
            ));
        }
        crate::watch::jobs::validate(&config.watch, &config.jobs)?;
        Ok(config)
    }
}

/// Where user-level and project-level fix templates live, in load order.
pub fn template_dirs(project_root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = dirs::config_dir()
        .map(|d| d.join("cars").join("templates"))
        .into_iter()
        .collect();
    dirs.push(project_root.join(".cars").join("templates"));
    dirs
}
