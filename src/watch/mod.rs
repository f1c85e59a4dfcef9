//! `cars watch`, the engine half: which jobs a project has (jobs.rs), running them
//! with their output streamed as events (runner.rs), and which jobs a file change
//! concerns (changes.rs). Depends on config.rs only; the TUI owns all display.

pub mod changes;
pub mod jobs;
pub mod runner;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(
        "no jobs found in {root}: there is no Cargo.toml, package.json (with test, lint or \
         build scripts), pyproject.toml, setup.cfg, requirements.txt or go.mod here; add a \
         [[job]] table with a name and a command to .cars.toml"
    )]
    NoJobs { root: PathBuf },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error(".cars.toml: {0}")]
    Selection(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("watching {path}: {source}{hint}")]
    Notify {
        path: PathBuf,
        #[source]
        source: notify::Error,
        /// Set when the kernel's inotify limits are the likely cause.
        hint: String,
    },
}
