//! The `cars watch` engine against real processes and a real file tree: what a
//! job's run reports, how a restart kills the previous run, how much output gets
//! through, and which file changes the watcher reports.

use cars::watch::changes::Watcher;
use cars::watch::jobs::Job;
use cars::watch::runner::{RunEvent, Runner};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// Generous: these only bound a wait that normally ends in milliseconds.
const PATIENCE: Duration = Duration::from_secs(20);

fn job(command: &str) -> Job {
    Job {
        name: "job".into(),
        command: command.into(),
        env: Default::default(),
        cwd: None,
        watch: Vec::new(),
        hints: Vec::new(),
        held: false,
    }
}

/// Events until (and including) the run's `Finished` or `FailedToStart`.
fn until_done(events: &Receiver<RunEvent>, run: u64) -> Vec<RunEvent> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("run {run} did not finish; got {seen:?}"));
        let done = match &event {
            RunEvent::Finished { run: r, .. } | RunEvent::FailedToStart { run: r, .. } => *r == run,
            _ => false,
        };
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn wait_for(events: &Receiver<RunEvent>, what: &str, mut found: impl FnMut(&RunEvent) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if found(&event) => return,
            Ok(_) => {}
            Err(_) => panic!("no {what} within {PATIENCE:?}"),
        }
    }
}

/// Whether a process of the group still runs. `kill -0` alone is not enough: it
/// also sees zombies, and an orphaned child that was killed stays one until PID 1
/// reaps it, which on some machines (this project's VMs) takes seconds.
fn group_exists(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks for existence.
    if unsafe { libc::kill(-pgid, 0) } != 0 {
        return false;
    }
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z"
    })
}

#[test]
fn a_run_reports_started_lines_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let run = runner.start(4, &job("printf 'a\\nb\\n'; exit 3"), dir.path());
    let events = until_done(&rx, run);
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[0], RunEvent::Started { job: 4, run });
    let line = |text: &str| RunEvent::Line {
        job: 4,
        run,
        text: text.into(),
        stderr: false,
    };
    assert_eq!(events[1], line("a"));
    assert_eq!(events[2], line("b"));
    assert!(
        matches!(
            events[3],
            RunEvent::Finished { job: 4, run: r, success: false, code: Some(3), .. } if r == run
        ),
        "{:?}",
        events[3]
    );
}

#[test]
fn env_cwd_stderr_and_a_last_line_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let mut job =
        job("echo \"$GREETING from $(basename \"$PWD\")\"; printf 'oops\\r\\n' >&2; printf tail");
    job.env.insert("GREETING".into(), "hello".into());
    job.cwd = Some(PathBuf::from("sub"));
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let run = runner.start(0, &job, dir.path());
    let events = until_done(&rx, run);
    let lines: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Line { text, stderr, .. } => Some((text.clone(), *stderr)),
            _ => None,
        })
        .collect();
    assert!(
        lines.contains(&("hello from sub".into(), false)),
        "{lines:?}"
    );
    assert!(lines.contains(&("oops".into(), true)), "{lines:?}");
    assert!(lines.contains(&("tail".into(), false)), "{lines:?}");
    assert!(matches!(
        events.last(),
        Some(RunEvent::Finished {
            success: true,
            code: Some(0),
            ..
        })
    ));
}

/// sh reports a missing command itself: the run finishes with code 127 after sh's
/// "not found" line. FailedToStart is for a run that cannot begin at all.
#[test]
fn a_missing_command_finishes_with_127_and_says_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let run = runner.start(0, &job("/nonexistent/cmd"), dir.path());
    let events = until_done(&rx, run);
    assert!(
        events.iter().any(|e| matches!(e,
            RunEvent::Line { text, stderr: true, .. } if text.contains("not found") || text.contains("No such file"))),
        "{events:?}"
    );
    assert!(
        matches!(
            events.last(),
            Some(RunEvent::Finished {
                success: false,
                code: Some(127),
                ..
            })
        ),
        "{events:?}"
    );
}

#[test]
fn a_missing_working_directory_fails_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut job = job("true");
    job.cwd = Some(PathBuf::from("nowhere"));
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let run = runner.start(0, &job, dir.path());
    let events = until_done(&rx, run);
    match events.as_slice() {
        [RunEvent::FailedToStart { error, .. }] => {
            assert!(error.contains("nowhere"), "{error}")
        }
        other => panic!("{other:?}"),
    }
}

/// The first run prints its process group id (sh's pid), then sleeps in a child.
fn start_sleeper(runner: &Runner, rx: &Receiver<RunEvent>, root: &Path) -> (u64, i32) {
    let run = runner.start(0, &job("echo $$; sleep 30; echo never"), root);
    let mut pgid = None;
    wait_for(rx, "pid line", |e| match e {
        RunEvent::Line { run: r, text, .. } if *r == run => {
            pgid = text.parse().ok();
            true
        }
        _ => false,
    });
    let pgid = pgid.expect("a pid");
    assert!(group_exists(pgid));
    (run, pgid)
}

