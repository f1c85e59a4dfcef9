//! Command-line front end: one file per subcommand, each a short function over the
//! engine. This module owns argument parsing, exit codes and error printing.

mod analyze;
mod apply;
mod completions;
mod config;
mod export;
mod flaky;
mod heal;
mod history;
mod inspect;
mod learn;
mod patch;
mod rules;
mod run;
#[cfg(feature = "serve")]
mod serve;
mod session;
mod trust;
pub mod watch;

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
    /// Run a command and repair what breaks it, round after round, until it passes
    Heal(heal::HealArgs),
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
    /// Tests that failed and passed on the same code; reruns to tell flaky from real
    Flaky(flaky::FlakyArgs),
    /// What cars learned from outcomes: success rates; reset, export, import
    #[command(subcommand)]
    Learn(learn::LearnCommand),
    /// List, check and test the error rules
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Serve the REST API, /metrics, a status page and webhooks for teams and CI
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
    /// Handle jobs from a Redis stream: analyze logs, heal projects, as one of many workers
    #[cfg(feature = "serve")]
    Worker(crate::serve::worker::WorkerArgs),
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
        Command::Heal(args) => heal::run(args, store),
        Command::Rollback(args) => apply::rollback(args, store),
        Command::History(args) => history::run(args, store),
        Command::Stats(args) => history::stats(args, store),
        Command::Config(args) => config::run(args, store),
        Command::Trust(args) => trust::run(args, store),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Learn(cmd) => learn::run(cmd),
        Command::Flaky(args) => flaky::run(args, store),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args, store),
        Command::Completions(args) => completions::run(args),
        #[cfg(feature = "serve")]
        Command::Worker(args) => crate::serve::worker::run(args, store),
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

pub(crate) use heal::parse_duration;

/// Table or JSON, for the repair subcommands.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub enum ListFormat {
    #[default]
    Table,
    Json,
}
