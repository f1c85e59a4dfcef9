//! `GET /`: a small server-rendered status page (no script) for a person glancing at
//! the service: orchestrators, then per project its health, recent failures and
//! repairs, and its flaky tests. Everything shown is escaped: it comes from logs.

use super::orchestrator::Status;
use cars::store::{self, flaky::Flaky, overview::Failure, overview::Repair};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the page shows of one project.
pub struct ProjectView {
    pub root: String,
    pub failures: Vec<Failure>,
    pub repairs: Vec<Repair>,
    pub flaky: Vec<Flaky>,
    /// Whether the newest recorded run passed (`None`: nothing recorded, or a log).
    pub last_passed: Option<bool>,
    pub error: Option<String>,
}

/// Reads what the page shows from each project's store.
pub fn gather(projects: &[PathBuf], store_dir: Option<&Path>) -> Vec<ProjectView> {
    projects
        .iter()
        .map(|root| {
            let mut view = ProjectView {
                root: root.display().to_string(),
                failures: Vec::new(),
                repairs: Vec::new(),
                flaky: Vec::new(),
                last_passed: None,
                error: None,
            };
            let opened = store::Store::open(&store::locate(root, store_dir));
            match opened {
                Ok(s) => {
                    view.failures = s.recent_failures(10).unwrap_or_default();
                    view.repairs = s.recent_repairs(10).unwrap_or_default();
                    view.flaky = s.flaky().unwrap_or_default();
                    view.last_passed = s
                        .latest_session()
                        .and_then(|id| s.session(id))
                        .ok()
                        .and_then(|row| row.passed);
                }
                Err(e) => view.error = Some(e.to_string()),
            }
            view
        })
        .collect()
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn when(ms: i64) -> String {
    let secs = (store::now_ms() - ms).max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s ago"),
        s if s < 3600 => format!("{}m ago", s / 60),
        s if s < 86400 => format!("{}h ago", s / 3600),
        s => format!("{}d ago", s / 86400),
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#1b1f24;background:#fafbfc}\
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em}h3{font-size:1.05em}\
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left}\
th{background:#eaeef2}.ok{color:#116329;font-weight:bold}.bad{color:#b42318;font-weight:bold}\
.muted{color:#57606a}code{font-size:.9em}";

pub fn render(version: &str, orchestrators: &[Status], projects: &[ProjectView]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"30\"><title>cars serve</title><style>{STYLE}</style></head><body>\
<h1>cars serve <span class=\"muted\">{}</span></h1>",
        escape(version)
    );
    h.push_str("<h2>Orchestrators</h2>");
    if orchestrators.is_empty() {
        h.push_str("<p class=\"muted\">None running. <code>POST /api/automation/start</code> starts one.</p>");
    } else {
        h.push_str("<table><tr><th>id</th><th>project</th><th>state</th><th>jobs</th><th>repairs</th><th>waiting for approval</th></tr>");
        for o in orchestrators {
            let jobs: Vec<String> = o
                .jobs
                .iter()
                .map(|j| {
                    let (class, word) = match (j.held, j.passed) {
                        (true, _) => ("muted", "held"),
                        (_, Some(true)) => ("ok", "passes"),
                        (_, Some(false)) => ("bad", "fails"),
                        (_, None) => ("muted", "not run yet"),
                    };
                    format!("{} <span class=\"{class}\">{word}</span>", escape(&j.name))
                })
                .collect();
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{} running, {} done</td><td>{}</td></tr>",
                escape(&o.orchestrator_id),
                escape(&o.project_path),
                escape(&o.state),
                jobs.join("<br>"),
                o.repairs_running,
                o.repairs_done,
                o.pending_approvals.len()
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Projects</h2>");
    if projects.is_empty() {
        h.push_str("<p class=\"muted\">No project monitored or healed yet.</p>");
    }
    for p in projects {
        let health = match (&p.error, p.last_passed) {
            (Some(e), _) => format!("<span class=\"bad\">store unreadable: {}</span>", escape(e)),
            (None, Some(true)) => "<span class=\"ok\">healthy: the last run passed</span>".into(),
            (None, Some(false)) => "<span class=\"bad\">failing: the last run failed</span>".into(),
            (None, None) => "<span class=\"muted\">no run recorded</span>".into(),
        };
        let _ = write!(h, "<h3>{}</h3><p>{health}</p>", escape(&p.root));
        if !p.failures.is_empty() {
            h.push_str("<table><tr><th>session</th><th>when</th><th>command</th><th>errors</th><th>most likely cause</th></tr>");
            for f in &p.failures {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    f.session,
                    when(f.at),
                    escape(f.command.as_deref().unwrap_or("(a log)")),
                    f.errors,
                    escape(f.message.as_deref().unwrap_or(""))
                );
            }
            h.push_str("</table>");
        }
        if !p.repairs.is_empty() {
            h.push_str("<table><tr><th>patch</th><th>when</th><th>rule</th><th>state</th><th>validation</th></tr>");
            for r in &p.repairs {
                let validation = match r.validation_ok {
                    Some(true) => "<span class=\"ok\">passed</span>",
                    Some(false) => "<span class=\"bad\">failed</span>",
                    None => "<span class=\"muted\">none</span>",
                };
                let _ = write!(
                    h,
                    "<tr><td>{} of session {}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{validation}</td></tr>",
                    escape(&r.patch),
                    r.session,
                    when(r.started_at),
                    escape(&r.rule),
                    escape(&r.state)
                );
            }
            h.push_str("</table>");
        }
        if !p.flaky.is_empty() {
            h.push_str("<table><tr><th>flaky test</th><th>command</th><th>failed</th></tr>");
            for f in &p.flaky {
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{} of {} runs</td></tr>",
                    escape(&f.test),
                    escape(&f.command),
                    f.failures,
                    f.runs
                );
            }
            h.push_str("</table>");
        }
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_on_the_page_is_escaped() {
        let view = ProjectView {
            root: "/srv/<app>".into(),
            failures: vec![Failure {
                session: 1,
                at: store::now_ms(),
                command: Some("make".into()),
                errors: 1,
                rule: None,
                message: Some("<script>alert(1)</script>".into()),
            }],
            repairs: Vec::new(),
            flaky: Vec::new(),
            last_passed: Some(false),
            error: None,
        };
        let html = render("0.1.0", &[], &[view]);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("/srv/&lt;app&gt;"));
    }
}
