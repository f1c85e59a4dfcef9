//! `cars flaky`: the tests that failed and passed on the same code, and reruns that
//! tell a flaky test from a real failure.

use super::{ListFormat, Outcome};
use crate::front::workspace::Spinner;
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars flaky\n  cars flaky --rerun 5 -- cargo test\n  \
cars flaky --format json\n\n\
Every `cars run`, `cars heal` and `cars watch` run records which tests failed, per command \
and per state of the working tree (HEAD plus changes to tracked files). A test is flaky when \
it failed and passed on the same tree, kept per failure signature: a test that times out now \
and then is not excused when it fails on an assertion. Findings of known flaky tests say so \
and rank below the real causes."
)]
pub struct FlakyArgs {
    /// Rerun the command up to N times, stopping once every failing test has passed
    /// once (flaky) or the runs are spent (a real failure)
    #[arg(long, value_name = "N", requires = "command", value_parser = clap::value_parser!(u64).range(2..=100))]
    pub rerun: Option<u64>,

    /// Seconds each run may take
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub timeout: u64,

    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,

    /// The test command (with --rerun)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

pub fn run(args: FlakyArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut session = crate::front::open_session(&cwd, store_dir)?;
    let mut out = std::io::stdout().lock();
    if let Some(n) = args.rerun {
        let command = args.command.join(" ");
        let r = session.rerun_for_flaky(
            &command,
            n,
            Duration::from_secs(args.timeout),
            &Spinner::new(),
        )?;
        if let ListFormat::Json = args.format {
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "`{command}`: {}{}",
                cars::report::plural(r.runs, "run"),
                if r.passed_once {
                    ", passed at least once"
                } else {
                    ""
                }
            )?;
            if r.tests.is_empty() {
                writeln!(out, "no failing test was named in its output")?;
            }
            for t in &r.tests {
                writeln!(
                    out,
                    "  {}: {} (failed {}, passed {})",
                    t.test, t.verdict, t.failed, t.passed
                )?;
            }
        }
        let real = r.tests.iter().any(|t| t.passed == 0) || (r.tests.is_empty() && !r.passed_once);
        return Ok(if real { Outcome::Found } else { Outcome::Clean });
    }
    if !args.command.is_empty() {
        anyhow::bail!("a command is only taken with --rerun N");
    }
    let flaky = session.store.flaky()?;
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "flaky": flaky }))?;
            writeln!(out)?;
        }
        ListFormat::Table if flaky.is_empty() => writeln!(
            out,
            "No flaky test known: none has both failed and passed on the same tree (runs of `cars run`, `cars heal`, `cars watch` and `cars flaky --rerun` count)."
        )?,
        ListFormat::Table => {
            for f in &flaky {
                writeln!(
                    out,
                    "{}: failed {} of {} runs ({:.0}%) of `{}`, last {} UTC; signature {}",
                    f.test,
                    f.failures,
                    f.runs,
                    100.0 * f.rate,
                    f.command,
                    cars::report::repair::format_time(f.last_seen),
                    f.signature
                )?;
            }
        }
    }
    Ok(Outcome::Clean)
}
