//! Which jobs a project has: detected from its manifests (Cargo.toml, package.json,
//! pyproject.toml, go.mod, Makefile), then shaped by `.cars.toml` (`[[job]]` and
//! `[watch]`). Reads files only; running them is runner.rs's business.

use super::WatchError;
use crate::config::Config;
pub use crate::config::{Job, WatchConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A project and the jobs `cars watch` runs for it, in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub root: PathBuf,
    pub name: String,
    pub jobs: Vec<Job>,
    /// `[watch] debounce_ms`.
    pub debounce: Duration,
    /// `[watch] output_lines`.
    pub output_lines: usize,
}

/// Detects the jobs of the project at `root` and applies its `.cars.toml` (or the
/// user's config file, see `Config::load`).
pub fn detect(root: &Path) -> Result<Project, WatchError> {
    let config = Config::load(root)?;
    detect_with(root, &config)
}

/// Like `detect`, with a config the caller already loaded.
pub fn detect_with(root: &Path, config: &Config) -> Result<Project, WatchError> {
    detect_inner(root, config, &on_path)
}

const RUST_WATCH: &[&str] = &[
    "**/*.rs",
    "**/Cargo.toml",
    "Cargo.lock",
    "**/src/**",
    "**/tests/**",
    "**/benches/**",
    "**/examples/**",
    ".cargo/**",
];
const NODE_WATCH: &[&str] = &[
    "src/**",
    "lib/**",
    "test/**",
    "tests/**",
    "__tests__/**",
    "package.json",
    "tsconfig*.json",
    "*.{js,cjs,mjs,ts,cts,mts,jsx,tsx}",
    ".eslintrc*",
];
const PYTHON_WATCH: &[&str] = &[
    "**/*.py",
    "**/*.pyi",
    "pyproject.toml",
    "setup.cfg",
    "setup.py",
    "requirements*.txt",
    "pytest.ini",
    "mypy.ini",
    "ruff.toml",
    ".ruff.toml",
    "tox.ini",
];
const GO_WATCH: &[&str] = &["**/*.go", "go.mod", "go.sum", "**/testdata/**"];

