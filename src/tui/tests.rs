//! Whole-screen tests: a scripted sequence of runner events and keys drives the app,
//! effects are carried out against a real store in a temp project, and the screen is
//! drawn into `TestBackend` and snapshotted.

use super::app::{Action, App, Effect, Status};
use super::draw;
use cars::analyze::{Matcher, Options};
use cars::fix::template::Templates;
use cars::rules::RuleSet;
use cars::watch::jobs::Job;
use cars::watch::runner::RunEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::time::Duration;

const LOG: &str = include_str!("../../tests/fixtures/tui/rust-typos.log");
const SOURCE: &str = include_str!("../../tests/repair_projects/rust-typos/src/main.rs");

fn job() -> Job {
    Job {
        name: "check".into(),
        command: "cargo build --quiet".into(),
        env: Default::default(),
        cwd: None,
        watch: Vec::new(),
        hints: Vec::new(),
        held: false,
    }
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The real executor over a store in the temp project; its results (sessions,
/// proposals) are fed back to the app like the loop does. Effects that would start
/// jobs or apply patches are returned to the test instead.
struct Harness {
    executor: super::Executor,
    results: std::sync::mpsc::Receiver<Action>,
}

impl Harness {
    fn new(root: &Path) -> Harness {
        // The executor's engine calls keep the user's data (the knowledge base) in a
        // temp dir, never in the developer's own data dir.
        static DATA: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        let data = DATA.get_or_init(|| tempfile::tempdir().unwrap());
        std::env::set_var("CARS_DATA_DIR", data.path());
        let loc = cars::store::StoreLocation {
            dir: root.join(".store"),
            project_root: root.to_path_buf(),
        };
        let (tx, results) = std::sync::mpsc::channel();
        let (runs, _) = std::sync::mpsc::channel();
        let executor = super::Executor {
            roots: vec![root.to_path_buf()],
            jobs: vec![vec![job()]],
            runners: vec![cars::watch::runner::Runner::new(runs)],
            store_dir: Some(loc.dir.clone()),
            templates: std::sync::Arc::new(Templates::load(&[]).unwrap()),
            gates: cars::repair::Gates::default(),
            commit: false,
            actions: tx,
        };
        Harness { executor, results }
    }

    fn run(&mut self, app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
        let mut left = Vec::new();
        for e in effects {
            let mut results = Vec::new();
            match e {
                // Recording and proposing run on worker threads: wait for the answer.
                Effect::Record { .. } | Effect::Propose { .. } => {
                    self.executor.execute(e);
                    results.push(self.results.recv_timeout(Duration::from_secs(30)).unwrap());
                }
                e => left.push(e),
            }
            results.extend(self.results.try_iter());
            for a in results {
                let more = app.update(a);
                left.extend(self.run(app, more));
            }
        }
        left
    }
}

fn replay(app: &mut App, h: &mut Harness) {
    replay_log(app, h, LOG, false);
}

/// Feeds `log` as one run of job 0 that exits 101 (or 0 when `success`).
fn replay_log(app: &mut App, h: &mut Harness, log: &str, success: bool) {
    let mut effects = app.update(Action::Run {
        project: 0,
        event: RunEvent::Started { job: 0, run: 1 },
    });
    for line in log.lines() {
        effects.extend(app.update(Action::Run {
            project: 0,
            event: RunEvent::Line {
                job: 0,
                run: 1,
                text: line.to_string(),
                stderr: true,
            },
        }));
    }
    effects.extend(app.update(Action::Run {
        project: 0,
        event: RunEvent::Finished {
            job: 0,
            run: 1,
            success,
            code: Some(if success { 0 } else { 101 }),
            elapsed: Duration::from_millis(1234),
        },
    }));
    let left = h.run(app, effects);
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_failed_run_shows_ranked_findings_and_a_proposed_patch() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), SOURCE).unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let projects = vec![(
        "rust-typos".to_string(),
        dir.path().to_path_buf(),
        vec![job()],
    )];
    let mut app = App::new(&matcher, &opts, projects, 1000, false);
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);
    assert_eq!(app.job().status, Status::Failed(Some(101)));
    assert!(
        app.job().session.is_some(),
        "the run was recorded as a session"
    );
    insta::assert_snapshot!("after_run_80x24", screen(&app, 80, 24));

    // Down to E2, propose: the detail pane shows the diff.
    assert!(app.update(key('j')).is_empty());
    let effects = app.update(key('p'));
    assert!(matches!(effects.as_slice(), [Effect::Propose { finding, .. }] if finding == "E2"));
    let left = h.run(&mut app, effects);
    assert!(left.is_empty());
    insta::assert_snapshot!("proposed_120x32", screen(&app, 120, 32));

    // `a` asks the loop to apply that patch and marks the app busy; file changes wait.
    let effects = app.update(key('a'));
    assert!(matches!(effects.as_slice(), [Effect::Approve { patch, .. }] if patch == "P1"));
    assert!(app.busy.is_some());
    assert!(app
        .update(Action::Changed {
            project: 0,
            jobs: vec![0]
        })
        .is_empty());
    let effects = app.update(Action::Done {
        message: "P1: applied".into(),
        rerun: Some((0, 0)),
    });
    assert_eq!(effects, vec![Effect::Start { project: 0, job: 0 }]);
}

