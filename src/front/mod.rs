//! What the terminal front ends share (the subcommands and the REPL): the workspace
//! of session actions, spinners, atomic report writes, and opening a session with its
//! notices on stderr. Depends on the engine only; the front ends depend on it.

pub mod progress;
pub mod stream;
pub mod workspace;

use std::io::{self, Write};

/// Writes a report to `path`. A regular file is replaced atomically (temporary file
/// in the same directory, then a rename) keeping its mode; a symlink is written
/// through when its target is in the same directory, refused otherwise; a device or
/// pipe (`/dev/stdout`) is written to directly.
pub fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::{bail, Context};
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut target = path.to_path_buf();
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() {
            let resolved = path
                .canonicalize()
                .with_context(|| format!("{} is a symlink to nowhere", path.display()))?;
            let here = dir.canonicalize().unwrap_or(dir.clone());
            if resolved.parent() != Some(here.as_path()) {
                bail!(
                    "{} is a symlink to {}, outside its directory; write to the target itself if you mean it",
                    path.display(),
                    resolved.display()
                );
            }
            target = resolved;
        }
    }
    let existing = std::fs::metadata(&target).ok();
    if let Some(meta) = existing.as_ref().filter(|m| !m.is_file()) {
        if meta.is_dir() {
            bail!("{} is a directory", target.display());
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        let mut buf = io::BufWriter::new(file);
        write(&mut buf)?;
        buf.flush()?;
        return Ok(());
    }
    let target_dir = target.parent().map(|d| d.to_path_buf()).unwrap_or(dir);
    let mut tmp = tempfile::NamedTempFile::new_in(&target_dir)
        .with_context(|| format!("cannot create a file in {}", target_dir.display()))?;
    {
        let mut buf = io::BufWriter::new(tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush()?;
    }
    tmp.as_file().sync_all()?;
    let mode = existing.map(|m| m.permissions().mode()).unwrap_or(0o644);
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))?;
    tmp.persist(&target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}

/// Opens the project's store and finishes any operation a crash interrupted,
/// saying so on stderr.
pub fn open_store(store_dir: Option<&std::path::Path>) -> anyhow::Result<cars::store::Store> {
    use anyhow::Context;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    open_store_at(&cwd, store_dir)
}

/// `open_store` for the project containing `dir`.
pub fn open_store_at(
    dir: &std::path::Path,
    store_dir: Option<&std::path::Path>,
) -> anyhow::Result<cars::store::Store> {
    let location = cars::store::locate(dir, store_dir);
    let mut store = cars::store::Store::open(&location)?;
    report_recovered(&cars::repair::recover(&mut store)?);
    Ok(store)
}

/// The engine session for the project containing `dir`, saying on stderr what
/// opening it recovered and what an untrusted project config did not get.
pub fn open_session(
    dir: &std::path::Path,
    store_dir: Option<&std::path::Path>,
) -> anyhow::Result<cars::session::Session> {
    let session = cars::session::Session::open(dir, store_dir)?;
    report_recovered(&session.recovered);
    warn_withheld(&session.config);
    if let Some(why) = &session.learn_error {
        eprintln!("cars: warning: {why}");
    }
    Ok(session)
}

fn report_recovered(recovered: &[cars::repair::Recovered]) {
    for r in recovered {
        let what = match r.was {
            cars::store::AppState::Applying => "an interrupted apply of",
            cars::store::AppState::Validating => "an apply interrupted during validation of",
            _ => "an interrupted rollback of",
        };
        match &r.failed {
            None => eprintln!(
                "cars: undid {what} {} (session {}); restored {}",
                r.patch,
                r.session,
                r.files.join(", ")
            ),
            Some(why) => eprintln!(
                "cars: warning: cannot finish {what} {} (session {}) now: {why}",
                r.patch, r.session
            ),
        }
    }
}

/// The layered settings for the project at `root`, telling the user on stderr what an
/// untrusted project configuration asked for and did not get.
pub fn load_config(root: &std::path::Path) -> anyhow::Result<cars::config::Config> {
    let config = cars::config::Config::load(root)?;
    warn_withheld(&config);
    Ok(config)
}

fn warn_withheld(config: &cars::config::Config) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SHOWN: AtomicBool = AtomicBool::new(false);
    if config.withheld.is_empty() || SHOWN.swap(true, Ordering::Relaxed) {
        return;
    }
    for line in &config.withheld {
        eprintln!("cars: {line}");
    }
}

/// The rule sources for a project: its `.cars/patterns` fully only when trusted.
pub fn rule_sources(
    root: &std::path::Path,
    config: &cars::config::Config,
) -> cars::rules::RuleSources {
    cars::rules::RuleSources::standard(Some(root.to_path_buf()), config.project_trusted())
}

/// The fix templates for a project: built in, the user's, the project's when trusted.
pub fn load_templates(
    root: &std::path::Path,
    config: &cars::config::Config,
) -> anyhow::Result<cars::fix::template::Templates> {
    use anyhow::Context;
    cars::fix::template::Templates::load(&cars::config::template_dirs(
        root,
        config.project_trusted(),
    ))
    .context("loading fix templates")
}

/// Terminal width for tables: `COLUMNS`, else 120 on a terminal, else unbounded.
pub fn table_width(to_terminal: bool) -> Option<u16> {
    if !to_terminal {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(120))
}

/// Colour only on a terminal and when `NO_COLOR` is unset.
pub fn use_color(to_terminal: bool) -> bool {
    to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