fn assert_group_gone_within(pgid: i32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while group_exists(pgid) {
        assert!(
            Instant::now() < deadline,
            "process group {pgid} still alive"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn restart_kills_the_previous_run_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let (first, pgid) = start_sleeper(&runner, &rx, dir.path());
    let killed_at = Instant::now();
    let second = runner.start(0, &job("echo again"), dir.path());
    assert!(second > first);
    let events = until_done(&rx, second);
    assert_group_gone_within(
        pgid,
        Duration::from_secs(2).saturating_sub(killed_at.elapsed()),
    );
    assert!(
        events.iter().all(|e| !matches!(e, RunEvent::Line { run, .. } | RunEvent::Finished { run, .. } if *run == first)),
        "the killed run still reported: {events:?}"
    );
    assert!(events.contains(&RunEvent::Started {
        job: 0,
        run: second
    }));
    assert!(events.contains(&RunEvent::Line {
        job: 0,
        run: second,
        text: "again".into(),
        stderr: false
    }));
}

#[test]
fn kill_ends_the_run_silently_even_when_it_ignores_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    runner.start(
        1,
        &job("trap '' TERM; echo $$; while :; do echo tick; sleep 0.01; done"),
        dir.path(),
    );
    let mut pgid = None;
    wait_for(&rx, "pid line", |e| match e {
        RunEvent::Line { text, .. } => {
            pgid = text.parse::<i32>().ok();
            true
        }
        _ => false,
    });
    let pgid = pgid.unwrap();
    runner.kill(1);
    // Whatever was sent before kill returned may still be queued; nothing after.
    let queued: Vec<RunEvent> = rx.try_iter().collect();
    assert!(
        queued.iter().all(|e| matches!(e, RunEvent::Line { .. })),
        "{queued:?}"
    );
    assert_group_gone_within(pgid, Duration::from_secs(2));
    assert_eq!(rx.try_iter().count(), 0, "events after kill returned");
}

#[test]
fn dropping_the_runner_kills_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let (_, pgid) = start_sleeper(&runner, &rx, dir.path());
    drop(runner);
    assert_group_gone_within(pgid, Duration::from_millis(100));
}

#[test]
fn a_flood_of_output_arrives_complete_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::channel();
    let runner = Runner::new(tx);
    let started = Instant::now();
    let run = runner.start(0, &job("yes line | head -n 200000"), dir.path());
    let events = until_done(&rx, run);
    let lines = events
        .iter()
        .filter(|e| matches!(e, RunEvent::Line { text, .. } if text == "line"))
        .count();
    assert_eq!(lines, 200_000);
    assert_eq!(events.len(), 200_002);
    assert!(matches!(
        events.last(),
        Some(RunEvent::Finished { success: true, .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// With a bounded channel a slow receiver holds the job back instead of letting
/// events pile up, and still gets every line.
#[test]
fn a_bounded_channel_applies_backpressure_without_losing_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = mpsc::sync_channel(64);
    let runner = Runner::new(tx);
    let run = runner.start(0, &job("seq 1 20000"), dir.path());
    // Let the job fill the channel and block.
    std::thread::sleep(Duration::from_millis(100));
    let events = until_done(&rx, run);
    let numbers: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Line { text, .. } => Some(text.parse().unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(numbers, (1..=20000).collect::<Vec<_>>());
}

fn wait_for_change(changes: &Receiver<Vec<PathBuf>>, limit: Duration) -> Option<Vec<PathBuf>> {
    changes.recv_timeout(limit).ok()
}

#[test]
fn the_watcher_reports_writes_and_skips_ignored_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(root.join("out")).unwrap();
    std::fs::create_dir_all(root.join("target/debug")).unwrap();
    std::fs::write(root.join(".gitignore"), "out/\n").unwrap();
    std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();

    let (tx, rx) = mpsc::channel();
    let _watcher = Watcher::new(root, Duration::from_millis(50), tx).unwrap();

    // Ignored writes alone report nothing.
    std::fs::write(root.join("out/gen.rs"), "x").unwrap();
    std::fs::write(root.join("target/debug/build.log"), "x").unwrap();
    assert_eq!(wait_for_change(&rx, Duration::from_millis(400)), None);

    let written = Instant::now();
    std::fs::write(root.join("src/main.rs"), "fn main() { }\n").unwrap();
    std::fs::write(root.join("out/gen.rs"), "y").unwrap();
    let changed = wait_for_change(&rx, Duration::from_secs(2)).expect("a change within 2 s");
    assert!(written.elapsed() < Duration::from_secs(2));
    assert_eq!(changed, [PathBuf::from("src/main.rs")]);

    // A directory made after start is watched too.
    std::fs::create_dir_all(root.join("src/new")).unwrap();
    std::fs::write(root.join("src/new/mod.rs"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut seen = Vec::new();
    while !seen.contains(&PathBuf::from("src/new/mod.rs")) {
        let left = deadline.saturating_duration_since(Instant::now());
        seen.extend(wait_for_change(&rx, left).unwrap_or_else(|| panic!("got {seen:?}")));
    }
}
