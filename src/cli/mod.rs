//! Command-line front end: one file per subcommand, each a short function over the
//! engine. This module owns argument parsing, exit codes and error printing.

mod analyze;
mod apply;
mod completions;
mod config;
mod export;
mod history;
mod inspect;
mod patch;
mod progress;
mod rules;
mod run;
mod session;
mod trust;
pub mod watch;
pub mod workspace;

use clap::{Parser, Subcommand};
use std::io::{self, Write};
use std::process::ExitCode;

/// cars finds the root cause in a failing CI, build, test or lint log.
#[derive(Debug, Parser)]
#[command(
    name = "cars",
    version,
    about = "Continuous Auto-Repair Service: find the root cause in a failing CI log",
    long_about = "cars reads CI, build, test and lint output, finds each real error, \
groups multi-line errors, ranks the root cause first, categorizes it, scores it with a \
confidence, points at file:line and explains it.",
    after_help = "Examples:\n  cars analyze ci.log\n  gh run view 123 --log-failed | cars analyze -\n  \
cars analyze failed.log --baseline passed.log\n  cars analyze ci.log --format github\n  \
cars patch && cars apply P1 --validate \"cargo test\" --commit\n  cars rollback --last\n  \
cars rules list --tool rustc\n\nExit status: 0 nothing found, 1 errors found, 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Where sessions, patches and backups live [default: .git/cars in a git work
    /// tree, else a per-project directory in the user's data dir]
    #[arg(long, global = true, env = "CARS_STORE", value_name = "DIR")]
    pub store: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find, group, rank and explain the errors in a log
    Analyze(analyze::AnalyzeArgs),
    /// Interactive debugging session over a log, a command or the latest session
    Session(session::SessionArgs),
    /// Run a command, stream its output, analyze it and record a session
    Run(run::RunArgs),
    /// Run the project's jobs in a live TUI; re-run on change; approve fixes with a key
    Watch(watch::WatchArgs),
    #[command(flatten)]
    Inspect(inspect::InspectCommand),
    /// Propose a fix diff for each finding of a session
    Patch(patch::PatchArgs),
    /// Apply patches with a backup, validate them and commit them
    Apply(apply::ApplyArgs),
    /// Undo an applied patch, byte for byte
    Rollback(apply::RollbackArgs),
    /// Show sessions, patches, decisions and outcomes, newest first
    History(history::HistoryArgs),
    /// Success rates by category, rule and strategy; mean time to repair
    Stats(history::StatsArgs),
    /// Write a report of a session: findings, patches, decisions, outcomes
    Export(export::ExportArgs),
    /// Show the effective settings and where each came from
    Config(config::ConfigArgs),
    /// Trust this project's own cars configuration (gates, jobs, rules, templates)
    Trust(trust::TrustArgs),
    /// List, check and test the error rules
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
}

/// What a subcommand reports back to `main`.
pub enum Outcome {
    /// Ran and found nothing wrong.
    Clean,
    /// Ran and found errors (exit 1).
    Found,
}

/// Parses the command line, runs it and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let store = cli.store.as_deref();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args, store),
        Command::Session(args) => session::run(args, store),
        Command::Run(args) => run::run(args, store),
        Command::Watch(args) => watch::run(args, store),
        Command::Inspect(cmd) => inspect::run(cmd, store),
        Command::Export(args) => export::run(args, store),
        Command::Patch(args) => patch::run(args, store),
        Command::Apply(args) => apply::run(args, store),
        Command::Rollback(args) => apply::rollback(args, store),
        Command::History(args) => history::run(args, store),
        Command::Stats(args) => history::stats(args, store),
        Command::Config(args) => config::run(args, store),
        Command::Trust(args) => trust::run(args, store),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Completions(args) => completions::run(args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Found) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "cars: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `cars analyze big.log | head` closes our stdout early; that is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes a report to `path`. A regular file is replaced atomically (temporary file