#[test]
fn propose_pressed_while_the_run_is_being_stored_waits_for_its_session() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);
    let first = app.job().session.unwrap();
    // A second run finishes; its Record effect has not come back yet.
    let mut record = app.update(Action::Run {
        project: 0,
        event: RunEvent::Started { job: 0, run: 2 },
    });
    assert_eq!(app.job().session, None, "the old session is not this run's");
    for line in LOG.lines() {
        record.extend(app.update(Action::Run {
            project: 0,
            event: RunEvent::Line {
                job: 0,
                run: 2,
                text: line.to_string(),
                stderr: true,
            },
        }));
    }
    record.extend(app.update(Action::Run {
        project: 0,
        event: RunEvent::Finished {
            job: 0,
            run: 2,
            success: false,
            code: Some(101),
            elapsed: Duration::from_millis(10),
        },
    }));
    assert!(
        app.update(key('p')).is_empty(),
        "nothing to propose against yet"
    );
    assert!(
        app.status.contains("proposing as soon as it is stored"),
        "{}",
        app.status
    );
    // A late answer for the first run changes nothing.
    assert!(app
        .update(Action::Recorded {
            project: 0,
            job: 0,
            run: 1,
            session: first,
            flaky: Vec::new(),
        })
        .is_empty());
    assert_eq!(app.job().session, None);
    // The second run's session arrives: the queued propose goes out for it.
    let effects = app.update(Action::Recorded {
        project: 0,
        job: 0,
        run: 2,
        session: first + 1,
        flaky: Vec::new(),
    });
    assert!(
        matches!(effects.as_slice(), [Effect::Propose { session, finding, .. }] if *session == first + 1 && finding == "E1"),
        "{effects:?}"
    );
    assert!(
        matches!(record.as_slice(), [Effect::Record { run: 2, .. }]),
        "{record:?}"
    );
}

#[test]
fn keys_filter_search_pause_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let jobs = vec![
        job(),
        Job {
            name: "test".into(),
            command: "cargo test".into(),
            ..job()
        },
    ];
    let mut app = App::new(
        &matcher,
        &opts,
        vec![("demo".into(), dir.path().to_path_buf(), jobs)],
        1000,
        false,
    );
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);
    assert_eq!(app.visible().len(), 5);
    app.update(key('f')); // build
    assert!(app
        .visible()
        .iter()
        .all(|f| f.category == cars::rules::model::Category::Build));
    app.update(key('f')); // syntax: none in this log
    assert_eq!(app.visible().len(), 0);
    for _ in 0..6 {
        app.update(key('f'));
    }
    assert_eq!(app.filter, None, "the filter cycles back to all");
    app.update(key('/'));
    for c in "lenn".chars() {
        app.update(key(c));
    }
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    assert_eq!(app.visible().len(), 1);
    assert_eq!(app.visible()[0].id, "E2");
    app.update(key(' '));
    assert!(app.paused);
    assert!(
        app.update(Action::Changed {
            project: 0,
            jobs: vec![0]
        })
        .is_empty(),
        "paused: no re-run"
    );
    app.update(key(' '));
    assert_eq!(
        app.update(Action::Changed {
            project: 0,
            jobs: vec![1]
        }),
        vec![Effect::Start { project: 0, job: 1 }]
    );
    app.update(key('2'));
    assert_eq!(app.project().current, 1);
    app.update(key('?'));
    insta::assert_snapshot!("help_80x24", screen(&app, 80, 24));
    app.update(key('x'));
    assert_eq!(app.update(key('q')), vec![Effect::Quit]);
}

