//! `cars heal -- CMD`: the loop from red to green in one command. The engine's
//! `Session::heal` does the work; this file parses flags, asks on a terminal and
//! prints the summary.

use super::{ListFormat, Outcome};
use crate::front::workspace::{explain, Spinner};
use anyhow::Context;
use cars::repair::run::ShellRunner;
use cars::report::repair as view;
use cars::session::heal::{Answer, HealOptions, Reviewer, TakeAll};
use cars::store::StoredPatch;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars heal -- cargo build\n  cars heal --approve -- npm test\n  \
cars heal --rounds 3 --time 10m -- make check\n\nEach round runs the command, analyzes its output, \
proposes patches and applies what the gates allow (with --approve: what you accept), each \
validated by running the command again and rolled back when it makes things worse. It stops \
when the command passes, when a round makes no progress, or when --rounds or --time is spent. \
Exit status: 0 only when the command passes at the end, 1 when it still fails."
)]
pub struct HealArgs {
    /// The command that must pass (run with `sh -c`)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,

    /// Ask for every patch at the approve gate: y(es), n(o), d(iff), q(uit)
    #[arg(long)]
    pub approve: bool,

    /// With --approve, also offer the patches that need --force
    #[arg(long, requires = "approve")]
    pub force: bool,

    /// At most this many rounds
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rounds: u32,

    /// No new round after this long: 90, 90s, 10m, 1h
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = parse_duration)]
    pub time: Duration,

    /// Seconds each run of the command may take before its process group is killed
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub timeout: u64,

    /// Commit each kept patch with git
    #[arg(long)]
    pub commit: bool,

    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

/// `90`, `90s`, `500ms`, `10m`, `1h`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration: use 90, 90s, 500ms, 10m or 1h"))?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("`{s}`: the unit is ms, s, m or h")),
    })
}

/// Asks on stderr, reads the answer from stdin (a terminal, or a script's lines).
struct Ask {
    color: bool,
}

impl Reviewer for Ask {
    fn review(&mut self, p: &StoredPatch) -> Answer {
        let mut err = std::io::stderr();
        let files: Vec<&str> = p.patch.files.iter().map(|f| f.path.as_str()).collect();
        let _ = writeln!(
            err,
            "{} for {} ({}, confidence {:.2}): {}\n  changes {}",
            p.id,
            p.patch.finding,
            p.patch.strategy.as_str(),
            p.patch.confidence,
            p.patch.rationale,
            files.join(", ")
        );
        loop {
            let _ = write!(err, "apply {}? [y]es, [n]o, [d]iff, [q]uit: ", p.id);
            let _ = err.flush();
            let mut line = String::new();
            match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => return Answer::Quit,
                Ok(_) => {}
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Answer::Yes,
                "n" | "no" => return Answer::No,
                "q" | "quit" => return Answer::Quit,
                "d" | "diff" => {
                    let _ = view::write_diff(&p.patch.redacted_diff(), self.color, &mut err);
                }
                _ => {}
            }
        }
    }
}

pub fn run(args: HealArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut session = crate::front::open_session(&cwd, store_dir)?;
    let opts = HealOptions {
        command: args.command.join(" "),
        rounds: args.rounds as usize,
        budget: args.time,
        timeout: Duration::from_secs(args.timeout),
        ask: args.approve,
        force: args.force,
        commit: args.commit,
    };
    let mut ask = Ask {
        color: crate::front::use_color(std::io::stderr().is_terminal()),
    };
    let mut take_all = TakeAll;
    let reviewer: &mut dyn Reviewer = if args.approve {
        &mut ask
    } else {
        &mut take_all
    };
    let report = session
        .heal(&opts, reviewer, &ShellRunner, &Spinner::new())
        .map_err(explain)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        ListFormat::Table => cars::report::heal::write_text(&report, &mut out)?,
    }
    Ok(if report.passed {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}