/// in the same directory, then a rename) keeping its mode; a symlink is written
/// through when its target is in the same directory, refused otherwise; a device or
/// pipe (`/dev/stdout`) is written to directly.
pub fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::{bail, Context};
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut target = path.to_path_buf();
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            let resolved = path
                .canonicalize()
                .with_context(|| format!("{} is a symlink to nowhere", path.display()))?;
            let here = dir.canonicalize().unwrap_or(dir.clone());
            if resolved.parent() != Some(here.as_path()) {
                bail!(
                    "{} is a symlink to {}, outside its directory; write to the target itself if you mean it",
                    path.display(),
                    resolved.display()
                );
            }
            target = resolved;
        }
    }
    let existing = std::fs::metadata(&target).ok();
    if let Some(meta) = existing.as_ref().filter(|m| !m.is_file()) {
        if meta.is_dir() {
            bail!("{} is a directory", target.display());
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        let mut buf = io::BufWriter::new(file);
        write(&mut buf)?;
        buf.flush()?;
        return Ok(());
    }
    let target_dir = target.parent().map(|d| d.to_path_buf()).unwrap_or(dir);
    let mut tmp = tempfile::NamedTempFile::new_in(&target_dir)
        .with_context(|| format!("cannot create a file in {}", target_dir.display()))?;
    {
        let mut buf = io::BufWriter::new(tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush()?;
    }
    tmp.as_file().sync_all()?;
    let mode = existing.map(|m| m.permissions().mode()).unwrap_or(0o644);
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))?;
    tmp.persist(&target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}

/// Opens the project's store and finishes any operation a crash interrupted,
/// saying so on stderr.
pub fn open_store(store_dir: Option<&std::path::Path>) -> anyhow::Result<cars::store::Store> {
    use anyhow::Context;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    open_store_at(&cwd, store_dir)
}

/// `open_store` for the project containing `dir`.
pub fn open_store_at(
    dir: &std::path::Path,
    store_dir: Option<&std::path::Path>,
) -> anyhow::Result<cars::store::Store> {
    let location = cars::store::locate(dir, store_dir);
    let mut store = cars::store::Store::open(&location)?;
    report_recovered(&cars::repair::recover(&mut store)?);
    Ok(store)
}

/// The engine session for the project containing `dir`, saying on stderr what
/// opening it recovered and what an untrusted project config did not get.
pub fn open_session(
    dir: &std::path::Path,
    store_dir: Option<&std::path::Path>,
) -> anyhow::Result<cars::session::Session> {
    let session = cars::session::Session::open(dir, store_dir)?;
    report_recovered(&session.recovered);
    warn_withheld(&session.config);
    Ok(session)
}

fn report_recovered(recovered: &[cars::repair::Recovered]) {
    for r in recovered {
        let what = match r.was {
            cars::store::AppState::Applying => "an interrupted apply of",
            cars::store::AppState::Validating => "an apply interrupted during validation of",
            _ => "an interrupted rollback of",
        };
        match &r.failed {
            None => eprintln!(
                "cars: undid {what} {} (session {}); restored {}",
                r.patch,
                r.session,
                r.files.join(", ")
            ),
            Some(why) => eprintln!(
                "cars: warning: cannot finish {what} {} (session {}) now: {why}",
                r.patch, r.session
            ),
        }
    }
}

/// The layered settings for the project at `root`, telling the user on stderr what an
/// untrusted project configuration asked for and did not get.
pub fn load_config(root: &std::path::Path) -> anyhow::Result<cars::config::Config> {
    let config = cars::config::Config::load(root)?;
    warn_withheld(&config);
    Ok(config)
}

fn warn_withheld(config: &cars::config::Config) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SHOWN: AtomicBool = AtomicBool::new(false);
    if config.withheld.is_empty() || SHOWN.swap(true, Ordering::Relaxed) {
        return;
    }
    for line in &config.withheld {
        eprintln!("cars: {line}");
    }
}

/// The rule sources for a project: its `.cars/patterns` fully only when trusted.
pub fn rule_sources(
    root: &std::path::Path,
    config: &cars::config::Config,
) -> cars::rules::RuleSources {
    cars::rules::RuleSources::standard(Some(root.to_path_buf()), config.project_trusted())
}

/// The fix templates for a project: built in, the user's, the project's when trusted.
pub fn load_templates(
    root: &std::path::Path,
    config: &cars::config::Config,
) -> anyhow::Result<cars::fix::template::Templates> {
    use anyhow::Context;
    cars::fix::template::Templates::load(&cars::config::template_dirs(
        root,
        config.project_trusted(),
    ))
    .context("loading fix templates")
}

/// Terminal width for tables: `COLUMNS`, else 120 on a terminal, else unbounded.
pub fn table_width(to_terminal: bool) -> Option<u16> {
    if !to_terminal {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(120))
}

/// Colour only on a terminal and when `NO_COLOR` is unset.
pub fn use_color(to_terminal: bool) -> bool {
    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Table or JSON, for the repair subcommands.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum ListFormat {
    #[default]
    Table,
    Json,
}