#[test]
fn the_output_pane_is_a_bounded_ring_and_stale_runs_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = App::new(
        &matcher,
        &opts,
        vec![("demo".into(), dir.path().to_path_buf(), vec![job()])],
        100,
        false,
    );
    app.update(Action::Run {
        project: 0,
        event: RunEvent::Started { job: 0, run: 2 },
    });
    for i in 0..100_000 {
        app.update(Action::Run {
            project: 0,
            event: RunEvent::Line {
                job: 0,
                run: 2,
                text: format!("line {i}"),
                stderr: false,
            },
        });
    }
    assert_eq!(app.job().output.len(), 100);
    assert_eq!(
        app.job().output.back().map(String::as_str),
        Some("line 99999")
    );
    assert_eq!(app.job().lines, 100_000);
    // A line of an older, killed run does not land in the new one.
    app.update(Action::Run {
        project: 0,
        event: RunEvent::Line {
            job: 0,
            run: 1,
            text: "stale".into(),
            stderr: false,
        },
    });
    assert_eq!(
        app.job().output.back().map(String::as_str),
        Some("line 99999")
    );
    app.update(Action::Run {
        project: 0,
        event: RunEvent::FailedToStart {
            job: 0,
            run: 2,
            error: "sh: cargo: not found".into(),
        },
    });
    let s = screen(&app, 80, 24);
    assert!(s.contains("cannot start"), "{s}");
    assert!(s.contains("cargo: not found"), "{s}");
}

#[test]
fn a_on_a_patch_below_the_approval_gate_needs_a_second_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), SOURCE).unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let projects = vec![("p".to_string(), dir.path().to_path_buf(), vec![job()])];
    let mut app = App::new(&matcher, &opts, projects, 1000, false);
    let mut h = Harness::new(dir.path());
    // The rustc suggestion (0.80) now sits between the force and approval gates.
    h.executor.gates = cars::repair::Gates {
        auto: 0.95,
        approve: 0.9,
        force: 0.6,
    };
    replay(&mut app, &mut h);
    app.update(key('j'));
    let effects = app.update(key('p'));
    assert!(h.run(&mut app, effects).is_empty());
    assert!(
        app.update(key('a')).is_empty(),
        "applied without confirmation"
    );
    assert!(app.status.contains("press A"), "{}", app.status);
    assert!(app.update(key('x')).is_empty());
    assert!(app.status.contains("not applied"), "{}", app.status);
    app.update(key('a'));
    let effects = app.update(key('A'));
    assert!(
        matches!(effects.as_slice(), [Effect::Approve { patch, force: true, .. }] if patch == "P1"),
        "{effects:?}"
    );
}

fn app_over<'m>(
    matcher: &'m Matcher<'m>,
    opts: &'m Options,
    root: &Path,
    jobs: Vec<Job>,
) -> App<'m> {
    App::new(
        matcher,
        opts,
        vec![("demo".into(), root.to_path_buf(), jobs)],
        1000,
        false,
    )
}

/// Asserts every row of `screen` is as wide as the terminal, so nothing was
/// pushed past a border, and that the right border of the panes is in place.
fn assert_borders_hold(screen: &str) {
    for row in screen.lines().skip(1).take(16) {
        assert!(
            row.ends_with('│') || row.ends_with('┐') || row.ends_with('┘'),
            "a row lost its right border:\n{screen}"
        );
    }
}