fn detect_inner(
    root: &Path,
    config: &Config,
    on_path: &dyn Fn(&str) -> bool,
) -> Result<Project, WatchError> {
    let root = root.canonicalize().map_err(|source| WatchError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut names = Vec::new();
    // Each ecosystem's jobs, cheapest first; a later ecosystem's job whose name is
    // taken is prefixed with the ecosystem ("go-test").
    let mut detected: Vec<(&str, Vec<Job>)> = Vec::new();

    let cargo = root.join("Cargo.toml");
    if cargo.is_file() {
        if let Some(name) = read_toml(&cargo).and_then(|v| toml_str(&v, &["package", "name"])) {
            names.push(name);
        }
        detected.push((
            "cargo",
            vec![
                Job::new("check", "cargo check --color never", RUST_WATCH, &["rust."]),
                Job::new(
                    "clippy",
                    "cargo clippy --color never -- -D warnings",
                    RUST_WATCH,
                    &["rust."],
                ),
                Job::new(
                    "test",
                    "cargo test --color never",
                    RUST_WATCH,
                    &["rust.test-", "rust.panic", "rust."],
                ),
            ],
        ));
    }

    let package = root.join("package.json");
    if package.is_file() {
        let (name, jobs) = node_jobs(&root, &package)?;
        names.extend(name);
        detected.push(("npm", jobs));
    }

    let pyproject = root.join("pyproject.toml");
    let setup_cfg = root.join("setup.cfg");
    if pyproject.is_file() || setup_cfg.is_file() || root.join("requirements.txt").is_file() {
        let project = read_toml(&pyproject);
        if let Some(name) = project
            .as_ref()
            .and_then(|v| toml_str(v, &["project", "name"]))
        {
            names.push(name);
        }
        let setup = std::fs::read_to_string(&setup_cfg).unwrap_or_default();
        let configured = |table: &str, files: &[&str], section: &str| {
            project
                .as_ref()
                .and_then(|v| v.get("tool"))
                .and_then(|t| t.get(table))
                .is_some()
                || files.iter().any(|f| root.join(f).is_file())
                || setup.lines().any(|l| l.trim() == section)
        };
        let mut jobs = Vec::new();
        if on_path("ruff") || configured("ruff", &["ruff.toml", ".ruff.toml"], "[ruff]") {
            jobs.push(Job::new("ruff", "ruff check .", PYTHON_WATCH, &["ruff."]));
        }
        if on_path("mypy") || configured("mypy", &["mypy.ini", ".mypy.ini"], "[mypy]") {
            jobs.push(Job::new("mypy", "mypy .", PYTHON_WATCH, &["mypy."]));
        }
        if on_path("pytest") || configured("pytest", &["pytest.ini"], "[tool:pytest]") {
            jobs.push(Job::new(
                "pytest",
                "python3 -m pytest -q",
                PYTHON_WATCH,
                &["pytest.", "python."],
            ));
        }
        detected.push(("py", jobs));
    }

    let go_mod = root.join("go.mod");
    if go_mod.is_file() {
        let module = std::fs::read_to_string(&go_mod).ok().and_then(|text| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix("module "))
                .map(|m| {
                    m.trim()
                        .trim_matches('"')
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
        });
        names.extend(module.filter(|m| !m.is_empty()));
        detected.push((
            "go",
            vec![
                Job::new("build", "go build ./...", GO_WATCH, &["go."]),
                Job::new("vet", "go vet ./...", GO_WATCH, &["go."]),
                Job::new("test", "go test ./...", GO_WATCH, &["go.test-", "go."]),
            ],
        ));
    }

    let mut jobs: Vec<Job> = Vec::new();
    for (prefix, group) in detected {
        for mut job in group {
            if jobs.iter().any(|j| j.name == job.name) {
                job.name = format!("{prefix}-{}", job.name);
            }
            jobs.push(job);
        }
    }

    let watch = &config.watch;
    if !watch.make.is_empty() {
        if !["Makefile", "makefile", "GNUmakefile"]
            .iter()
            .any(|f| root.join(f).is_file())
        {
            return Err(WatchError::Selection(format!(
                "[watch] make names targets ({}) but {} has no Makefile",
                watch.make.join(", "),
                root.display()
            )));
        }
        for target in &watch.make {
            // Named explicitly, so a make target replaces a detected job of its name.
            let mut job = Job::new(target, &format!("make {target}"), &[], &[]);
            job.held = config.make_held;
            replace_or_push(&mut jobs, job);
        }
    }
    for job in &config.jobs {
        replace_or_push(&mut jobs, job.clone());
    }
    if jobs.is_empty() {
        return Err(WatchError::NoJobs { root });
    }

    if !watch.jobs.is_empty() {
        let mut selected = Vec::with_capacity(watch.jobs.len());
        for name in &watch.jobs {
            let Some(job) = jobs.iter().find(|j| &j.name == name) else {
                let known: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
                return Err(WatchError::Selection(format!(
                    "[watch] jobs names `{name}`, which is not a job here (jobs: {}); \
                     add a [[job]] named `{name}` to define it",
                    known.join(", ")
                )));
            };
            if !selected.iter().any(|j: &Job| &j.name == name) {
                selected.push(job.clone());
            }
        }
        jobs = selected;
    }
    jobs.retain(|j| !watch.disable.contains(&j.name));
    if jobs.is_empty() {
        return Err(WatchError::Selection(
            "[watch] disable turns off every job; remove a name from it".into(),
        ));
    }

    let name = names.into_iter().next().unwrap_or_else(|| {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| root.display().to_string())
    });
    Ok(Project {
        root,
        name,
        jobs,
        debounce: Duration::from_millis(watch.debounce_ms),
        output_lines: watch.output_lines,
    })
}

fn replace_or_push(jobs: &mut Vec<Job>, job: Job) {
    match jobs.iter_mut().find(|j| j.name == job.name) {
        Some(slot) => *slot = job,
        None => jobs.push(job),
    }
}

