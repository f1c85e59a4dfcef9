//! `cars patch`: propose a fix diff for each finding of a session.

use super::Outcome;
use cars::report::repair as view;
use clap::{Args, ValueEnum};
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PatchFormat {
    /// One row per patch, with its gate, then why other findings have none
    Table,
    /// The unified diffs only (`git apply` accepts them)
    Diff,
    /// Patches and reasons as JSON
    Json,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars patch                  # every finding of the latest session\n  \
cars patch E3 --format diff | git apply --check\n  cars patch --session 4 --format json\n\n\
Gates (configurable under [gates] in .cars.toml): confidence >= 0.90 may be applied by \
`cars apply --auto`, 0.75-0.89 on explicit approval, 0.60-0.74 with --force, below is report only."
)]
pub struct PatchArgs {
    /// Findings to fix (E1 E3); all findings when omitted
    pub findings: Vec<String>,

    /// The session to use [default: the latest]
    #[arg(long, value_name = "N")]
    pub session: Option<i64>,

    /// Output format [default: table, or diff with finding ids given]
    #[arg(short, long, value_enum)]
    pub format: Option<PatchFormat>,
}

pub fn run(args: PatchArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir()?;
    let mut session = crate::front::open_session(&cwd, store_dir)?;
    session.select(args.session)?;
    let proposals = session.propose(&args.findings)?;
    let config = &session.config;
    let stdout = std::io::stdout();
    let to_terminal = stdout.is_terminal();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let format = args.format.unwrap_or(if args.findings.is_empty() {
        PatchFormat::Table
    } else {
        PatchFormat::Diff
    });
    match format {
        PatchFormat::Table => {
            view::write_patches(
                &proposals.patches,
                &proposals.unfixable,
                &config.gates,
                crate::front::table_width(to_terminal),
                &mut out,
            )?;
            if to_terminal && !proposals.patches.is_empty() {
                writeln!(
                    out,
                    "\n`cars patch <E#> --format diff` shows a diff; `cars apply <P#> --validate CMD` applies it."
                )?;
            }
        }
        PatchFormat::Diff => {
            for p in &proposals.patches {
                view::write_diff(
                    &p.patch.unified_diff(),
                    crate::front::use_color(to_terminal),
                    &mut out,
                )?;
            }
            for u in &proposals.unfixable {
                eprintln!("cars: {}: no patch: {}", u.finding, u.reason);
            }
        }
        PatchFormat::Json => {
            let doc = serde_json::json!({
                "schema": "cars/patches/v1",
                "session": session.current()?,
                "patches": proposals.patches.iter().map(|p| serde_json::json!({
                    "id": p.id,
                    "status": p.status,
                    "gate": config.gates.gate(&p.patch),
                    "finding": p.patch.finding,
                    "rule": p.patch.rule,
                    "strategy": p.patch.strategy,
                    "origin": p.patch.origin,
                    "confidence": p.patch.confidence,
                    "calibration": p.calibration,
                    "rationale": p.patch.rationale,
                    "files": p.patch.files.iter().map(|f| &f.path).collect::<Vec<_>>(),
                    "diff": p.patch.unified_diff(),
                })).collect::<Vec<_>>(),
                "unfixable": proposals.unfixable,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(Outcome::Clean)
}