#[test]
fn tabs_in_a_finding_break_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    let mut h = Harness::new(dir.path());
    // Source shown with tabs (excerpt, output) and a message with a tab in it.
    let log = LOG
        .replace("|     ", "|\t")
        .replace("cannot find value", "cannot\tfind value");
    assert!(log.contains('\t'));
    replay_log(&mut app, &mut h, &log, false);
    assert!(app
        .job()
        .findings
        .iter()
        .any(|f| f.message.contains('\t') || f.excerpt.iter().any(|l| l.contains('\t'))));
    let s = screen(&app, 80, 24);
    assert!(!s.contains('\t'), "{s}");
    assert_borders_hold(&s);
    insta::assert_snapshot!("tabs_in_a_finding_80x24", s);
    assert_eq!(draw::expand_tabs("a\tb"), "a       b");
    assert_eq!(draw::expand_tabs("12345678\tx"), "12345678        x");
}

#[test]
fn blank_diff_context_lines_are_drawn_twice() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);
    let id = app.selected_finding().unwrap().id.clone();
    let diff = "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1,5 +1,5 @@\n fn main() {\n \n-    let x = 1;\n+    let x = 2;\n \n }\n";
    app.projects[0].jobs[0].patches.insert(
        id,
        Ok(vec![super::app::PatchView {
            id: "P1".into(),
            confidence: 0.8,
            gate: "approve".into(),
            gate_kind: cars::repair::Gate::Approve,
            source: "test".into(),
            rationale: "two blank context lines".into(),
            calibration: String::new(),
            diff: diff.into(),
        }]),
    );
    let s = screen(&app, 120, 32);
    let at = s.find("fn main() {").expect("the diff is drawn");
    let rows: Vec<&str> = s[at..].lines().take(6).collect();
    let blank = |r: &str| r.rsplit('│').nth(1).is_some_and(|c| c.trim().is_empty());
    assert!(blank(rows[1]) && rows[2].contains("-    let x = 1;"), "{s}");
    assert!(blank(rows[4]) && rows[5].contains('}'), "{s}");
    insta::assert_snapshot!("blank_diff_context_120x32", s);
}

#[test]
fn the_help_box_is_cut_off_at_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    app.update(key('?'));
    for (w, h) in [(80, 24), (120, 32)] {
        let s = screen(&app, w, h);
        // Every word of every key's text is on the screen.
        for (_, what) in &super::keymap::Keymap::builtin().help {
            for word in what.split_whitespace() {
                assert!(s.contains(word), "`{word}` is missing at {w}x{h}:\n{s}");
            }
        }
        assert!(s.contains("any key closes this help"), "{s}");
        insta::assert_snapshot!(format!("help_box_{w}x{h}"), s);
    }
}

#[test]
fn session_tui_over_a_failing_log_shows_passed_because_cat_exited_0() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let log_job = Job {
        name: "log".into(),
        command: "cat 'ci.log'".into(),
        ..job()
    };
    let mut app = app_over(&matcher, &opts, dir.path(), vec![log_job.clone()]);
    app.replay = true;
    let mut h = Harness::new(dir.path());
    replay_log(&mut app, &mut h, LOG, true);
    assert_eq!(app.job().status, Status::Failed(None));
    let s = screen(&app, 80, 24);
    assert!(s.contains("1:log✗") && s.contains("failed"), "{s}");
    insta::assert_snapshot!("session_tui_failing_log_80x24", s);

    // A clean log replayed passes.
    let mut app = app_over(&matcher, &opts, dir.path(), vec![log_job]);
    app.replay = true;
    replay_log(
        &mut app,
        &mut h,
        "Compiling demo v0.1.0\nFinished dev\n",
        true,
    );
    assert_eq!(app.job().status, Status::Passed);
}

#[test]
fn filtering_to_an_empty_category_says_no_finding_explains_it() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);
    app.update(key('f')); // build
    app.update(key('f')); // syntax: none in this log
    assert!(app.visible().is_empty());
    let s = screen(&app, 80, 24);
    assert!(!s.contains("no finding explains it"), "{s}");
    assert!(s.contains("no finding has category syntax"), "{s}");
    assert!(s.contains("Esc clears the filter"), "{s}");
    insta::assert_snapshot!("empty_category_80x24", s);
    // Esc clears it, as the screen says.
    app.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert_eq!(app.filter, None);
    assert_eq!(app.visible().len(), 5);
}

