//! The ratatui front end of `cars watch`: `app` holds state and turns actions into
//! effects, `draw` renders it, and this module runs the loop (generic over the
//! backend, so tests drive it with `TestBackend`), carries out effects through the
//! same engine API as the CLI, and guarantees the terminal is restored.

pub mod app;
pub mod draw;
pub mod keymap;

use app::{Action, App, Effect, PatchView};
use cars::fix::template::Templates;
use cars::repair::{self, run::ShellRunner, Gates};
use cars::store::{SessionMeta, Store};
use cars::watch::jobs::Job;
use cars::watch::runner::{RunEvent, Runner};
use ratatui::backend::Backend;
use ratatui::Terminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How often live findings and clocks refresh when nothing else happens.
pub const TICK: Duration = Duration::from_millis(200);
/// At most this many redraws per second, however fast a job prints.
const FRAME: Duration = Duration::from_millis(33);
/// Actions handled between two redraws at most, so keys are never starved.
const BATCH: usize = 4096;

/// Set by SIGTERM/SIGHUP: the loop ends and the terminal is restored.
pub static TERMINATE: AtomicBool = AtomicBool::new(false);

/// Where actions come from. Keys and engine results have their own unbounded
/// channels (little traffic, and the loop itself sends engine results); job output
/// and file changes come through a bounded channel, so a flooding job is slowed down
/// instead of growing memory, and keys are always read first.
pub struct Inbox {
    pub keys: Receiver<Action>,
    pub engine: Receiver<Action>,
    pub runs: Receiver<Action>,
}

/// Capacity of the bounded job-output channel.
pub const RUNS_CAPACITY: usize = 8192;
/// The longest the loop sleeps before looking at keys again.
const POLL: Duration = Duration::from_millis(10);

/// Runs the loop until the user quits: reads keys first, then engine results, then a
/// batch of job output; redraws at most every `FRAME` when something changed; hands
/// effects to `execute`.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    inbox: &Inbox,
    execute: &mut dyn FnMut(Effect),
) -> std::io::Result<()> {
    for e in app.start_all() {
        execute(e);
    }
    terminal.draw(|f| draw::draw(f, app))?;
    let mut last_draw = Instant::now();
    let mut last_tick = Instant::now();
    let mut dirty = false;
    loop {
        let mut batch: Vec<Action> = inbox.keys.try_iter().collect();
        // A key is answered on this very iteration, not after the frame throttle.
        let keyed = !batch.is_empty();
        batch.extend(inbox.engine.try_iter());
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed()).min(POLL)
        } else {
            POLL
        };
        match inbox.runs.recv_timeout(wait) {
            Ok(a) => batch.push(a),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
        batch.extend(inbox.runs.try_iter().take(BATCH));
        if last_tick.elapsed() >= TICK {
            batch.push(Action::Tick);
            last_tick = Instant::now();
        }
        dirty |= !batch.is_empty();
        for action in batch {
            if matches!(action, Action::Resize) {
                // Forget what ratatui thinks is on the screen: after a resize the
                // terminal may have reflowed old rows, and a diff-only redraw leaves
                // them there.
                terminal.autoresize()?;
                terminal.clear()?;
                dirty = true;
            }
            for effect in app.update(action) {
                if effect == Effect::Quit {
                    return Ok(());
                }
                execute(effect);
            }
        }
        if dirty && (keyed || last_draw.elapsed() >= FRAME) {
            terminal.draw(|f| draw::draw(f, app))?;
            last_draw = Instant::now();
            dirty = false;
        }
        if TERMINATE.load(Ordering::Relaxed) {
            return Ok(());
        }
    }
}

/// Carries out effects for real: the runners, the stores, the repair engine.
pub struct Executor {
    pub roots: Vec<PathBuf>,
    pub jobs: Vec<Vec<Job>>,
    pub runners: Vec<Runner>,
    pub store_dir: Option<PathBuf>,
    /// Shared with the worker threads that propose.
    pub templates: std::sync::Arc<Templates>,
    pub gates: Gates,
    pub commit: bool,
    pub actions: Sender<Action>,
}

impl Executor {
    pub fn execute(&mut self, effect: Effect) {
        let result = self.try_execute(effect);
        if let Err(e) = result {
            let _ = self.actions.send(Action::Done {
                message: format!("error: {e:#}"),
                rerun: None,
            });
        }
    }

