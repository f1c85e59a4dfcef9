//! `cars apply` and `cars rollback`: change the project's files, with a backup, a
//! validation run and an optional commit, and undo it exactly.

use super::Outcome;
use crate::front::workspace::{explain, write_rollback, Spinner};
use anyhow::{bail, Context};
use cars::repair::{self, run::ShellRunner, Refusal};
use cars::report::repair as view;
use cars::session::{Approve, Session, SessionError, Validate};
use cars::store::StoredPatch;
use clap::Args;
use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars apply P1 --validate \"cargo test\" --commit\n  \
cars apply --auto --validate \"npm test\"\n  cars apply P2 --dry-run\n\n\
A patch is refused when a file it touches changed since `cars patch` made it. The originals \
are saved in the store before any write; `cars rollback` restores them byte for byte. If \
validation fails, the patch is rolled back at once."
)]
pub struct ApplyArgs {
    /// Patches to apply (P1 P2)
    #[arg(required_unless_present = "auto")]
    pub patches: Vec<String>,

    /// Apply every proposed patch at or above the auto gate (one per finding). A
    /// rename or import a compiler suggests in the log counts once one run of the
    /// validation command, before any write, prints it again
    #[arg(long, conflicts_with = "patches")]
    pub auto: bool,

    /// Show what would change and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Re-run this command after applying; roll back if it fails [default: the
    /// session's --command]
    #[arg(long, value_name = "CMD")]
    pub validate: Option<String>,

    /// Do not validate, even when the session has a command
    #[arg(long, conflicts_with = "validate")]
    pub no_validate: bool,

    /// Seconds the validation command may run
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,

    /// Commit the patched files (only those) with git after validation
    #[arg(long)]
    pub commit: bool,

    /// Apply a patch below the approval gate (confidence 0.60-0.74 by default)
    #[arg(long)]
    pub force: bool,

    /// With --commit: skip the repository's pre-commit and commit-msg hooks, as
    /// `git commit --no-verify` does
    #[arg(long, requires = "commit")]
    pub no_verify: bool,

    /// The session to use [default: the latest]
    #[arg(long, value_name = "N")]
    pub session: Option<i64>,
}

pub fn run(args: ApplyArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut session = crate::front::open_session(&cwd, store_dir)?;
    session.select(args.session)?;
    let how = Approve {
        auto: args.auto,
        force: args.force,
        validate: match (&args.validate, args.no_validate) {
            (_, true) => Validate::None,
            (Some(cmd), _) => Validate::Command(cmd.clone()),
            (None, false) => Validate::SessionCommand,
        },
        timeout: Duration::from_secs(args.timeout),
        commit: args.commit,
        no_verify: args.no_verify,
        ..Approve::by(if args.auto { "auto" } else { "cli" })
    };
    if args.auto && !args.dry_run {
        // A suggestion the log holds passes the auto gate once the tool prints it
        // again on this tree (one run of the validation command, before any write).
        let r = session
            .reproduce(&how, &ShellRunner, &Spinner::new())
            .map_err(explain)?;
        if let Some(cmd) = &r.command {
            for id in &r.confirmed {
                eprintln!("cars: {id}: `{cmd}` prints the same suggestion on this tree");
            }
        }
        for (id, why) in &r.unconfirmed {
            eprintln!("cars: {id} left for review: {why}");
        }
    }
    let selected = select(&session, &args, &how)?;
    if selected.is_empty() {
        println!(
            "No patch at or above the auto gate ({:.2}); `cars patch` lists them.",
            session.gates().auto
        );
        return Ok(Outcome::Clean);
    }
    let color = crate::front::use_color(std::io::stdout().is_terminal());
    if args.dry_run {
        for p in &selected {
            println!(
                "{} ({}, confidence {:.2}) would change:",
                p.id,
                p.patch.strategy.as_str(),
                p.patch.confidence
            );
            let stale = repair::stale_files(session.root(), &p.patch);
            if !stale.is_empty() {
                println!(
                    "  (refused now: changed since the patch was made: {})",
                    stale.join(", ")
                );
            }
            view::write_diff(&p.patch.unified_diff(), color, &mut std::io::stdout())?;
        }
        return Ok(Outcome::Clean);
    }
    let mut failed = false;
    for p in &selected {
        let report = session
            .approve(p, &how, &ShellRunner, &Spinner::new())
            .map_err(explain)?;
        failed |= !view::write_apply_report(&report, &p.patch.finding, &mut std::io::stdout())?;
    }
    Ok(if failed {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

/// The patches to apply, after the engine's gate decision.
fn select(session: &Session, args: &ApplyArgs, how: &Approve) -> anyhow::Result<Vec<StoredPatch>> {
    if args.auto {
        let (take, left) = session.auto_candidates(how)?;
        for (id, why) in left {
            eprintln!("cars: {id} left for review: {why}");
        }
        return Ok(take);
    }
    let mut out = Vec::new();
    for id in &args.patches {
        let p = session.patch(id)?;
        match session.decide(&p, how) {
            Err(SessionError::Refused {
                refusal: r @ Refusal::ReportOnly { .. },
                ..
            }) => bail!(
                "{id}: {r}: `cars patch {} --format diff | git apply`",
                p.patch.finding
            ),
            Err(SessionError::Refused {
                refusal: r @ Refusal::NeedsForce { .. },
                ..
            }) => bail!(
                "{id}: {r}; review `cars patch {} --format diff` and pass --force to apply it",
                p.patch.finding
            ),
            Err(e) => return Err(e.into()),
            Ok(_) => out.push(p),
        }
    }
    Ok(out)
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars rollback P1\n  cars rollback --last\n\n\
The files get back their exact original bytes and mode. A committed patch gets a revert \
commit. If a file changed after the patch was applied, the difference is shown and nothing \
is done unless --force."
)]
pub struct RollbackArgs {
    /// The patch to undo
    #[arg(required_unless_present = "last", conflicts_with = "last")]
    pub patch: Option<String>,

    /// Undo the most recently applied patch (any session)
    #[arg(long)]
    pub last: bool,

    /// Roll back even if the files changed after the apply (those changes are lost)
    #[arg(long)]
    pub force: bool,

    /// The session the patch id belongs to [default: the latest]
    #[arg(long, value_name = "N")]
    pub session: Option<i64>,
}

pub fn rollback(
    args: RollbackArgs,
    store_dir: Option<&std::path::Path>,
) -> anyhow::Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut session = crate::front::open_session(&cwd, store_dir)?;
    if args.session.is_some() {
        session.select(args.session)?;
    }
    let (stored, report) = session
        .rollback(args.patch.as_deref(), args.force, &Spinner::new())
        .map_err(explain)?;
    write_rollback(&report, stored.session, &mut std::io::stdout())?;
    Ok(Outcome::Clean)
}
