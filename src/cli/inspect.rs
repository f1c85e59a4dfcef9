//! `cars list`, `show`, `explain`, `diff`, `reject`: the session commands as
//! subcommands, so scripts never need the REPL. Each is one `Workspace` call.

use super::Outcome;
use crate::front::workspace::Workspace;
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, Args)]
pub struct SessionArg {
    /// The session to use [default: the latest]
    #[arg(long, value_name = "N")]
    pub session: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum InspectCommand {
    /// List the session's findings, or group them by category, severity or step
    List {
        #[arg(value_parser = ["category", "severity", "step"])]
        by: Option<String>,
        #[command(flatten)]
        at: SessionArg,
    },
    /// Show a finding: its log excerpt and the source lines it points at
    Show {
        finding: String,
        #[command(flatten)]
        at: SessionArg,
    },
    /// Explain a finding: what it means, the usual fix, how sure cars is
    Explain {
        finding: String,
        #[command(flatten)]
        at: SessionArg,
    },
    /// Show a patch's diff, origin, confidence and status
    Diff {
        patch: String,
        #[command(flatten)]
        at: SessionArg,
    },
    /// Correct a finding's category (recorded for `cars learn train`)
    Label {
        finding: String,
        category: cars::rules::model::Category,
        #[command(flatten)]
        at: SessionArg,
    },
    /// Reject a proposed patch (recorded; it will not be applied)
    Reject {
        patch: String,
        /// Why, for the record and for learning
        reason: Vec<String>,
        #[command(flatten)]
        at: SessionArg,
    },
}

impl InspectCommand {
    fn session(&self) -> Option<i64> {
        match self {
            InspectCommand::List { at, .. }
            | InspectCommand::Show { at, .. }
            | InspectCommand::Explain { at, .. }
            | InspectCommand::Diff { at, .. }
            | InspectCommand::Label { at, .. }
            | InspectCommand::Reject { at, .. } => at.session,
        }
    }
}

pub fn run(cmd: InspectCommand, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let stdout = std::io::stdout();
    let mut ws = Workspace::open(store_dir, cmd.session(), stdout.is_terminal())?;
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cmd {
        InspectCommand::List { by, .. } => ws.list(by.as_deref(), &mut out)?,
        InspectCommand::Show { finding, .. } => ws.show(&finding, &mut out)?,
        InspectCommand::Explain { finding, .. } => ws.explain(&finding, &mut out)?,
        InspectCommand::Label {
            finding, category, ..
        } => ws.label(&finding, category, &mut out)?,
        InspectCommand::Diff { patch, .. } => ws.diff(&patch, &mut out)?,
        InspectCommand::Reject { patch, reason, .. } => {
            let reason = reason.join(" ");
            ws.reject(
                &patch,
                (!reason.is_empty()).then_some(reason.as_str()),
                &mut out,
            )?
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}
