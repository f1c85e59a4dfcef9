//! `cars trust`: allow a project's own `.cars.toml`, `.cars/patterns` and
//! `.cars/templates` to do more than make cars stricter, like `direnv allow`.

use super::Outcome;
use anyhow::{bail, Context};
use cars::policy::trust::{ProjectFiles, TrustState, TrustStore};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars trust              # trust this project's cars configuration as it is now\n  \
cars trust --list\n  cars trust --revoke\n\n\
Until a project is trusted, its .cars.toml may only raise the gates; its [[job]]s are shown \
but not run, its .cars/templates are not loaded, and its .cars/patterns may only add \
findings. Trust is recorded by path and content hash in the user's data dir \
(CARS_DATA_DIR overrides): any change to those files needs `cars trust` again."
)]
pub struct TrustArgs {
    /// The project [default: the one containing the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Forget the trust given to the project
    #[arg(long, conflicts_with = "list")]
    pub revoke: bool,

    /// List the trusted projects
    #[arg(long)]
    pub list: bool,
}

pub fn run(args: TrustArgs, store_dir: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    let mut trust = TrustStore::load()?;
    if args.list {
        if trust.entries().is_empty() {
            println!("No trusted projects ({}).", trust.path().display());
        }
        for e in trust.entries() {
            println!(
                "{}  {}  ({})",
                e.root.display(),
                &e.hash[..12.min(e.hash.len())],
                e.files.join(", ")
            );
        }
        return Ok(Outcome::Clean);
    }
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let dir = dir
        .canonicalize()
        .with_context(|| format!("no directory {}", dir.display()))?;
    let root = cars::store::locate(&dir, store_dir).project_root;
    if args.revoke {
        if trust.revoke(&root)? {
            println!("{}: no longer trusted", root.display());
        } else {
            println!("{} was not trusted", root.display());
        }
        return Ok(Outcome::Clean);
    }
    let files = ProjectFiles::read(&root)?;
    if files.is_empty() {
        bail!(
            "{} has no .cars.toml, .cars/patterns or .cars/templates; there is nothing to trust",
            root.display()
        );
    }
    // What trusting would allow, as the project's configuration stands now.
    let before = cars::config::Config::load(&root)?;
    if trust.state(&root, &files) == TrustState::Trusted {
        println!("{} is already trusted as it is.", root.display());
        return Ok(Outcome::Clean);
    }
    trust.trust(&root, &files)?;
    println!(
        "{}: trusted {} (sha256 {})",
        root.display(),
        files.files.join(", "),
        &files.hash[..12]
    );
    let allowed: Vec<&String> = before
        .withheld
        .iter()
        .filter(|l| !l.contains("cars trust"))
        .collect();
    for line in allowed {
        println!("  now allowed: {line}");
    }
    Ok(Outcome::Clean)
}
