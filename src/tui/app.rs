//! The watch screen's state and how it changes: `update` takes one `Action` (a key,
//! a runner event, a file change, a tick, the result of an engine call) and returns
//! the `Effect`s the loop must carry out (start a job, propose, apply...). No I/O
//! here, so screens can be tested by feeding actions.

use super::keymap::{Command, Keymap};
use cars::analyze::{Analysis, Analyzer, Finding, Matcher, Options};
use cars::rules::model::{Category, Level};
use cars::watch::jobs::Job;
use cars::watch::runner::RunEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What happened, from the loop's point of view.
#[derive(Debug)]
pub enum Action {
    Key(KeyEvent),
    Run {
        project: usize,
        event: RunEvent,
    },
    Changed {
        project: usize,
        jobs: Vec<usize>,
    },
    /// Time passed: refresh live findings and the elapsed clock.
    Tick,
    /// A finished run was recorded as a store session; `flaky` are the known flaky
    /// tests among its findings (by fingerprint).
    Recorded {
        project: usize,
        job: usize,
        /// The run it records: a newer run of the job ignores it.
        run: u64,
        session: i64,
        flaky: Vec<(String, cars::analyze::FlakyMark)>,
    },
    /// Patches proposed for a finding, or why none.
    Proposed {
        project: usize,
        job: usize,
        finding: String,
        result: Result<Vec<PatchView>, String>,
    },
    /// An engine action finished (apply, reject, undo): a line for the status bar.
    Done {
        message: String,
        rerun: Option<(usize, usize)>,
    },
    Resize,
}

/// What the loop must do.
#[derive(Debug, PartialEq)]
pub enum Effect {
    Start {
        project: usize,
        job: usize,
    },
    Record {
        project: usize,
        job: usize,
        run: u64,
        /// The job's command exited 0.
        success: bool,
        analysis: Box<AnalysisBox>,
    },
    Propose {
        project: usize,
        job: usize,
        session: i64,
        finding: String,
    },
    Approve {
        project: usize,
        job: usize,
        session: i64,
        patch: String,
        /// The user confirmed a patch below the approval gate with a second key.
        force: bool,
    },
    Reject {
        project: usize,
        session: i64,
        patch: String,
    },
    Undo {
        project: usize,
        job: usize,
    },
    /// `cars heal` on the job's command: rounds of run, propose, auto-apply.
    Heal {
        project: usize,
        job: usize,
    },
    Quit,
}

/// An analysis to record (boxed: it is large, and `Effect` derives PartialEq for tests).
#[derive(Debug)]
pub struct AnalysisBox(pub Analysis);

impl PartialEq for AnalysisBox {
    fn eq(&self, other: &Self) -> bool {
        self.0.findings.len() == other.0.findings.len() && self.0.lines == other.0.lines
    }
}

/// A proposed patch as the screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchView {
    pub id: String,
    pub confidence: f64,
    pub gate: String,
    /// The engine's gate for a person's approval.
    pub gate_kind: cars::repair::Gate,
    /// `log (rustc)`, `built-in template ...`.
    pub source: String,
    pub rationale: String,
    /// How the confidence was arrived at (`cars explain`'s line).
    pub calibration: String,
    pub diff: String,
}

