//! `cars run CMD`: run a command, stream its output with a live count, then analyze
//! it and record the session with the command (so `cars apply` validates with it).

use super::Outcome;
use crate::front::workspace::Workspace;
use clap::Args;
use std::io::IsTerminal;
use std::path::Path;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars run cargo test\n  cars run -- npm test -- --ci\n  \
cars run \"make -j4 check\"\n\nThe output is analyzed line by line while the command runs; the \
session records the command, so `cars apply` re-runs it to validate a fix. The log of the \
last passing run of the same command is the baseline (see --no-baseline)."
)]
pub struct RunArgs {
    /// Do not compare with the last passing run of the same command (by default its
    /// log, kept in the store, is the baseline: lines it also had are not findings)
    #[arg(long)]
    pub no_baseline: bool,
    /// The command and its arguments (run with `sh -c`)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(args: RunArgs, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let command = args.command.join(" ");
    let mut ws = Workspace::open(store_dir, None, std::io::stdout().is_terminal())?;
    ws.engine.use_baseline = !args.no_baseline;
    let mut out = std::io::stdout().lock();
    ws.run(&command, &mut out)?;
    let errors = ws
        .findings()?
        .iter()
        .any(|f| f.level == cars::rules::model::Level::Error);
    Ok(if errors {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}
