//! CI normalisation: strips the prefixes CI systems put on every line (GitHub Actions
//! timestamps, `gh run view --log` job/step columns) and recognises the markers that
//! open a step (GitHub Actions groups, GitLab sections, Jenkins stages, Travis folds
//! and commands, Azure sections).

/// Literals that may open a step; the analyzer's prefilter must look for them.
pub const MARKER_LITERALS: &[&str] = &[
    "##[group]Run ",
    "section_start:",
    "[Pipeline] { (",
    "travis_fold:start:",
    "$ ",
    "##[section]Starting: ",
];

/// What a line tells about the CI structure around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEvent {
    /// A new step (stage, section, fold, command) starts with this name.
    Start(String),
}

/// A cleaned line with CI decorations removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiLine {
    pub text: String,
    pub step: Option<StepEvent>,
    /// The step name carried on the line itself (`gh run view --log` output).
    pub inline_step: Option<String>,
    /// The `##[error]` or `##[warning]` prefix the line carried, if any.
    pub annotation: Option<&'static str>,
}

/// Looks at the raw bytes of a line for markers that carry their payload before a
/// `\r` (GitLab sections, Travis folds), which line cleaning would otherwise hide.
pub fn raw_step_event(raw: &[u8]) -> Option<StepEvent> {
    use memchr::memmem::Finder;
    use std::sync::OnceLock;
    static FINDERS: OnceLock<[Finder<'static>; 2]> = OnceLock::new();
    let [section, fold] = FINDERS.get_or_init(|| {
        [
            Finder::new(b"section_start:"),
            Finder::new(b"travis_fold:start:"),
        ]
    });
    let head = &raw[..raw.len().min(512)];
    if section.find(head).is_none() && fold.find(head).is_none() {
        return None;
    }
    let text = String::from_utf8_lossy(head);
    let text = text.as_ref();
    // Markers may sit after a timestamp or an ANSI reset, so search rather than anchor.
    if let Some(i) = text.find("section_start:") {
        // section_start:<unix time>:<name>[options]\r\e[0K<title>
        let rest = &text[i + "section_start:".len()..];
        let name = rest.split_once(':')?.1;
        let name: String = name
            .chars()
            .take_while(|c| !matches!(c, '\r' | '\n' | '[' | '\u{1b}'))
            .collect();
        return (!name.is_empty()).then_some(StepEvent::Start(name));
    }
    if let Some(i) = text.find("travis_fold:start:") {
        let rest = &text[i + "travis_fold:start:".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| !matches!(c, '\r' | '\n' | '\u{1b}'))
            .collect();
        return (!name.is_empty()).then_some(StepEvent::Start(name));
    }
    None
}

/// Removes CI decorations from a cleaned line and reports any step marker on it.
pub fn normalise(text: String) -> CiLine {
    let mut inline_step = None;
    let mut body: &str = &text;
    // `gh run view --log`: "<job>\t<step>\t<timestamp> <text>"
    if let Some((job, rest)) = body.split_once('\t') {
        if let Some((step, rest)) = rest.split_once('\t') {
            if !job.is_empty() && !step.is_empty() && timestamp_len(rest) > 0 {
                inline_step = Some(step.to_string());
                body = rest;
            }
        }
    }
    let ts = timestamp_len(body);
    body = &body[ts..];
    let mut annotation = None;
    let mut step = None;
    if let Some(rest) = body.strip_prefix("##[group]Run ") {
        step = Some(StepEvent::Start(format!("Run {}", rest.trim())));
    } else if let Some(rest) = body.strip_prefix("##[section]Starting: ") {
        step = Some(StepEvent::Start(rest.trim().to_string()));
    } else if let Some(rest) = body.strip_prefix("[Pipeline] { (") {
        step = Some(StepEvent::Start(rest.trim_end_matches(')').to_string()));
    } else if let Some(cmd) = body.strip_prefix("$ ") {
        if !cmd.trim().is_empty() {
            step = Some(StepEvent::Start(cmd.trim().to_string()));
        }
    } else {
        annotation = ["##[error]", "##[warning]"]
            .into_iter()
            .find(|p| body.starts_with(p));
    }
    let body = match annotation {
        Some(prefix) => &body[prefix.len()..],
        None => body,
    };
    let text = if body.len() == text.len() {
        text
    } else {
        body.to_string()
    };
    CiLine {
        text,
        step,
        inline_step,
        annotation,
    }
}

/// Length of a leading ISO-8601 timestamp (`2024-01-02T03:04:05.678Z `, optionally in
/// brackets as Jenkins' timestamper writes it), or 0.
pub fn timestamp_len(s: &str) -> usize {
    let b = s.as_bytes();
    let start = usize::from(b.first() == Some(&b'['));
    let digits = |range: std::ops::Range<usize>| {
        range
            .clone()
            .all(|i| b.get(start + i).is_some_and(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| b.get(start + i) == Some(&c);
    if !(digits(0..4) && at(4, b'-') && digits(5..7) && at(7, b'-') && digits(8..10)) {
        return 0;
    }
    if !(at(10, b'T') || at(10, b' ')) || !(digits(11..13) && at(13, b':') && digits(14..16)) {
        return 0;
    }
    let mut i = start + 16;
    while i < b.len() && (b[i].is_ascii_digit() || matches!(b[i], b':' | b'.' | b',' | b'Z' | b'+'))
    {
        i += 1;
    }
    if start == 1 {
        if b.get(i) != Some(&b']') {
            return 0;
        }
        i += 1;
    }
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_actions_timestamps_and_groups() {
        let l = normalise("2024-03-01T10:11:12.3456789Z ##[group]Run cargo build".into());
        assert_eq!(l.step, Some(StepEvent::Start("Run cargo build".into())));
        let l = normalise("2024-03-01T10:11:12.3456789Z error: boom".into());
        assert_eq!(l.text, "error: boom");
        let l = normalise(
            "2024-03-01T10:11:12.3456789Z ##[error]Process completed with exit code 1.".into(),
        );
        assert_eq!(l.annotation, Some("##[error]"));
        let w = normalise("##[warning]Node.js 16 actions are deprecated.".into());
        assert_eq!(w.annotation, Some("##[warning]"));
        assert_eq!(w.text, "Node.js 16 actions are deprecated.");
        assert_eq!(l.text, "Process completed with exit code 1.");
    }

    #[test]
    fn gh_run_view_columns_carry_the_step() {
        let l =
            normalise("build\tRun cargo test\t2024-03-01T10:11:12.1Z test foo ... FAILED".into());
        assert_eq!(l.inline_step.as_deref(), Some("Run cargo test"));
        assert_eq!(l.text, "test foo ... FAILED");
    }

    #[test]
    fn gitlab_sections_and_travis_folds() {
        assert_eq!(
            raw_step_event(b"section_start:1560896352:build_script[collapsed=true]\r\x1b[0KBuild"),
            Some(StepEvent::Start("build_script".into()))
        );
        assert_eq!(
            raw_step_event(b"travis_fold:start:install.1\r\x1b[0K"),
            Some(StepEvent::Start("install.1".into()))
        );
        assert_eq!(raw_step_event(b"plain line"), None);
    }

    #[test]
    fn jenkins_stages_and_travis_commands() {
        assert_eq!(
            normalise("[Pipeline] { (Build)".into()).step,
            Some(StepEvent::Start("Build".into()))
        );
        assert_eq!(
            normalise("$ npm test".into()).step,
            Some(StepEvent::Start("npm test".into()))
        );
        assert_eq!(timestamp_len("[2024-01-02T03:04:05.678Z] x"), 27);
        assert_eq!(timestamp_len("not a time"), 0);
    }
}
