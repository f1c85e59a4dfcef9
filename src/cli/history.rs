//! `cars history` and `cars stats`: what cars did in this project, and how well.

use super::{ListFormat, Outcome};
use cars::report::repair as view;
use clap::Args;
use std::io::{IsTerminal, Write};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this session's events
    #[arg(long, value_name = "N")]
    pub session: Option<i64>,

    /// At most this many events
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,

    #[arg(short, long, value_enum, default_value_t)]
    pub format: ListFormat,
}

pub fn run(args: HistoryArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let store = crate::front::open_store(store_dir)?;
    let entries = store.history(args.session, args.limit)?;
    let stdout = std::io::stdout();
    let width = crate::front::table_width(stdout.is_terminal());
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ListFormat::Table => view::write_history(&entries, width, &mut out)?,
        ListFormat::Json => {
            let doc = serde_json::json!({
                "schema": "cars/history/v1",
                "sessions": store.sessions()?,
                "events": entries,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(short, long, value_enum, default_value_t)]
    pub format: ListFormat,
}

pub fn stats(args: StatsArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let store = crate::front::open_store(store_dir)?;
    let stats = store.stats()?;
    let stdout = std::io::stdout();
    let width = crate::front::table_width(stdout.is_terminal());
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        ListFormat::Table => view::write_stats(&stats, width, &mut out)?,
        ListFormat::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"schema": "cars/stats/v1", "stats": stats}),
            )?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}