impl PatchView {
    pub fn of(p: &cars::store::StoredPatch, gates: &cars::repair::Gates) -> PatchView {
        PatchView {
            id: p.id.clone(),
            confidence: p.patch.confidence,
            gate: cars::report::repair::gate_text(gates.gate(&p.patch)).into(),
            gate_kind: gates.gate(&p.patch),
            source: p.patch.provenance.describe(),
            rationale: p.patch.rationale.clone(),
            calibration: cars::report::detail::calibration_text(p),
            diff: p.patch.redacted_diff(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Idle,
    Running,
    Passed,
    Failed(Option<i32>),
    CannotStart(String),
}

pub struct JobState<'m> {
    pub job: Job,
    pub status: Status,
    pub run: u64,
    pub started: Option<Instant>,
    pub elapsed: Option<Duration>,
    /// The raw tail of the job's output, at most `output_cap` lines.
    pub output: VecDeque<String>,
    pub lines: u64,
    pub findings: Vec<Finding>,
    /// The store session of the last finished run.
    pub session: Option<i64>,
    /// Patches proposed per finding id, or why there is none.
    pub patches: BTreeMap<String, Result<Vec<PatchView>, String>>,
    /// A finding whose patches were asked for while the finished run was still being
    /// recorded: proposed as soon as its session exists.
    pending_propose: Option<String>,
    analyzer: Option<Analyzer<'m, 'm>>,
    dirty: bool,
}

pub struct ProjectState<'m> {
    pub name: String,
    pub jobs: Vec<JobState<'m>>,
    pub current: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Findings,
    Detail,
    Output,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Search(String),
    Help,
    /// `a` on a patch below the approval gate: `A` applies it anyway.
    ConfirmForce {
        session: i64,
        patch: String,
    },
}

pub struct App<'m> {
    matcher: &'m Matcher<'m>,
    opts: &'m Options,
    pub projects: Vec<ProjectState<'m>>,
    pub current: usize,
    pub focus: Pane,
    pub selected: usize,
    pub filter: Option<Category>,
    pub search: String,
    pub mode: Mode,
    /// Lines scrolled in the detail pane.
    pub detail_scroll: u16,
    pub paused: bool,
    pub color: bool,
    pub output_cap: usize,
    /// A message for the status bar.
    pub status: String,
    /// Shown in the header: what an untrusted project configuration did not get.
    pub notice: Option<String>,
    /// An engine action in flight (validation runs the job): file changes wait.
    pub busy: Option<String>,
    /// Clock of the app, so tests can freeze it.
    pub now: fn() -> Instant,
    /// The jobs replay a log (`cars watch --log`, `cars session --tui`): the command
    /// only prints the file, so its exit code says nothing about the build.
    pub replay: bool,
}

/// The categories `f` cycles through.
const FILTERS: &[Category] = &[
    Category::Build,
    Category::Syntax,
    Category::Type,
    Category::Lint,
    Category::Test,
    Category::Dependency,
    Category::Config,
];

