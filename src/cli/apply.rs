//! `cars apply` and `cars rollback`: change the project's files, with a backup, a
//! validation run and an optional commit, and undo it exactly.

use super::Outcome;
use anyhow::{bail, Context};
use cars::analyze::Matcher;
use cars::repair::{self, run::ShellRunner, ApplyOptions, Approval, Refusal, RepairError};
use cars::report::repair as view;
use cars::rules::RuleSet;
use cars::store::{PatchStatus, Store, StoredPatch};
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

    /// Apply every proposed patch at or above the auto gate (one per finding)
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
    let mut store = super::open_store(store_dir)?;
    let session = store.resolve_session(args.session)?;
    let config = super::load_config(&store.project_root)?;
    let gates = config.gates;
    let validate = if args.no_validate {
        None
    } else {
        args.validate.clone().or(store.session(session)?.command)
    };
    let selected = select(&store, session, &args, &gates, validate.is_some())?;
    if selected.is_empty() {
        println!(
            "No patch at or above the auto gate ({:.2}); `cars patch` lists them.",
            gates.auto
        );
        return Ok(Outcome::Clean);
    }
    let color = super::use_color(std::io::stdout().is_terminal());
    if args.dry_run {
        for p in &selected {
            println!(
                "{} ({}, confidence {:.2}) would change:",
                p.id,
                p.patch.strategy.as_str(),
                p.patch.confidence
            );
            let stale = repair::stale_files(&store.project_root, &p.patch);
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
    let opts = ApplyOptions {
        validate,
        timeout: Duration::from_secs(args.timeout),
        commit: args.commit,
        actor: if args.auto {
            "auto".into()
        } else {
            "cli".into()
        },
        approval: if args.auto {
            Approval::Auto
        } else {
            Approval::Manual { force: args.force }
        },
        no_verify: args.no_verify,
    };
    // The analyzer judges validation runs: a fix that removes its finding is kept
    // even while other errors remain.
    let rules = match &opts.validate {
        Some(_) => Some(
            RuleSet::load(&super::rule_sources(&store.project_root, &config))
                .context("loading rules")?,
        ),
        None => None,
    };
    let matcher = rules.as_ref().map(Matcher::new);
    let mut failed = false;
    let lock = super::lock_project(&store)?;
    for p in &selected {
        repair::preflight(&store, p).map_err(explain)?;
        if let Some(cmd) = &opts.validate {
            eprintln!("cars: applying {} and running `{cmd}`...", p.id);
        }
        let report = repair::apply(
            &mut store,
            &lock,
            p,
            &gates,
            &opts,
            &ShellRunner,
            matcher.as_ref(),
        )
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
fn select(
    store: &Store,
    session: i64,
    args: &ApplyArgs,
    gates: &repair::Gates,
    validated: bool,
) -> anyhow::Result<Vec<StoredPatch>> {
    if args.auto {
        // The best auto-gated proposal for each finding; say why others are left.
        let mut seen = std::collections::HashSet::new();
        let mut patches: Vec<StoredPatch> = Vec::new();
        for p in store.patches(session)? {
            if p.status != PatchStatus::Proposed {
                continue;
            }
            match gates.decide(&p.patch, Approval::Auto, validated) {
                Ok(_) => patches.push(p),
                Err(Refusal::NotAuto(why)) if p.patch.confidence >= gates.auto => {
                    eprintln!("cars: {} left for review: {why}", p.id)
                }
                Err(_) => {}
            }
        }
        patches.sort_by(|a, b| b.patch.confidence.total_cmp(&a.patch.confidence));
        patches.retain(|p| seen.insert(p.patch.finding.clone()));
        return Ok(patches);
    }
    let mut out = Vec::new();
    for id in &args.patches {
        let p = store.patch(session, id)?;
        let how = Approval::Manual { force: args.force };
        match gates.decide(&p.patch, how, validated) {
            Err(r @ Refusal::ReportOnly { .. }) => bail!(
                "{id}: {r}: `cars patch {} --format diff | git apply`",
                p.patch.finding
            ),
            Err(r @ Refusal::NeedsForce { .. }) => bail!(
                "{id}: {r}; review `cars patch {} --format diff` and pass --force to apply it",
                p.patch.finding
            ),
            Err(r) => bail!("{id}: {r}"),
            Ok(_) => out.push(p),
        }
    }
    Ok(out)
}

/// Adds the diff to a refusal whose message alone would not show what changed.
pub(super) fn explain(e: RepairError) -> anyhow::Error {
    match &e {
        RepairError::ChangedSinceApply { diff, .. } => {
            let msg = e.to_string();
            anyhow::anyhow!("{msg}\n{diff}")
        }
        _ => e.into(),
    }
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
    let mut store = super::open_store(store_dir)?;
    let stored = match &args.patch {
        Some(id) => {
            let session = store.resolve_session(args.session)?;
            store.patch(session, id)?
        }
        None => repair::last_applied(&store)?,
    };
    let lock = super::lock_project(&store)?;
    let report = repair::rollback(&mut store, &lock, &stored, args.force).map_err(explain)?;
    let mut line = format!(
        "{} (session {}): restored {}",
        report.patch,
        stored.session,
        report.files.join(", ")
    );
    if let Some(c) = &report.revert_commit {
        line.push_str(&format!("; revert commit {}", &c[..c.len().min(10)]));
    }
    println!("{line}");
    Ok(Outcome::Clean)
}
