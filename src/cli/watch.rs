//! `cars watch`: run a project's jobs in the TUI, re-run them when files change,
//! and approve or reject fixes with one key. `--log FILE [-f]` shows a log (followed
//! as it grows) instead of running jobs.

use super::Outcome;
use anyhow::Context;
use cars::analyze::{Matcher, Options};
use cars::rules::RuleSet;
use cars::watch::changes::{jobs_for, Watcher};
use cars::watch::jobs::Job;
use cars::watch::runner::{RunEvent, Runner};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use crate::tui::app::{Action, App};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cars watch                   # this project: detect jobs, run, re-run on change\n  \
cars watch ./api ./web       # several projects, one tab each ([ and ])\n  \
cars watch --job test        # only the test job\n  \
cars watch --log ci.log -f   # follow a growing log instead of running jobs\n\n\
Jobs come from Cargo.toml, package.json, pyproject.toml, go.mod (and Makefile targets \
named in .cars.toml); [[job]] tables in .cars.toml add or override them. Press ? in the \
screen for the keys."
)]
pub struct WatchArgs {
    /// Project directories [default: the current directory]
    pub projects: Vec<PathBuf>,

    /// Only this job (by name), e.g. test
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,

    /// Show this log instead of running jobs
    #[arg(long, value_name = "FILE", conflicts_with = "job")]
    pub log: Option<PathBuf>,

    /// With --log: keep reading as the file grows (like tail -f)
    #[arg(short, long, requires = "log")]
    pub follow: bool,

    /// Commit each approved, validated patch with git
    #[arg(long)]
    pub commit: bool,
}

pub fn run(args: WatchArgs, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "`cars watch` needs a terminal; use `cars run CMD` or `cars analyze` in scripts"
        );
    }
    let cwd = std::env::current_dir()?;
    let roots: Vec<PathBuf> = if args.projects.is_empty() {
        vec![cwd.clone()]
    } else {
        args.projects.clone()
    };
    let mut projects = Vec::new();
    let mut watch_config = None;
    for root in &roots {
        let root = root
            .canonicalize()
            .with_context(|| format!("no project directory {}", root.display()))?;
        let config = crate::front::load_config(&root)?;
        let (name, jobs) = match &args.log {
            Some(log) => (
                log.display().to_string(),
                vec![Job {
                    name: "log".into(),
                    command: format!(
                        "{} '{}'",
                        if args.follow { "tail -n +1 -f" } else { "cat" },
                        log.display().to_string().replace('\'', "'\\''")
                    ),
                    env: Default::default(),
                    cwd: None,
                    watch: Vec::new(),
                    hints: Vec::new(),
                    held: false,
                }],
            ),
            None => {
                let mut project = cars::watch::jobs::detect_with(&root, &config)?;
                if let Some(only) = &args.job {
                    project.jobs.retain(|j| &j.name == only);
                    if project.jobs.is_empty() {
                        anyhow::bail!("{} has no job `{only}`", root.display());
                    }
                }
                (project.name, project.jobs)
            }
        };
        watch_config.get_or_insert(config);
        projects.push((name, root, jobs));
        if args.log.is_some() {
            break;
        }
    }
    let config = watch_config.unwrap_or_default();
    let rules = RuleSet::load(&crate::front::rule_sources(&projects[0].1, &config))
        .context("loading rules")?;
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let (engine_tx, engine_rx) = mpsc::channel::<Action>();
    let (keys_tx, keys_rx) = mpsc::channel::<Action>();
    let (tx, runs_rx) = mpsc::sync_channel::<Action>(crate::tui::RUNS_CAPACITY);
    let mut runners = Vec::new();
    let mut watchers = Vec::new();
    for (i, (_, root, jobs)) in projects.iter().enumerate() {
        // Opening finishes what a crashed cars left half done, and says so.
        crate::front::open_store_at(root, store_dir)?;
        let (run_tx, run_rx) = mpsc::sync_channel::<RunEvent>(crate::tui::RUNS_CAPACITY);
        let forward = tx.clone();
        std::thread::spawn(move || {
            for event in run_rx {
                if forward.send(Action::Run { project: i, event }).is_err() {
                    break;
                }
            }
        });
        runners.push(Runner::new(run_tx));
        if args.log.is_none() {
            let (change_tx, change_rx) = mpsc::channel::<Vec<PathBuf>>();
            let debounce = Duration::from_millis(config.watch.debounce_ms);
            watchers.push(Watcher::new(root, debounce, change_tx)?);
            let (forward, jobs) = (tx.clone(), jobs.clone());
            std::thread::spawn(move || {
                for paths in change_rx {
                    let jobs = jobs_for(&jobs, &paths);
                    if !jobs.is_empty()
                        && forward.send(Action::Changed { project: i, jobs }).is_err()
                    {
                        break;
                    }
                }
            });
        }
    }
    let root0 = projects[0].1.clone();
    let mut executor = crate::tui::Executor {
        roots: projects.iter().map(|p| p.1.clone()).collect(),
        jobs: projects.iter().map(|p| p.2.clone()).collect(),
        runners,
        store_dir: store_dir.map(Path::to_path_buf),
        templates: Arc::new(crate::front::load_templates(&root0, &config)?),
        gates: config.gates,
        commit: args.commit,
        actions: engine_tx,
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::new(&matcher, &opts, projects, config.watch.output_lines, color);
    app.replay = args.log.is_some();
    if !config.withheld.is_empty() {
        app.notice = Some("project config not trusted: `cars trust` allows it".into());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let guard = crate::tui::TerminalGuard::enter()?;
    crate::tui::spawn_input(keys_tx, stop.clone());
    drop(tx);
    let inbox = crate::tui::Inbox {
        keys: keys_rx,
        engine: engine_rx,
        runs: runs_rx,
    };
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    let result = crate::tui::run_loop(&mut terminal, &mut app, &inbox, &mut |e| {
        executor.execute(e)
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in &executor.runners {
        r.kill_all();
    }
    drop(guard);
    drop(watchers);
    result?;
    Ok(Outcome::Clean)
}