    fn try_execute(&mut self, effect: Effect) -> anyhow::Result<()> {
        match effect {
            Effect::Start { project, job } => {
                let spec = &self.jobs[project][job];
                if spec.held {
                    // From a project config the user has not trusted: shown, not run.
                    let error = format!(
                        "not run: `{}` comes from an untrusted .cars.toml; `cars trust` allows it",
                        spec.command
                    );
                    for event in [
                        RunEvent::Started { job, run: 0 },
                        RunEvent::FailedToStart { job, run: 0, error },
                    ] {
                        let _ = self.actions.send(Action::Run { project, event });
                    }
                    return Ok(());
                }
                self.runners[project].start(job, spec, &self.roots[project]);
            }
            Effect::Record {
                project,
                job,
                run,
                success,
                analysis,
            } => {
                let command = self.jobs[project][job].command.clone();
                let meta = SessionMeta {
                    command: Some(command.clone()),
                    ..Default::default()
                };
                self.off_thread(project, move |store| {
                    let session = store.record_session(&analysis.0, &meta)?;
                    // Every run feeds the flaky-test record, and the findings of
                    // tests it knows to be flaky are marked on screen.
                    cars::session::record_test_run(store, session, &command, success, &analysis.0)?;
                    let flaky = cars::session::mark_flaky(store, analysis.0)
                        .findings
                        .into_iter()
                        .filter_map(|f| Some((f.fingerprint, f.flaky?)))
                        .collect();
                    Ok(Action::Recorded {
                        project,
                        job,
                        run,
                        session,
                        flaky,
                    })
                });
            }
            Effect::Propose {
                project,
                job,
                session,
                finding,
            } => {
                let (templates, gates) = (self.templates.clone(), self.gates);
                self.off_thread(project, move |store| {
                    // Learning is best effort here as in the engine session.
                    let knowledge = cars::learn::Knowledge::open_default().ok();
                    let p = repair::propose(
                        store,
                        session,
                        std::slice::from_ref(&finding),
                        &templates,
                        knowledge.as_ref(),
                    )?;
                    let result = if p.patches.is_empty() {
                        Err(p
                            .unfixable
                            .first()
                            .map(|u| u.reason.clone())
                            .unwrap_or_else(|| "no source applies".into()))
                    } else {
                        Ok(p.patches.iter().map(|s| PatchView::of(s, &gates)).collect())
                    };
                    Ok(Action::Proposed {
                        project,
                        job,
                        finding,
                        result,
                    })
                });
            }
            Effect::Approve {
                project,
                job,
                session,
                patch,
                force,
            } => {
                // Validation re-runs the job: off the UI thread, on its own store
                // connection (SQLite WAL lets the two share the file).
                let root = self.roots[project].clone();
                let store_dir = self.store_dir.clone();
                let command = self.jobs[project][job].command.clone();
                let (commit, actions) = (self.commit, self.actions.clone());
                std::thread::spawn(move || {
                    let request = ApproveRequest {
                        session,
                        patch: &patch,
                        command,
                        commit,
                        force,
                    };
                    let message = approve(&root, store_dir.as_deref(), request)
                        .unwrap_or_else(|e| format!("error: {e:#}"));
                    let _ = actions.send(Action::Done {
                        message,
                        rerun: Some((project, job)),
                    });
                });
            }
            Effect::Reject {
                project,
                session,
                patch,
            } => self.in_session(project, move |engine| {
                engine.select(Some(session))?;
                engine.reject(&patch, None, "tui")?;
                Ok(Action::Done {
                    message: format!("{patch}: rejected"),
                    rerun: None,
                })
            }),
            Effect::Undo { project, job } => self.in_session(project, move |engine| {
                let (_, r) = engine.rollback(None, false, &cars::session::Quiet)?;
                Ok(Action::Done {
                    message: format!("undid {}: restored {}", r.patch, r.files.join(", ")),
                    rerun: Some((project, job)),
                })
            }),
            Effect::Heal { project, job } => {
                let root = self.roots[project].clone();
                let store_dir = self.store_dir.clone();
                let command = self.jobs[project][job].command.clone();
                let (commit, actions) = (self.commit, self.actions.clone());
                std::thread::spawn(move || {
                    let message = heal(&root, store_dir.as_deref(), command, commit)
                        .unwrap_or_else(|e| format!("error: {e:#}"));
                    let _ = actions.send(Action::Done {
                        message,
                        rerun: Some((project, job)),
                    });
                });
            }
            Effect::Quit => {}
        }
        Ok(())
    }
}

impl Executor {
    /// Runs an engine call on its own thread and store connection (SQLite WAL lets
    /// it share the file), so a slow call (an undo's git commit, a locked database)
    /// never freezes the screen; its result, or its error, comes back as an action.
    fn off_thread(
        &self,
        project: usize,
        work: impl FnOnce(&mut Store) -> anyhow::Result<Action> + Send + 'static,
    ) {
        let location = cars::store::locate(&self.roots[project], self.store_dir.as_deref());
        let actions = self.actions.clone();
        std::thread::spawn(move || {
            let action = Store::open(&location)
                .map_err(anyhow::Error::from)
                .and_then(|mut store| work(&mut store))
                .unwrap_or_else(|e| Action::Done {
                    message: format!("error: {e:#}"),
                    rerun: None,
                });
            let _ = actions.send(action);
        });
    }
}

