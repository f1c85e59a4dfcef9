//! Shared by the end-to-end tests: a tiny project in a sandboxed git repository
//! (global and system git config ignored), its own HOME and XDG dirs, and the built
//! `cars` binary run inside it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Project {
    pub dir: tempfile::TempDir,
    /// HOME, the XDG dirs and the logs live here, outside the repository.
    pub home: tempfile::TempDir,
}

/// The sandbox of a spawned git or cars: no global or system git config, a fixed
/// author, and never the developer's own cars data dir (its learned confidences would
/// move the gates a test checks).
pub fn git_env(c: &mut Command) -> &mut Command {
    c.env_remove("CARS_DATA_DIR")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
}

impl Project {
    pub fn new(files: &[(&str, &str)]) -> Project {
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
        };
        for (path, text) in files {
            p.write(path, text);
        }
        p.git(&["init", "-q", "-b", "main"]);
        p.git(&["config", "user.name", "Test"]);
        p.git(&["config", "user.email", "test@example.com"]);
        p.write(".gitignore", "target/\nCargo.lock\n");
        p.git(&["add", "-A"]);
        p.git(&["commit", "-qm", "initial"]);
        p
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    /// Writes a log outside the repository and returns its path.
    pub fn log(&self, content: &str) -> PathBuf {
        let path = self.home.path().join("build.log");
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.root().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// Writes a file under the sandboxed HOME (the user's config, for example).
    pub fn write_home(&self, path: &str, text: &str) {
        let full = self.home.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).unwrap()
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = git_env(&mut Command::new("git"))
            .args(args)
            .current_dir(self.root())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// Runs a real tool in the project and saves its combined output as a log.
    pub fn run_tool(&self, name: &str, cmd: &str) -> (bool, PathBuf) {
        let out = Command::new("sh")
            .args(["-c", &format!("{cmd} 2>&1")])
            .current_dir(self.root())
            .env("CARGO_TERM_COLOR", "never")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let log = self.home.path().join(format!("{name}.log"));
        std::fs::write(&log, &out.stdout).unwrap();
        (out.status.success(), log)
    }

    pub fn cars(&self, args: &[&str]) -> Output {
        self.run_cars(args, &[], "")
    }

    /// `cars` with `input` on its standard input (answers to its questions).
    pub fn cars_input(&self, args: &[&str], input: &str) -> Output {
        self.run_cars(args, &[], input)
    }

    /// `cars` with extra environment variables (`PATH` without a tool, say).
    pub fn cars_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_cars(args, env, "")
    }

    fn run_cars(&self, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
        use std::io::Write;
        use std::process::Stdio;
        let mut c = Command::new(env!("CARGO_BIN_EXE_cars"));
        c.envs(env.iter().copied());
        git_env(&mut c)
            .args(args)
            .current_dir(self.root())
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("XDG_STATE_HOME", self.home.path().join("state"))
            .env("XDG_CACHE_HOME", self.home.path().join("cache"))
            .env("CARGO_TERM_COLOR", "never")
            .env("NO_COLOR", "1")
            // Validation builds go to the project's own target/.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARS_STORE")
            .env_remove("CARS_DATA_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        // A command that never reads its input closes the pipe early; that is fine.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        child.wait_with_output().unwrap()
    }

    pub fn cars_ok(&self, args: &[&str]) -> String {
        let out = self.cars(args);
        assert!(
            out.status.code() == Some(0),
            "cars {args:?} exited {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Every file of the project: bytes and mode.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.dir.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let path = e.path();
                let name = e.file_name();
                // Build output and the lock file the real tool writes are not ours.
                if name == ".git" || name == "target" || name == "Cargo.lock" {
                    continue;
                }
                let meta = e.metadata().unwrap();
                if meta.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(self.dir.path()).unwrap().to_path_buf();
                    out.insert(
                        rel,
                        (std::fs::read(&path).unwrap(), meta.permissions().mode()),
                    );
                }
            }
        }
        out
    }

    pub fn patches(&self) -> serde_json::Value {
        serde_json::from_str(&self.cars_ok(&["patch", "--format", "json"])).unwrap()
    }
}

/// Whether `probe` (a shell command) succeeds, i.e. the tool is installed. CI installs
/// every tool the tests use, so there a missing one fails the test; only a developer
/// machine may skip.
pub fn have(tool: &str, probe: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("{probe} >/dev/null 2>&1")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("{tool} is not installed; .ci/run should have installed it");
    }
    if !found {
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

/// The patches of a `cars patch --format json` answer whose origin starts with `prefix`.
pub fn from_origin<'a>(patches: &'a serde_json::Value, prefix: &str) -> Vec<&'a serde_json::Value> {
    patches["patches"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|x| x["origin"].as_str().is_some_and(|o| o.starts_with(prefix)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A project whose `sh check.sh` prints rustc's real error for each typo still in
/// src/main.rs: the second only once the first is fixed, as a compiler stops early.
pub mod typos {
    pub const COUTN: &str = "error[E0425]: cannot find value `coutn` in this scope\n --> src/main.rs:3:20\n  |\n3 |     println!(\"{}\", coutn);\n  |                    ^^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n3 -     println!(\"{}\", coutn);\n3 +     println!(\"{}\", count);\n  |\n";
    pub const TOTL: &str = "error[E0425]: cannot find value `totl` in this scope\n --> src/main.rs:9:20\n  |\n9 |     println!(\"{}\", totl);\n  |                    ^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n9 -     println!(\"{}\", totl);\n9 +     println!(\"{}\", total);\n  |\n";
    pub const MAIN: &str = "fn main() {\n    let count = 3;\n    println!(\"{}\", coutn);\n    let total = 4;\n    // four\n    // lines\n    // further\n    // down\n    println!(\"{}\", totl);\n}\n";

    /// The check fails with rustc's error for each typo still in main.rs. The second
    /// error only shows once the first is fixed (as a compiler stops early), so healing
    /// takes two rounds.
    pub fn project() -> super::Project {
        super::Project::new(&[
            ("src/main.rs", MAIN),
            (
                "check.sh",
                "grep -q coutn src/main.rs && { cat coutn.log; exit 1; }\n\
                 grep -q totl src/main.rs && { cat totl.log; exit 1; }\nexit 0\n",
            ),
            ("coutn.log", COUTN),
            ("totl.log", TOTL),
        ])
    }
}