/// package.json's name and its `tsc`, `lint`, `build` and `test` jobs.
fn node_jobs(root: &Path, path: &Path) -> Result<(Option<String>, Vec<Job>), WatchError> {
    let text = std::fs::read_to_string(path).map_err(|source| WatchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| WatchError::Manifest {
            path: path.to_path_buf(),
            message: format!("not valid JSON ({e}), so its scripts are unknown"),
        })?;
    let name = manifest
        .get("name")
        .and_then(|n| n.as_str())
        .map(str::to_string);
    let scripts = manifest.get("scripts").and_then(|s| s.as_object());
    let has = |s: &str| scripts.is_some_and(|m| m.contains_key(s));
    let mut jobs = Vec::new();
    if root.join("tsconfig.json").is_file() {
        jobs.push(Job::new("tsc", "npx tsc --noEmit", NODE_WATCH, &["tsc."]));
    }
    if has("lint") {
        jobs.push(Job::new(
            "lint",
            "npm run lint",
            NODE_WATCH,
            &["eslint.", "prettier.", "standard.", "tsc."],
        ));
    }
    if has("build") {
        jobs.push(Job::new(
            "build",
            "npm run build",
            NODE_WATCH,
            &["tsc.", "node.", "npm."],
        ));
    }
    if has("test") {
        jobs.push(Job::new(
            "test",
            "npm run test",
            NODE_WATCH,
            &["jest.", "vitest.", "mocha.", "tap.", "node.", "npm."],
        ));
    }
    Ok((name, jobs))
}

/// A manifest that does not parse is not detection's problem: the job that reads
/// it will report the error, which is what watching is for.
fn read_toml(path: &Path) -> Option<toml::Value> {
    std::fs::read_to_string(path).ok()?.parse().ok()
}

fn toml_str(value: &toml::Value, keys: &[&str]) -> Option<String> {
    let mut v = value;
    for key in keys {
        v = v.get(key)?;
    }
    v.as_str().map(str::to_string)
}