impl<'m> App<'m> {
    pub fn new(
        matcher: &'m Matcher<'m>,
        opts: &'m Options,
        projects: Vec<(String, PathBuf, Vec<Job>)>,
        output_cap: usize,
        color: bool,
    ) -> App<'m> {
        let projects = projects
            .into_iter()
            .map(|(name, _root, jobs)| ProjectState {
                name,
                current: 0,
                jobs: jobs
                    .into_iter()
                    .map(|job| JobState {
                        job,
                        status: Status::Idle,
                        run: 0,
                        started: None,
                        elapsed: None,
                        output: VecDeque::new(),
                        lines: 0,
                        findings: Vec::new(),
                        session: None,
                        patches: BTreeMap::new(),
                        pending_propose: None,
                        analyzer: None,
                        dirty: false,
                    })
                    .collect(),
            })
            .collect();
        App {
            matcher,
            opts,
            projects,
            current: 0,
            focus: Pane::Findings,
            selected: 0,
            filter: None,
            search: String::new(),
            mode: Mode::Normal,
            detail_scroll: 0,
            paused: false,
            color,
            output_cap: output_cap.max(10),
            status: "? shows the keys".into(),
            notice: None,
            busy: None,
            now: Instant::now,
            replay: false,
        }
    }

    pub fn project(&self) -> &ProjectState<'m> {
        &self.projects[self.current]
    }

    pub fn job(&self) -> &JobState<'m> {
        let p = self.project();
        &p.jobs[p.current]
    }

    fn job_mut(&mut self, project: usize, job: usize) -> Option<&mut JobState<'m>> {
        self.projects.get_mut(project)?.jobs.get_mut(job)
    }

    /// The findings of the current job after the category filter and search.
    pub fn visible(&self) -> Vec<&Finding> {
        let search = self.search.to_ascii_lowercase();
        self.job()
            .findings
            .iter()
            .filter(|f| self.filter.is_none_or(|c| f.category == c))
            .filter(|f| {
                search.is_empty()
                    || f.message.to_ascii_lowercase().contains(&search)
                    || f.location
                        .as_ref()
                        .is_some_and(|l| l.file.to_ascii_lowercase().contains(&search))
            })
            .collect()
    }

    pub fn selected_finding(&self) -> Option<&Finding> {
        self.visible().get(self.selected).copied()
    }

    /// Counts of the current job's findings: (errors, warnings).
    pub fn counts(&self) -> (usize, usize) {
        let f = &self.job().findings;
        let errors = f.iter().filter(|f| f.level == Level::Error).count();
        (errors, f.len() - errors)
    }

    /// Starts every job of every project (the first run).
    pub fn start_all(&self) -> Vec<Effect> {
        self.projects
            .iter()
            .enumerate()
            .flat_map(|(p, proj)| {
                (0..proj.jobs.len()).map(move |j| Effect::Start { project: p, job: j })
            })
            .collect()
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.key(key),
            Action::Run { project, event } => self.run_event(project, event),
            Action::Changed { project, jobs } => {
                if self.paused || self.busy.is_some() {
                    return Vec::new();
                }
                jobs.into_iter()
                    .map(|job| Effect::Start { project, job })
                    .collect()
            }
            Action::Tick => {
                let now = (self.now)();
                for p in &mut self.projects {
                    for j in &mut p.jobs {
                        if let (Status::Running, Some(s)) = (&j.status, j.started) {
                            j.elapsed = Some(now.duration_since(s));
                        }
                        if j.dirty {
                            if let Some(a) = &j.analyzer {
                                let mut findings = a.snapshot();
                                cars::analyze::prefer(&mut findings, &j.job.hints);
                                j.findings = findings;
                            }
                            j.dirty = false;
                        }
                    }
                }
                self.clamp();
                Vec::new()
            }
            Action::Recorded {
                project,
                job,
                run,
                session,
                flaky,
            } => {
                let mut effects = Vec::new();
                if let Some(j) = self.job_mut(project, job).filter(|j| j.run == run) {
                    j.session = Some(session);
                    if let Some(finding) = j.pending_propose.take() {
                        effects.push(Effect::Propose {
                            project,
                            job,
                            session,
                            finding,
                        });
                    }
                    // Marked where they are: the list does not move under the cursor.
                    for f in &mut j.findings {
                        if f.flaky.is_some() {
                            continue;
                        }
                        if let Some((_, mark)) = flaky.iter().find(|(fp, _)| *fp == f.fingerprint) {
                            cars::session::apply_flaky_mark(f, mark.clone());
                        }
                    }
                }
                effects
            }
            Action::Proposed {
                project,
                job,
                finding,
                result,
            } => {
                self.status = match &result {
                    Ok(p) if !p.is_empty() => format!(
                        "{finding}: {} proposed ({}); a applies the first",
                        p.iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        p[0].gate
                    ),
                    Ok(_) => format!("{finding}: no patch"),
                    Err(why) => format!("{finding}: no patch: {why}"),
                };
                if let Some(j) = self.job_mut(project, job) {
                    j.patches.insert(finding, result);
                }
                self.detail_scroll = 0;
                Vec::new()
            }
            Action::Done { message, rerun } => {
                self.status = message;
                self.busy = None;
                match rerun {
                    Some((project, job)) => vec![Effect::Start { project, job }],
                    None => Vec::new(),
                }
            }
            Action::Resize => Vec::new(),
        }
    }

    fn run_event(&mut self, project: usize, event: RunEvent) -> Vec<Effect> {
        let now = (self.now)();
        let (matcher, opts, cap) = (self.matcher, self.opts, self.output_cap);
        let replay = self.replay;
        let mut effects = Vec::new();
        match event {
            RunEvent::Started { job, run } => {
                if let Some(j) = self.job_mut(project, job) {
                    j.run = run;
                    j.status = Status::Running;
                    j.started = Some(now);
                    j.elapsed = Some(Duration::ZERO);
                    j.output.clear();
                    j.lines = 0;
                    j.patches.clear();
                    // The last run's session no longer describes what is shown.
                    j.session = None;
                    j.pending_propose = None;
                    j.analyzer = Some(Analyzer::new(matcher, opts, j.job.name.clone()));
                }
            }
            RunEvent::Line { job, run, text, .. } => {
                if let Some(j) = self.job_mut(project, job).filter(|j| j.run == run) {
                    j.lines += 1;
                    if let Some(a) = &mut j.analyzer {
                        let mut line = text.clone();
                        line.push('\n');
                        a.feed(line.as_bytes());
                        j.dirty = true;
                    }
                    if j.output.len() >= cap {
                        j.output.pop_front();
                    }
                    j.output.push_back(text);
                }
            }
            RunEvent::Finished {
                job,
                run,
                success,
                code,
                elapsed,
            } => {
                if let Some(j) = self.job_mut(project, job).filter(|j| j.run == run) {
                    j.status = if success {
                        Status::Passed
                    } else {
                        Status::Failed(code)
                    };
                    j.elapsed = Some(elapsed);
                    j.dirty = false;
                    if let Some(a) = j.analyzer.take() {
                        let analysis = match success {
                            true => a.finish().after_success(),
                            false => a.finish(),
                        };
                        // The recorded session has the order shown here.
                        let analysis = analysis.prefer(&j.job.hints);
                        j.findings = analysis.findings.clone();
                        // A replayed log failed when it holds errors, whatever `cat`
                        // returned; a log that cannot be read stays failed.
                        if replay && success && j.findings.iter().any(|f| f.level == Level::Error) {
                            j.status = Status::Failed(None);
                        }
                        effects.push(Effect::Record {
                            project,
                            job,
                            run,
                            success,
                            analysis: Box::new(AnalysisBox(analysis)),
                        });
                    }
                }
            }
            RunEvent::FailedToStart { job, run, error } => {
                if let Some(j) = self.job_mut(project, job).filter(|j| j.run == run) {
                    j.status = Status::CannotStart(error);
                    j.analyzer = None;
                }
            }
        }
        self.clamp();
        effects
    }

    fn clamp(&mut self) {
        let n = self.visible().len();
        if self.selected >= n {
            self.selected = n.saturating_sub(1);
        }
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return vec![Effect::Quit];
        }
        match self.mode.clone() {
            Mode::Help => {
                self.mode = Mode::Normal;
                return Vec::new();
            }
            Mode::Search(mut text) => {
                match key.code {
                    KeyCode::Enter => {
                        self.search = text;
                        self.mode = Mode::Normal;
                        self.selected = 0;
                        self.status = if self.search.is_empty() {
                            "search cleared".into()
                        } else {
                            format!("showing findings matching `{}`", self.search)
                        };
                    }
                    KeyCode::Esc => self.mode = Mode::Normal,
                    KeyCode::Backspace => {
                        text.pop();
                        self.mode = Mode::Search(text);
                    }
                    KeyCode::Char(c) => {
                        text.push(c);
                        self.mode = Mode::Search(text);
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Mode::ConfirmForce { session, patch } => {
                self.mode = Mode::Normal;
                if key.code != KeyCode::Char('A') {
                    self.status = format!("{patch}: not applied");
                    return Vec::new();
                }
                let (project, job) = (self.current, self.project().current);
                return self.approve(project, job, session, patch, true);
            }
            Mode::Normal => {}
        }
        let (project, job) = (self.current, self.project().current);
        let Some(command) = Keymap::builtin().command(key.code) else {
            return Vec::new();
        };
        match command {
            Command::Quit => return vec![Effect::Quit],
            Command::Help => self.mode = Mode::Help,
            Command::Down if self.focus == Pane::Detail => {
                self.detail_scroll = self.detail_scroll.saturating_add(1)
            }
            Command::Up if self.focus == Pane::Detail => {
                self.detail_scroll = self.detail_scroll.saturating_sub(1)
            }
            Command::Down => {
                let n = self.visible().len();
                if n > 0 {
                    self.selected = (self.selected + 1).min(n - 1);
                }
                self.detail_scroll = 0;
            }
            Command::Up => {
                self.selected = self.selected.saturating_sub(1);
                self.detail_scroll = 0;
            }
            Command::First => self.selected = 0,
            Command::Last => self.selected = self.visible().len().saturating_sub(1),
            Command::Open => self.focus = Pane::Detail,
            Command::Back => {
                self.focus = Pane::Findings;
                if self.filter.is_some() || !self.search.is_empty() {
                    self.status = "showing all findings".into();
                }
                self.search.clear();
                self.filter = None;
                self.selected = 0;
            }
            Command::NextPane => {
                self.focus = match self.focus {
                    Pane::Findings => Pane::Detail,
                    Pane::Detail => Pane::Output,
                    Pane::Output => Pane::Findings,
                }
            }
            Command::Filter => {
                self.filter = match self.filter {
                    None => Some(FILTERS[0]),
                    Some(c) => FILTERS
                        .iter()
                        .position(|x| *x == c)
                        .and_then(|i| FILTERS.get(i + 1))
                        .copied(),
                };
                self.selected = 0;
                self.status = match self.filter {
                    Some(c) => format!("showing {c} findings (f: next category)"),
                    None => "showing all findings".into(),
                };
            }
            Command::Search => self.mode = Mode::Search(String::new()),
            Command::Pause => {
                self.paused = !self.paused;
                self.status = if self.paused {
                    "watching paused: file changes do not re-run jobs (space resumes)".into()
                } else {
                    "watching resumed".into()
                };
            }
            Command::Rerun => return vec![Effect::Start { project, job }],
            Command::Job(i) if i < self.project().jobs.len() => {
                self.projects[project].current = i;
                self.selected = 0;
            }
            Command::NextProject => {
                self.current = (self.current + 1) % self.projects.len();
                self.selected = 0;
            }
            Command::PreviousProject => {
                self.current = (self.current + self.projects.len() - 1) % self.projects.len();
                self.selected = 0;
            }
            Command::Propose => return self.propose_selected(project, job),
            Command::Approve => {
                if self.busy.is_some() {
                    self.status = "wait: an apply is still validating".into();
                    return Vec::new();
                }
                match self.first_patch() {
                    Some((_, patch, cars::repair::Gate::ReportOnly, _)) => {
                        self.status =
                            format!("{patch} is below the report-only gate; cars does not apply it")
                    }
                    Some((session, patch, cars::repair::Gate::Force, confidence)) => {
                        self.status = format!(
                            "{patch} has confidence {confidence:.2}, below the approval gate: press A (shift-a) to apply it anyway, any other key cancels"
                        );
                        self.mode = Mode::ConfirmForce { session, patch };
                    }
                    Some((session, patch, _, _)) => {
                        return self.approve(project, job, session, patch, false)
                    }
                    None => self.status = "no patch for this finding yet: press p".into(),
                }
            }
            Command::Reject => match self.first_patch() {
                Some((session, patch, _, _)) => {
                    return vec![Effect::Reject {
                        project,
                        session,
                        patch,
                    }]
                }
                None => self.status = "no patch to reject".into(),
            },
            Command::Heal if self.busy.is_none() => {
                // Heal runs the job's command itself, round after round; the job
                // re-runs when it is done.
                self.busy = Some(format!(
                    "healing {}: run, fix, validate...",
                    self.job().job.name
                ));
                self.status = self.busy.clone().unwrap_or_default();
                return vec![Effect::Heal { project, job }];
            }
            Command::Undo if self.busy.is_none() => {
                // Undo re-runs the job when it is done: file changes wait meanwhile.
                self.busy = Some("undoing the last applied patch".into());
                return vec![Effect::Undo { project, job }];
            }
            _ => {}
        }
        Vec::new()
    }

    /// Proposes patches for the selected finding of the current job.
    fn propose_selected(&mut self, project: usize, job: usize) -> Vec<Effect> {
        let Some(finding) = self.selected_finding().map(|f| f.id.clone()) else {
            self.status = "no finding selected".into();
            return Vec::new();
        };
        let Some(state) = self.job_mut(project, job) else {
            return Vec::new();
        };
        match state.session {
            Some(session) if state.status != Status::Running => vec![Effect::Propose {
                project,
                job,
                session,
                finding,
            }],
            // Finished but not yet in the store: asked again once it is.
            None if !matches!(state.status, Status::Running | Status::Idle) => {
                state.pending_propose = Some(finding);
                self.status = "storing the run; proposing as soon as it is stored".into();
                Vec::new()
            }
            _ => {
                self.status = "wait for the run to finish".into();
                Vec::new()
            }
        }
    }

    /// The session and first proposed patch of the selected finding.
    fn first_patch(&self) -> Option<(i64, String, cars::repair::Gate, f64)> {
        let f = self.selected_finding()?;
        let job = self.job();
        let first = job.patches.get(&f.id)?.as_ref().ok()?.first()?;
        Some((
            job.session?,
            first.id.clone(),
            first.gate_kind,
            first.confidence,
        ))
    }

    fn approve(
        &mut self,
        project: usize,
        job: usize,
        session: i64,
        patch: String,
        force: bool,
    ) -> Vec<Effect> {
        self.busy = Some(format!(
            "applying {patch}, re-running {}",
            self.job().job.name
        ));
        self.status = self.busy.clone().unwrap_or_default();
        vec![Effect::Approve {
            project,
            job,
            session,
            patch,
            force,
        }]
    }
}