#[test]
fn the_tui_runs_propose_reject_and_undo_on_the_ui_thread() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), SOURCE).unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);

    // Another writer holds the database: a propose waits on it (up to the store's
    // busy timeout of 10 s) and must do so off the UI thread.
    let db = rusqlite::Connection::open(dir.path().join(".store/cars.db")).unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let (keys_tx, keys) = std::sync::mpsc::channel();
    let (runs_tx, runs) = std::sync::mpsc::sync_channel(16);
    let (engine_tx, engine) = std::sync::mpsc::channel();
    h.executor.actions = engine_tx;
    for c in ['p', '?', 'x', 'q'] {
        keys_tx.send(key(c)).unwrap();
    }
    let inbox = super::Inbox { keys, engine, runs };
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let started = std::time::Instant::now();
    let mut effects = Vec::new();
    super::run_loop(&mut terminal, &mut app, &inbox, &mut |e| {
        effects.push(format!("{e:?}"));
        // The run is replayed above: the loop's first start is not carried out.
        if !matches!(e, Effect::Start { .. }) {
            h.executor.execute(e)
        }
    })
    .unwrap();
    let answered = started.elapsed();
    assert!(
        effects.iter().any(|e| e.starts_with("Propose")),
        "{effects:?}"
    );
    assert!(
        answered < Duration::from_secs(3),
        "the keys after `p` waited {answered:?} for the propose"
    );

    // Once the database is free, the proposal arrives as an action.
    db.execute_batch("COMMIT").unwrap();
    let result = inbox.engine.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        matches!(&result, Action::Proposed { finding, result: Ok(p), .. } if finding == "E1" && !p.is_empty()),
        "{result:?}"
    );
    drop(runs_tx);
}

/// The tests share one knowledge base (the executor opens the default one): a test that
/// records outcomes holds this while it runs and wipes them after, so a test of the
/// gate bands never sees confidences another test moved.
fn knowledge_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn h_heals_the_job_off_the_ui_thread_and_says_why_it_stopped() {
    let _kb = knowledge_lock();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), SOURCE).unwrap();
    // The job's command prints the recorded cargo output while the typos are there.
    std::fs::write(dir.path().join("build.log"), LOG).unwrap();
    let mut spec = job();
    spec.command = "cat build.log; exit 101".into();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![spec.clone()]);
    let mut h = Harness::new(dir.path());
    h.executor.jobs = vec![vec![spec]];
    replay(&mut app, &mut h);
    let effects = app.update(key('H'));
    assert_eq!(effects, vec![Effect::Heal { project: 0, job: 0 }]);
    assert!(app.status.starts_with("healing check"), "{}", app.status);
    // A second H while healing does nothing.
    assert!(app.update(key('H')).is_empty());
    for e in effects {
        h.executor.execute(e);
    }
    let done = h.results.recv_timeout(Duration::from_secs(60)).unwrap();
    let Action::Done { message, rerun } = done else {
        panic!("{done:?}")
    };
    // The heal's own run prints rustc's rename, so it tries it; the command is a
    // recording that still fails, so validation rolls it back, and the message says
    // so. The job re-runs, and the file is as it was.
    assert!(
        message.contains("found nothing it could apply and keep"),
        "{message}"
    );
    assert!(
        message.contains("rolled back: exited with 101 and still reports"),
        "{message}"
    );
    assert_eq!(rerun, Some((0, 0)));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/main.rs")).unwrap(),
        SOURCE
    );
    cars::learn::Knowledge::open_default()
        .unwrap()
        .reset(None)
        .unwrap();
}