/// Whether an executable named `tool` is on PATH.
fn on_path(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(tool))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn config(text: &str) -> Config {
        Config::parse(text).unwrap()
    }

    /// Detection with no tool on PATH, so results do not depend on the machine.
    fn detect_bare(root: &Path, config: &Config) -> Result<Project, WatchError> {
        detect_inner(root, config, &|_| false)
    }

    fn names(project: &Project) -> Vec<&str> {
        project.jobs.iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn cargo_project_gets_check_clippy_test() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[package]\nname = \"demo\"\n");
        let project = detect_bare(dir.path(), &Config::default()).unwrap();
        assert_eq!(project.name, "demo");
        assert_eq!(names(&project), ["check", "clippy", "test"]);
        assert_eq!(project.jobs[0].command, "cargo check --color never");
        assert_eq!(
            project.jobs[1].command,
            "cargo clippy --color never -- -D warnings"
        );
        assert_eq!(project.jobs[2].command, "cargo test --color never");
        assert!(project.jobs[0]
            .watch
            .iter()
            .any(|g| g == "Cargo.toml" || g == "**/Cargo.toml"));
        assert_eq!(project.debounce, Duration::from_millis(50));
        assert_eq!(project.output_lines, 10_000);
        assert_eq!(project.root, dir.path().canonicalize().unwrap());
    }

    #[test]
    fn package_json_scripts_and_tsconfig() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "package.json",
            r#"{"name": "web", "scripts": {"test": "vitest run", "lint": "eslint .", "dev": "vite"}}"#,
        );
        write(dir.path(), "tsconfig.json", "{}");
        let project = detect_bare(dir.path(), &Config::default()).unwrap();
        assert_eq!(project.name, "web");
        assert_eq!(names(&project), ["tsc", "lint", "test"]);
        assert_eq!(project.jobs[0].command, "npx tsc --noEmit");
        assert_eq!(project.jobs[1].command, "npm run lint");
        assert_eq!(project.jobs[2].command, "npm run test");
    }

    #[test]
    fn package_json_without_scripts_or_tsconfig_has_no_jobs() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "package.json", r#"{"name": "web"}"#);
        let err = detect_bare(dir.path(), &Config::default()).unwrap_err();
        assert!(matches!(err, WatchError::NoJobs { .. }), "{err}");
    }

    #[test]
    fn broken_package_json_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "package.json", "{\"scripts\": ");
        let err = detect_bare(dir.path(), &Config::default()).unwrap_err();
        assert!(err.to_string().contains("package.json"), "{err}");
    }

    #[test]
    fn pyproject_with_tool_ruff_gets_ruff_only() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"pkg\"\n[tool.ruff]\nline-length = 100\n",
        );
        let project = detect_bare(dir.path(), &Config::default()).unwrap();
        assert_eq!(project.name, "pkg");
        assert_eq!(names(&project), ["ruff"]);
        assert_eq!(project.jobs[0].command, "ruff check .");
    }

    #[test]
    fn python_tools_on_path_are_used() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "requests\n");
        let project = detect_inner(dir.path(), &Config::default(), &|tool| {
            tool == "pytest" || tool == "mypy"
        })
        .unwrap();
        assert_eq!(names(&project), ["mypy", "pytest"]);
        assert_eq!(project.jobs[0].command, "mypy .");
        assert_eq!(project.jobs[1].command, "python3 -m pytest -q");
    }

    #[test]
    fn pytest_configured_in_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[tool.pytest.ini_options]\naddopts = \"-q\"\n[tool.mypy]\nstrict = true\n",
        );
        let project = detect_bare(dir.path(), &Config::default()).unwrap();
        assert_eq!(names(&project), ["mypy", "pytest"]);
    }

    #[test]
    fn go_module_gets_build_vet_test() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "go.mod",
            "module example.com/me/tool\n\ngo 1.22\n",
        );
        let project = detect_bare(dir.path(), &Config::default()).unwrap();
        assert_eq!(project.name, "tool");
        assert_eq!(names(&project), ["build", "vet", "test"]);
        let commands: Vec<&str> = project.jobs.iter().map(|j| j.command.as_str()).collect();
        assert_eq!(
            commands,
            ["go build ./...", "go vet ./...", "go test ./..."]
        );
    }

    #[test]
    fn second_ecosystem_gets_prefixed_names() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[package]\nname = \"demo\"\n");
        write(dir.path(), "go.mod", "module demo\n");
        let project = detect_bare(dir.path(), &Config::default()).unwrap();
        assert_eq!(
            names(&project),
            ["check", "clippy", "test", "build", "vet", "go-test"]
        );
    }

    #[test]
    fn makefile_targets_come_from_config_only() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Makefile", "check:\n\ttrue\nlint:\n\ttrue\n");
        let err = detect_bare(dir.path(), &Config::default()).unwrap_err();
        assert!(err.to_string().contains("[[job]]"), "{err}");

        let project = detect_bare(
            dir.path(),
            &config("[watch]\nmake = [\"check\", \"lint\"]\n"),
        )
        .unwrap();
        assert_eq!(names(&project), ["check", "lint"]);
        assert_eq!(project.jobs[0].command, "make check");
        assert!(project.jobs[0].watch.is_empty());
    }

    #[test]
    fn make_targets_without_a_makefile_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = detect_bare(dir.path(), &config("[watch]\nmake = [\"check\"]\n")).unwrap_err();
        assert!(err.to_string().contains("no Makefile"), "{err}");
    }

    #[test]
    fn cars_toml_jobs_replace_add_select_and_disable() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[package]\nname = \"demo\"\n");
        write(
            dir.path(),
            ".cars.toml",
            r#"
[watch]
disable = ["check", "not-a-job"]
debounce_ms = 50
output_lines = 500

[[job]]
name = "test"
command = "cargo nextest run"
env = { RUST_BACKTRACE = "1" }
watch = ["src/**"]

[[job]]
name = "docs"
command = "cargo doc --no-deps"
cwd = "sub"
hints = ["rust."]
"#,
        );
        let project = detect(dir.path()).unwrap();
        assert_eq!(names(&project), ["clippy", "test", "docs"]);
        assert_eq!(project.jobs[1].command, "cargo nextest run");
        assert_eq!(project.jobs[1].env["RUST_BACKTRACE"], "1");
        assert_eq!(project.jobs[1].watch, ["src/**"]);
        assert_eq!(project.jobs[2].cwd.as_deref(), Some(Path::new("sub")));
        assert_eq!(project.jobs[2].dir(&project.root), project.root.join("sub"));
        assert_eq!(project.debounce, Duration::from_millis(50));
        assert_eq!(project.output_lines, 500);
    }

    #[test]
    fn watch_jobs_selects_and_orders() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[package]\nname = \"demo\"\n");
        let project = detect_bare(
            dir.path(),
            &config("[watch]\njobs = [\"test\", \"check\"]\n"),
        )
        .unwrap();
        assert_eq!(names(&project), ["test", "check"]);
    }

    #[test]
    fn config_jobs_alone_are_enough() {
        let dir = tempfile::tempdir().unwrap();
        let project = detect_bare(
            dir.path(),
            &config("[[job]]\nname = \"lint\"\ncommand = \"./lint.sh\"\n"),
        )
        .unwrap();
        assert_eq!(names(&project), ["lint"]);
    }

    #[test]
    fn selecting_an_unknown_job_names_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[package]\nname = \"demo\"\n");
        let err = detect_bare(dir.path(), &config("[watch]\njobs = [\"tset\"]\n")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("`tset`"), "{message}");
        assert!(message.contains("check, clippy, test"), "{message}");
    }

    #[test]
    fn disabling_every_job_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "go.mod", "module demo\n");
        let err = detect_bare(
            dir.path(),
            &config("[watch]\ndisable = [\"build\", \"vet\", \"test\"]\n"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("disable"), "{err}");
    }

    #[test]
    fn no_jobs_tells_the_user_to_add_a_job_table() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "README.md", "hello\n");
        let err = detect_bare(dir.path(), &Config::default()).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, WatchError::NoJobs { .. }));
        assert!(message.contains("[[job]]"), "{message}");
        assert!(message.contains(".cars.toml"), "{message}");
    }

    #[test]
    fn config_rejects_bad_watch_settings() {
        for (text, expected) in [
            ("[watch]\noutput_lines = 0\n", "output_lines"),
            ("[watch]\ndebounce = 10\n", "unknown field"),
            (
                "[[job]]\nname = \"a\"\ncommand = \"x\"\nwatchs = []\n",
                "unknown field",
            ),
            (
                "[[job]]\nname = \"a\"\ncommand = \"x\"\n[[job]]\nname = \"a\"\ncommand = \"y\"\n",
                "twice",
            ),
            ("[[job]]\nname = \"a b\"\ncommand = \"x\"\n", "one word"),
            (
                "[[job]]\nname = \"a\"\ncommand = \"x\"\nwatch = [\"src/{\"]\n",
                "watch glob",
            ),
            (
                "[[job]]\nname = \"a\"\ncommand = \"x\"\ncwd = \"/abs\"\n",
                "inside the project",
            ),
            (
                "[[job]]\nname = \"a\"\ncommand = \"x\"\ncwd = \"../up\"\n",
                "inside the project",
            ),
            ("[watch]\njobs = [\"a\"]\ndisable = [\"a\"]\n", "both"),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn readme_example_config_parses_and_applies() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("## Watching a project").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[package]\nname = \"demo\"\n");
        write(dir.path(), "Makefile", "lint:\n\ttrue\n");
        let project = detect_bare(dir.path(), &config(example)).unwrap();
        assert_eq!(names(&project), ["check", "test", "e2e"]);
        assert_eq!(project.jobs[1].command, "cargo nextest run --color never");
    }

    #[test]
    fn job_round_trips_through_toml() {
        let job = Job::new("check", "cargo check", RUST_WATCH, &["rust."]);
        let text = toml::to_string(&job).unwrap();
        assert_eq!(toml::from_str::<Job>(&text).unwrap(), job);
    }
}
