//! `cars session`: the interactive session over a log, a command's output, or the
//! latest recorded session.

use super::Outcome;
use crate::front::workspace::Workspace;
use clap::Args;
use std::io::IsTerminal;
use std::path::Path;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars session ci.log            # analyze a log, then work on it\n  \
cars session                   # continue the latest session\n  \
cars session --run \"npm test\"   # run a command, then work on its output\n  \
cars session --commit < fix.txt   # scripted: one command per line\n\n\
Commands inside: analyze, run, list, show, explain, patch, diff, approve, reject, rollback, \
stats, export, help, quit. `help` explains each; Tab completes commands, ids and paths."
)]
pub struct SessionArgs {
    /// A log to analyze first (file, `-` is not allowed here: stdin carries commands)
    pub log: Option<String>,

    /// Run this command and analyze its output first
    #[arg(long, value_name = "CMD", conflicts_with = "log")]
    pub run: Option<String>,

    /// The command that produced LOG; `approve` re-runs it to validate a fix
    #[arg(long, value_name = "CMD", requires = "log")]
    pub command: Option<String>,

    /// Continue this session instead of the latest
    #[arg(long, value_name = "N", conflicts_with_all = ["log", "run"])]
    pub session: Option<i64>,

    /// `approve` commits each validated patch with git
    #[arg(long)]
    pub commit: bool,

    /// Open the log (or the latest session's log) in the watch screen instead
    #[arg(long, conflicts_with = "run")]
    pub tui: bool,
}

pub fn run(args: SessionArgs, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    if args.tui {
        let log = match &args.log {
            Some(log) => std::path::PathBuf::from(log),
            None => {
                let store = crate::front::open_store(store_dir)?;
                let session = store.session(store.resolve_session(args.session)?)?;
                let path = std::path::PathBuf::from(&session.source);
                if !path.is_file() {
                    anyhow::bail!(
                        "session {} was not read from a file ({}); pass a log: `cars session --tui ci.log`",
                        session.id,
                        session.source
                    );
                }
                path
            }
        };
        let watch = super::watch::WatchArgs {
            projects: Vec::new(),
            job: None,
            log: Some(log),
            follow: false,
            commit: args.commit,
        };
        return super::watch::run(watch, store_dir);
    }
    let interactive = std::io::stdin().is_terminal();
    let mut ws = Workspace::open(store_dir, args.session, std::io::stdout().is_terminal())?;
    ws.commit = args.commit;
    ws.actor = "repl";
    let mut stdout = std::io::stdout();
    if let Some(log) = &args.log {
        if log == "-" && !interactive {
            anyhow::bail!("stdin carries the session's commands; pass the log as a file");
        }
        ws.analyze(log, args.command.clone(), &mut stdout)?;
    }
    if let Some(cmd) = &args.run {
        ws.run(cmd, &mut stdout)?;
    }
    if interactive {
        let history = ws.store().dir().join("session-history.txt");
        let continuing = args.log.is_none() && args.run.is_none();
        crate::repl::run_interactive(&mut ws, &history, continuing)?;
        Ok(Outcome::Clean)
    } else {
        let stdin = std::io::stdin();
        let ok = crate::repl::run_script(&mut ws, stdin.lock(), &mut stdout)?;
        // A script whose commands failed exits 1, like a test run.
        Ok(if ok { Outcome::Clean } else { Outcome::Found })
    }
}
