//! `cars export`: a report of one session (findings, patches, decisions, outcomes)
//! as markdown for a PR or job summary, json for tools, or plain text.

use super::Outcome;
use cars::report::session::{self, ExportFormat, SessionReport};
use clap::{Args, ValueEnum};
use std::io::Write;

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum ExportFormatArg {
    /// GitHub-flavoured markdown: summary tables, findings, diffs, decisions, outcomes
    #[default]
    Markdown,
    /// The report as JSON (schema cars/session/v1, see README.md)
    Json,
    /// Plain text, lines of at most 100 characters, no colour
    Text,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cars export                                # the latest session as markdown\n  \
cars export -o cars-report.md\n  \
cars export --format json --session 3 -o session-3.json\n  \
cars export >> \"$GITHUB_STEP_SUMMARY\"       # a GitHub Actions job summary\n\n\
Counts of patches say what ever happened to them: a patch that failed validation and \
passed on a later try counts as failed and as validated.")]
pub struct ExportArgs {
    /// Output format
    #[arg(short, long, value_enum, default_value_t)]
    pub format: ExportFormatArg,

    /// Write to FILE (replaced atomically) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// The session to report [default: the latest]
    #[arg(long, value_name = "N")]
    pub session: Option<i64>,
}

pub fn run(args: ExportArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let store = crate::front::open_store(store_dir)?;
    let id = store.resolve_session(args.session)?;
    let report = SessionReport::load(&store, id)?;
    let format = match args.format {
        ExportFormatArg::Markdown => ExportFormat::Markdown,
        ExportFormatArg::Json => ExportFormat::Json,
        ExportFormatArg::Text => ExportFormat::Text,
    };
    match &args.output {
        Some(path) => {
            crate::front::write_atomically(path, |out| session::write(&report, format, out))?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            session::write(&report, format, &mut out)?;
            out.flush()?;
        }
    }
    Ok(Outcome::Clean)
}