#[test]
fn job_hints_reorder_findings_only_in_the_tui() {
    // A clippy-like job whose log starts with another tool's error: the job's hints put
    // the rust finding first, and the recorded session (what `cars list` shows) has
    // the same order and ids.
    let dir = tempfile::tempdir().unwrap();
    let log = format!(
        "src/app.ts(3,7): error TS2322: Type 'number' is not assignable to type 'string'.\n{LOG}"
    );
    let mut spec = job();
    spec.hints = vec!["rust.".into()];
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![spec]);
    let mut h = Harness::new(dir.path());
    replay_log(&mut app, &mut h, &log, false);
    let shown = &app.projects[0].jobs[0].findings;
    assert!(shown[0].rule.starts_with("rust."), "{}", shown[0].rule);
    let session = app.projects[0].jobs[0].session.expect("recorded");
    let loc = cars::store::StoreLocation {
        dir: dir.path().join(".store"),
        project_root: dir.path().to_path_buf(),
    };
    let stored = cars::store::Store::open(&loc)
        .unwrap()
        .findings(session)
        .unwrap();
    let ids = |fs: &[cars::analyze::Finding]| -> Vec<(String, String)> {
        fs.iter().map(|f| (f.id.clone(), f.rule.clone())).collect()
    };
    assert_eq!(ids(shown), ids(&stored));
    assert!(
        stored.iter().any(|f| f.rule.starts_with("ts")),
        "{:?}",
        ids(&stored)
    );
}

#[test]
fn the_tui_takes_the_cli_and_repl_gate_decision_band_by_band() {
    let _kb = knowledge_lock();
    // The same three bands as tests/loop.rs `the_cli_and_the_repl_take_the_same_gate_decision`:
    // rustc's one-alternative suggestion (0.80) is plainly approvable, approvable only
    // when confirmed (the CLI's --force, the REPL's `approve P force`), or report only.
    for (gates, plain, forced) in [
        ((0.9, 0.75, 0.6), true, true),
        ((0.95, 0.85, 0.7), false, true),
        ((0.99, 0.95, 0.9), false, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), SOURCE).unwrap();
        let rules = RuleSet::builtin().unwrap();
        let matcher = Matcher::new(&rules);
        let opts = Options::default();
        let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
        let mut h = Harness::new(dir.path());
        h.executor.gates = cars::repair::Gates {
            auto: gates.0,
            approve: gates.1,
            force: gates.2,
        };
        replay(&mut app, &mut h);
        let effects = app.update(key('p'));
        assert!(h.run(&mut app, effects).is_empty());
        let approved =
            |e: &[Effect], f: bool| matches!(e, [Effect::Approve { force, .. }] if *force == f);
        let effects = app.update(key('a'));
        assert_eq!(approved(&effects, false), plain, "{gates:?}: {effects:?}");
        if !plain {
            let effects = app.update(key('A'));
            assert_eq!(
                approved(&effects, true),
                forced,
                "{gates:?}: {}",
                app.status
            );
            if !forced {
                assert!(app.status.contains("report-only"), "{}", app.status);
            }
        }
    }
}

#[test]
fn findings_of_known_flaky_tests_are_marked_where_they_stand() {
    let dir = tempfile::tempdir().unwrap();
    let rules = RuleSet::builtin().unwrap();
    let matcher = Matcher::new(&rules);
    let opts = Options::default();
    let mut app = app_over(&matcher, &opts, dir.path(), vec![job()]);
    let mut h = Harness::new(dir.path());
    replay(&mut app, &mut h);
    let before: Vec<String> = app.job().findings.iter().map(|f| f.id.clone()).collect();
    assert!(before.len() >= 2, "{before:?}");
    let second = app.job().findings[1].fingerprint.clone();
    let mark = cars::analyze::FlakyMark {
        failures: 2,
        runs: 5,
        why: "timeout".into(),
    };
    let session = app.job().session.unwrap();
    assert!(app
        .update(Action::Recorded {
            project: 0,
            job: 0,
            run: 1,
            session,
            flaky: vec![(second.clone(), mark.clone())],
        })
        .is_empty());
    let after: Vec<String> = app.job().findings.iter().map(|f| f.id.clone()).collect();
    assert_eq!(before, after, "the list keeps its order");
    let f = &app.job().findings[1];
    assert_eq!(f.flaky.as_ref(), Some(&mark));
    assert!(
        f.message
            .ends_with("[known flaky (timeout): failed 2 of 5 runs on one tree]"),
        "{}",
        f.message
    );
    assert!(app.job().findings[0].flaky.is_none());
    // The detail pane of the marked finding says so.
    assert!(app.update(key('j')).is_empty());
    let shown = screen(&app, 160, 40);
    assert!(shown.contains("failed 2 of 5 runs on one tree"), "{shown}");
}
