//! `cars watch` driven like a person would, inside tmux: a tiny broken Python project,
//! the screen read with capture-pane, keys sent with send-keys. Propose, approve, and
//! the fix lands, the job re-runs and goes green.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("tmux is not installed; .ci/run should have installed it");
    }
    found
}

/// Polls the pane until `want` appears, or fails with the last screen.
fn wait_for(session: &str, want: &str, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(want) {
            return screen;
        }
        if start.elapsed() > timeout {
            let _ = tmux(&["kill-session", "-t", session]);
            panic!("`{want}` never appeared on the screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `cars ARGS` in a detached tmux session of `size`, in `root` with its own
/// HOME; the shell prints `CARS-EXITED-<code>` when cars ends.
fn start_cars(session: &str, root: &Path, home: &Path, before: &str, args: &str, size: (u16, u16)) {
    let command = format!(
        "cd '{}' && unset XDG_DATA_HOME CARS_DATA_DIR; {before} HOME='{}' XDG_CONFIG_HOME='{}/config' NO_COLOR=1 '{}' {args}; echo CARS-EXITED-$?; sleep 30",
        root.display(),
        home.display(),
        home.display(),
        env!("CARGO_BIN_EXE_cars")
    );
    let (x, y) = (size.0.to_string(), size.1.to_string());
    tmux(&[
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        &x,
        "-y",
        &y,
        &command,
    ]);
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

#[test]
fn approve_in_the_tui_fixes_the_project_and_the_job_goes_green() {
    if !have_tmux() {
        eprintln!("skipping: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("app.py"),
        "def greet(name):\n    return \"hello \" + nme\n\n\nprint(greet(\"you\"))\n",
    )
    .unwrap();
    std::fs::write(
        root.join(".cars.toml"),
        "[[job]]\nname = \"run\"\ncommand = \"python3 app.py\"\nwatch = [\"*.py\"]\n\n[watch]\njobs = [\"run\"]\n",
    )
    .unwrap();
    git(root, &["init", "-q"]);
    let session = format!("cars-e2e-{}", std::process::id());
    let home = tempfile::tempdir().unwrap();
    // The job comes from the project's own .cars.toml: it runs once the user trusts it.
    let trusted = Command::new(env!("CARGO_BIN_EXE_cars"))
        .arg("trust")
        .current_dir(root)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env_remove("XDG_DATA_HOME")
        .env_remove("CARS_DATA_DIR")
        .output()
        .unwrap();
    assert!(trusted.status.success(), "{trusted:?}");
    start_cars(&session, root, home.path(), "", "watch", (120, 32));
    // Generous: a loaded CI machine builds and runs the job slowly.
    let long = Duration::from_secs(90);
    wait_for(&session, "NameError", long);
    wait_for(&session, "failed", long);
    tmux(&["send-keys", "-t", &session, "p"]);
    wait_for(&session, "P1 (0.85, approve, from", long);
    tmux(&["send-keys", "-t", &session, "a"]);
    let screen = wait_for(&session, "the job passed", long);
    assert!(screen.contains("1:run✓"), "{screen}");
    let fixed = std::fs::read_to_string(root.join("app.py")).unwrap();
    assert!(fixed.contains("\"hello \" + name"), "{fixed}");
    tmux(&["send-keys", "-t", &session, "q"]);
    let screen = wait_for(&session, "CARS-EXITED-0", long);
    // The alternate screen is gone: the shell's own output is back.
    assert!(
        !screen.contains("findings"),
        "the terminal was restored: {screen}"
    );
    let _ = tmux(&["kill-session", "-t", &session]);
}

#[test]
fn after_a_resize_quitting_leaves_borders_above_the_prompt() {
    if !have_tmux() {
        eprintln!("skipping: tmux is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("ci.log"),
        "Traceback (most recent call last):\n  File \"app.py\", line 5, in <module>\n    print(greet(\"you\"))\n  File \"app.py\", line 2, in greet\n    return \"hello \" + nme\nNameError: name 'nme' is not defined\n",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let session = format!("cars-resize-{}", std::process::id());
    start_cars(
        &session,
        root,
        home.path(),
        "echo BEFORE-CARS;",
        "watch --log ci.log",
        (100, 30),
    );
    // Generous: a loaded CI machine builds and runs the job slowly.
    let long = Duration::from_secs(90);
    wait_for(&session, "NameError", long);
    for (x, y) in [("80", "24"), ("120", "32"), ("90", "26")] {
        tmux(&["resize-window", "-t", &session, "-x", x, "-y", y]);
        std::thread::sleep(Duration::from_millis(400));
        wait_for(&session, "findings", long);
    }
    tmux(&["resize-window", "-t", &session, "-x", "70", "-y", "20"]);
    tmux(&["send-keys", "-t", &session, "q"]);
    let screen = wait_for(&session, "CARS-EXITED-0", long);
    let _ = tmux(&["kill-session", "-t", &session]);
    assert!(screen.contains("BEFORE-CARS"), "{screen}");
    for border in ['┌', '┐', '└', '┘', '│', '─'] {
        assert!(
            !screen.contains(border),
            "`{border}` of the watch screen is left on the terminal:\n{screen}"
        );
    }
}
