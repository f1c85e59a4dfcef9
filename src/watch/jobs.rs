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

/// The job table (`src/detect.toml`, embedded).
pub const DETECT: &str = include_str!("../detect.toml");

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    ecosystem: Vec<Ecosystem>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Ecosystem {
    name: String,
    markers: Vec<String>,
    name_from: NameFrom,
    watch: Vec<String>,
    job: Vec<JobRule>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NameFrom {
    file: String,
    key: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JobRule {
    name: String,
    command: String,
    #[serde(default)]
    hints: Vec<String>,
    if_file: Option<String>,
    if_script: Option<String>,
    if_tool: Option<String>,
    if_configured: Option<Configured>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Configured {
    table: String,
    #[serde(default)]
    files: Vec<String>,
    section: String,
}

fn table() -> &'static Table {
    static PARSED: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| toml::from_str(DETECT).expect("src/detect.toml is tested to parse"))
}

/// What detection reads of a project's manifests, each read once.
struct Manifests<'a> {
    root: &'a Path,
    pyproject: Option<toml::Value>,
    setup_cfg: String,
    scripts: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Manifests<'_> {
    fn holds(&self, rule: &JobRule, on_path: &dyn Fn(&str) -> bool) -> bool {
        let conditions = [
            rule.if_file.as_ref().map(|f| self.root.join(f).is_file()),
            rule.if_script
                .as_ref()
                .map(|s| self.scripts.as_ref().is_some_and(|m| m.contains_key(s))),
            rule.if_tool.as_deref().map(on_path),
            rule.if_configured.as_ref().map(|c| {
                self.pyproject
                    .as_ref()
                    .and_then(|v| v.get("tool"))
                    .and_then(|t| t.get(&c.table))
                    .is_some()
                    || c.files.iter().any(|f| self.root.join(f).is_file())
                    || self.setup_cfg.lines().any(|l| l.trim() == c.section)
            }),
        ];
        let mut set = conditions.iter().flatten().peekable();
        set.peek().is_none() || set.any(|&held| held)
    }
}

/// The project's name from a manifest: a dotted key of a TOML or JSON file, or the
/// last path segment of go.mod's `module`.
fn name_from(root: &Path, from: &NameFrom) -> Result<Option<String>, WatchError> {
    let path = root.join(&from.file);
    if !path.is_file() {
        return Ok(None);
    }
    let keys: Vec<&str> = from.key.split('.').collect();
    if from.file.ends_with(".json") {
        let v = read_json(&path)?;
        return Ok(keys
            .iter()
            .try_fold(&v, |v, k| v.get(k))
            .and_then(|n| n.as_str())
            .map(str::to_string));
    }
    if from.file.ends_with(".toml") {
        return Ok(read_toml(&path).and_then(|v| toml_str(&v, &keys)));
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    Ok(text
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{} ", from.key)))
        .map(|m| {
            m.trim()
                .trim_matches('"')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .filter(|m| !m.is_empty()))
}

/// A JSON manifest that does not parse is an error: its scripts are unknown.
fn read_json(path: &Path) -> Result<serde_json::Value, WatchError> {
    let text = std::fs::read_to_string(path).map_err(|source| WatchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| WatchError::Manifest {
        path: path.to_path_buf(),
        message: format!("not valid JSON ({e}), so its scripts are unknown"),
    })
}

fn detect_inner(
    root: &Path,
    config: &Config,
    on_path: &dyn Fn(&str) -> bool,
) -> Result<Project, WatchError> {
    let root = root.canonicalize().map_err(|source| WatchError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let package = root.join("package.json");
    let manifests = Manifests {
        root: &root,
        pyproject: read_toml(&root.join("pyproject.toml")),
        setup_cfg: std::fs::read_to_string(root.join("setup.cfg")).unwrap_or_default(),
        scripts: match package.is_file() {
            true => read_json(&package)?
                .get("scripts")
                .and_then(|s| s.as_object())
                .cloned(),
            false => None,
        },
    };
    let mut names = Vec::new();
    let mut detected: Vec<(&str, Vec<Job>)> = Vec::new();
    for eco in &table().ecosystem {
        if !eco.markers.iter().any(|m| root.join(m).is_file()) {
            continue;
        }
        names.extend(name_from(&root, &eco.name_from)?);
        let watch: Vec<&str> = eco.watch.iter().map(String::as_str).collect();
        let jobs = eco
            .job
            .iter()
            .filter(|rule| manifests.holds(rule, on_path))
            .map(|rule| {
                let hints: Vec<&str> = rule.hints.iter().map(String::as_str).collect();
                Job::new(&rule.name, &rule.command, &watch, &hints)
            })
            .collect();
        detected.push((&eco.name, jobs));
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
    fn the_embedded_job_table_parses_and_every_ecosystem_has_jobs() {
        let t: Table = toml::from_str(DETECT).unwrap();
        assert!(t.ecosystem.len() >= 4);
        for eco in &t.ecosystem {
            assert!(
                !eco.job.is_empty() && !eco.markers.is_empty(),
                "{}",
                eco.name
            );
        }
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
        let job = Job::new(
            "check",
            "cargo check",
            &["**/*.rs", "Cargo.toml"],
            &["rust."],
        );
        let text = toml::to_string(&job).unwrap();
        assert_eq!(toml::from_str::<Job>(&text).unwrap(), job);
    }
}