impl Executor {
    /// `off_thread` for the calls that go through the engine session (so outcomes are
    /// learned from and the project lock is taken as in the CLI).
    fn in_session(
        &self,
        project: usize,
        work: impl FnOnce(&mut cars::session::Session) -> anyhow::Result<Action> + Send + 'static,
    ) {
        let root = self.roots[project].clone();
        let store_dir = self.store_dir.clone();
        let actions = self.actions.clone();
        std::thread::spawn(move || {
            let action = cars::session::Session::open(&root, store_dir.as_deref())
                .map_err(anyhow::Error::from)
                .and_then(|mut engine| work(&mut engine))
                .unwrap_or_else(|e| Action::Done {
                    message: format!("error: {e:#}"),
                    rerun: None,
                });
            let _ = actions.send(action);
        });
    }
}

/// What the user approved in the TUI.
struct ApproveRequest<'a> {
    session: i64,
    patch: &'a str,
    command: String,
    commit: bool,
    force: bool,
}

/// Applies a patch with validation by the job's command, through the engine session
/// (the same gate decision, lock and journal as the CLI); the status-bar line.
fn approve(
    root: &std::path::Path,
    store_dir: Option<&std::path::Path>,
    r: ApproveRequest,
) -> anyhow::Result<String> {
    use cars::session::{Approve, Quiet, Session, Validate};
    let mut session = Session::open(root, store_dir)?;
    session.select(Some(r.session))?;
    let stored = session.patch(r.patch)?;
    let how = Approve {
        force: r.force,
        validate: Validate::Command(r.command),
        commit: r.commit,
        ..Approve::by("tui")
    };
    let report = session.approve(&stored, &how, &ShellRunner, &Quiet)?;
    let mut text = Vec::new();
    cars::report::repair::write_apply_report(&report, &stored.patch.finding, &mut text)?;
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .next()
        .unwrap_or("")
        .to_string())
}

/// Heals the job's command through the engine (the auto gate only: nobody is asked
/// in the TUI); the summary's first line for the status bar.
fn heal(
    root: &std::path::Path,
    store_dir: Option<&std::path::Path>,
    command: String,
    commit: bool,
) -> anyhow::Result<String> {
    use cars::session::heal::{HealOptions, TakeAll};
    use cars::session::{Quiet, Session};
    let mut session = Session::open(root, store_dir)?;
    let opts = HealOptions {
        command,
        rounds: 5,
        budget: Duration::from_secs(1800),
        timeout: Duration::from_secs(600),
        ask: false,
        force: false,
        commit,
    };
    let report = session.heal(&opts, &mut TakeAll, &ShellRunner, &Quiet)?;
    let mut text = Vec::new();
    cars::report::heal::write_text(&report, &mut text)?;
    let text = String::from_utf8_lossy(&text);
    let mut line = text.lines().next().unwrap_or("").to_string();
    if let Some(f) = report.remaining.first() {
        line.push_str(&format!("; {}: {}", f.finding, f.why));
    }
    Ok(line)
}

/// Puts the terminal back however the program ends: normal return, `?`, or panic.
pub struct TerminalGuard;

impl TerminalGuard {
    pub fn enter() -> std::io::Result<TerminalGuard> {
        use crossterm::{execute, terminal};
        terminal::enable_raw_mode()?;
        execute!(std::io::stdout(), terminal::EnterAlternateScreen)?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGHUP, on_signal as *const () as libc::sighandler_t);
        }
        Ok(TerminalGuard)
    }
}

extern "C" fn on_signal(_: libc::c_int) {
    TERMINATE.store(true, Ordering::Relaxed);
}

fn restore() {
    use crossterm::{cursor, execute, terminal};
    let _ = terminal::disable_raw_mode();
    // Clear the alternate screen before leaving it: a terminal that resized while
    // it was shown may otherwise carry its rows (the borders) into the main screen.
    let _ = execute!(
        std::io::stdout(),
        terminal::Clear(terminal::ClearType::All),
        cursor::MoveTo(0, 0),
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Reads keys and resizes on its own thread until `stop` is set.
pub fn spawn_input(actions: Sender<Action>, stop: std::sync::Arc<AtomicBool>) {
    use crossterm::event::{self, Event, KeyEventKind};
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if !event::poll(Duration::from_millis(100)).unwrap_or(false) {
                continue;
            }
            let action = match event::read() {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Action::Key(k),
                Ok(Event::Resize(..)) => Action::Resize,
                Ok(_) => continue,
                Err(_) => break,
            };
            if actions.send(action).is_err() {
                break;
            }
        }
    });
}

#[cfg(test)]
mod tests;
