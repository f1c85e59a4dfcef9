//! `cars learn`: what the knowledge base has learned from outcomes, and its upkeep.

use super::Outcome;
use anyhow::Context;
use cars::learn::Knowledge;
use clap::Subcommand;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
#[command(
    after_help = "Examples:\n  cars learn stats\n  cars learn reset --rule rust.E0425\n  \
cars learn export > knowledge.json\n  cars learn import knowledge.json\n\n\
Every outcome of a patch (validated, validation failed, rejected, rolled back, applied \
without validation) is kept per rule, fix source and project in the user's data dir \
(CARS_DATA_DIR overrides), shared across projects. A patch's confidence is its source's own \
confidence moved by the recent history of that source on that rule: `cars explain E3` shows \
the parts."
)]
pub enum LearnCommand {
    /// Success rates by rule, fix source and project, with counts
    Stats {
        #[arg(long, value_enum, default_value_t)]
        format: super::ListFormat,
    },
    /// Forget the outcomes (of one rule with --rule)
    Reset {
        #[arg(long, value_name = "RULE")]
        rule: Option<String>,
    },
    /// Write every outcome as JSON (schema cars/knowledge/v1)
    Export,
    /// Retrain the category classifier with your `cars label` corrections added
    Train,
    /// Add the outcomes of an export
    Import {
        /// The JSON file (`-`: standard input)
        file: PathBuf,
    },
}

pub fn run(cmd: LearnCommand) -> anyhow::Result<Outcome> {
    let mut kb = Knowledge::open_default()?;
    let mut out = std::io::stdout().lock();
    match cmd {
        LearnCommand::Stats { format } => {
            let rows = kb.stats()?;
            match format {
                super::ListFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "rates": rows }))?;
                    writeln!(out)?;
                }
                super::ListFormat::Table if rows.is_empty() => {
                    writeln!(out, "Nothing learned yet: outcomes are recorded as patches are applied, validated, rejected or rolled back.")?;
                }
                super::ListFormat::Table => {
                    let width = crate::front::table_width(std::io::stdout().is_terminal());
                    cars::report::repair::write_rates(&rows, width, &mut out)?;
                }
            }
        }
        LearnCommand::Reset { rule } => {
            let n = kb.reset(rule.as_deref())?;
            let what = cars::report::plural(n as u64, "outcome");
            match rule {
                Some(r) => writeln!(out, "forgot {what} of rule {r}")?,
                None => writeln!(out, "forgot {what}")?,
            }
        }
        LearnCommand::Train => {
            let n = kb.train()?;
            writeln!(
                out,
                "trained: the shipped model plus {} ({}); analysis uses it from now on",
                cars::report::plural(n as u64, "correction"),
                cars::learn::classifier::user_model_path().display()
            )?;
        }
        LearnCommand::Export => {
            kb.export(&mut out)?;
        }
        LearnCommand::Import { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let n = kb
                .import(&text)
                .with_context(|| format!("{}", file.display()))?;
            writeln!(
                out,
                "imported {}",
                cars::report::plural(n as u64, "outcome")
            )?;
        }
    }
    Ok(Outcome::Clean)
}
