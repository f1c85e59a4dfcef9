//! `cars config`: the effective settings for this project, layer by layer, and where
//! each value came from (built-in, the user's config, the project's `.cars.toml`).

use super::Outcome;
use anyhow::Context;
use cars::policy::trust::TrustState;
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars config\n  cars config --defaults > ~/.config/cars/config.toml\n\n\
Layers, lowest first: the built-in defaults, ~/.config/cars/config.toml, the project's \
.cars.toml. Until `cars trust`, the project's file may only raise the gates; its jobs are \
shown but not run."
)]
pub struct ConfigArgs {
    /// Print the built-in defaults (a commented config file) instead
    #[arg(long)]
    pub defaults: bool,
}

pub fn run(args: ConfigArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if args.defaults {
        out.write_all(cars::config::DEFAULTS.as_bytes())?;
        return Ok(Outcome::Clean);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = cars::store::locate(&cwd, store_dir).project_root;
    let config = crate::front::load_config(&root)?;
    let trust = match config.trust {
        Some(TrustState::Trusted) => "trusted",
        Some(TrustState::Untrusted { changed: true }) => "not trusted (changed since trusted)",
        Some(TrustState::Untrusted { .. }) => "not trusted",
        Some(TrustState::NoConfig) | None => "none",
    };
    writeln!(out, "# project {} (own config: {trust})", root.display())?;
    let from = |key: &str| {
        config
            .sources
            .get(key)
            .cloned()
            .unwrap_or_else(|| "built-in".into())
    };
    let g = &config.gates;
    writeln!(out, "[gates]")?;
    for (key, v) in [("auto", g.auto), ("approve", g.approve), ("force", g.force)] {
        writeln!(out, "{key} = {v:.2}  # {}", from(&format!("gates.{key}")))?;
    }
    let w = &config.watch;
    writeln!(out, "\n[watch]")?;
    let list = |v: &[String]| format!("{v:?}");
    for (key, v) in [
        ("jobs", list(&w.jobs)),
        ("make", list(&w.make)),
        ("debounce_ms", w.debounce_ms.to_string()),
        ("output_lines", w.output_lines.to_string()),
        ("disable", list(&w.disable)),
    ] {
        writeln!(out, "{key} = {v}  # {}", from(&format!("watch.{key}")))?;
    }
    for job in &config.jobs {
        let held = if job.held { ", shown but not run" } else { "" };
        writeln!(
            out,
            "\n[[job]]  # {}{held}\nname = {:?}\ncommand = {:?}",
            from(&format!("job.{}", job.name)),
            job.name,
            job.command
        )?;
    }
    Ok(Outcome::Clean)
}
