//! Drawing the watch screen: header, findings list, detail pane, output pane and
//! footer, plus the `?` help overlay. Plain functions over `&App`; colours are
//! dropped entirely when the app has colour off (NO_COLOR).

use super::app::{App, Mode, Pane, Status};
use cars::analyze::Finding;
use cars::rules::model::{Category, Level};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

/// NO_COLOR drops colours, not emphasis: bold and reverse video stay.
fn style(app: &App, s: Style) -> Style {
    if app.color {
        s
    } else {
        Style {
            fg: None,
            bg: None,
            underline_color: None,
            ..s
        }
    }
}

fn category_color(c: Category) -> Color {
    match c {
        Category::Build | Category::Syntax => Color::Red,
        Category::Type => Color::Magenta,
        Category::Lint => Color::Yellow,
        Category::Test => Color::LightRed,
        Category::Dependency | Category::Config => Color::Cyan,
        Category::Timeout | Category::Resource => Color::LightYellow,
        Category::Permission | Category::Security => Color::LightMagenta,
        _ => Color::Gray,
    }
}

/// Columns between tab stops, as a terminal sets them by default.
pub const TAB: usize = 8;

/// Text from a log or a file with its tabs expanded to the next multiple of `TAB`
/// columns: a raw tab is one cell to ratatui but moves a real terminal's cursor, so
/// the rest of the row lands over the pane's border.
pub fn expand_tabs(text: &str) -> String {
    if !text.contains('\t') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + TAB);
    let mut column = 0;
    for c in text.chars() {
        if c == '\t' {
            let n = TAB - column % TAB;
            out.extend(std::iter::repeat_n(' ', n));
            column += n;
        } else {
            out.push(c);
            column += 1;
        }
    }
    out
}

/// Five cells filled in proportion to the confidence.
fn bar(confidence: f64) -> String {
    let filled = (confidence * 5.0).round().clamp(0.0, 5.0) as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(5 - filled))
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let output_height = if area.height >= 30 { 10 } else { 6 };
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(6),
            Constraint::Length(output_height),
            Constraint::Length(1),
        ])
        .split(area);
    draw_header(frame, rows[0], app);
    let body = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
        .split(rows[1]);
    draw_findings(frame, body[0], app);
    draw_detail(frame, body[1], app);
    draw_output(frame, rows[2], app);
    draw_footer(frame, rows[3], app);
    if app.mode == Mode::Help {
        draw_help(frame, area, app);
    }
}

fn status_text(s: &Status) -> (&'static str, Color) {
    match s {
        Status::Idle => ("idle", Color::Gray),
        Status::Running => ("running", Color::Yellow),
        Status::Passed => ("passed", Color::Green),
        Status::Failed(_) => ("failed", Color::Red),
        Status::CannotStart(_) => ("cannot start", Color::Red),
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let p = app.project();
    let mut spans = vec![Span::styled(
        format!(" {} ", p.name),
        style(
            app,
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ),
    )];
    for (i, j) in p.jobs.iter().enumerate() {
        let (_, color) = status_text(&j.status);
        let mark = match j.status {
            Status::Passed => "✓",
            Status::Failed(_) | Status::CannotStart(_) => "✗",
            Status::Running => "…",
            Status::Idle => " ",
        };
        let mut s = Style::default().fg(color);
        if i == p.current {
            s = s.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        }
        spans.push(Span::styled(
            format!(" {}:{}{mark}", i + 1, j.job.name),
            style(app, s),
        ));
    }
    let job = app.job();
    let (label, color) = status_text(&job.status);
    let elapsed = job
        .elapsed
        .map(|d| format!(" {:.1}s", d.as_secs_f64()))
        .unwrap_or_default();
    let (errors, warnings) = app.counts();
    spans.push(Span::raw(" │ "));
    spans.push(Span::styled(
        format!("{label}{elapsed}"),
        style(app, Style::default().fg(color)),
    ));
    spans.push(Span::raw(" │ "));
    spans.push(Span::styled(
        format!("{errors} errors"),
        style(app, Style::default().fg(Color::Red)),
    ));
    spans.push(Span::raw(format!(" {warnings} warnings")));
    if app.paused {
        spans.push(Span::styled(
            " │ PAUSED",
            style(app, Style::default().fg(Color::Yellow)),
        ));
    }
    if let Some(n) = &app.notice {
        spans.push(Span::styled(
            format!(" │ {n}"),
            style(app, Style::default().fg(Color::Yellow)),
        ));
    }
    if app.projects.len() > 1 {
        spans.push(Span::raw(format!(
            " │ project {}/{}",
            app.current + 1,
            app.projects.len()
        )));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn pane_block<'a>(app: &App, title: String, pane: Pane) -> Block<'a> {
    let focused = app.focus == pane;
    Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(style(
            app,
            if focused {
                Style::default().fg(Color::Cyan)
            } else {
                Style::default().fg(Color::DarkGray)
            },
        ))
}

fn draw_findings(frame: &mut Frame, area: Rect, app: &App) {
    let visible = app.visible();
    let mut title = format!("findings {}", visible.len());
    if let Some(c) = app.filter {
        title.push_str(&format!(" [{c}]"));
    }
    if !app.search.is_empty() {
        title.push_str(&format!(" /{}", app.search));
    }
    let block = pane_block(app, title, Pane::Findings);
    let job = app.job();
    if visible.is_empty() {
        let text = match &job.status {
            // The run has findings, the filter or search hides them all.
            _ if !job.findings.is_empty() => {
                let n = job.findings.len();
                let all = format!("{n} finding{}", if n == 1 { "" } else { "s" });
                match (app.filter, app.search.is_empty()) {
                    (Some(c), true) => format!(
                        "no finding has category {c} ({all} in all): f shows the next category, Esc clears the filter"
                    ),
                    (Some(c), false) => format!(
                        "no {c} finding matches /{} ({all} in all): Esc clears the filter and the search",
                        app.search
                    ),
                    (None, _) => format!(
                        "no finding matches /{} ({all} in all): Esc clears the search",
                        app.search
                    ),
                }
            }
            Status::CannotStart(why) => format!("`{}` cannot start:\n{why}", job.job.command),
            Status::Running => "running, no finding yet".into(),
            Status::Passed => "the job passed: nothing to fix".into(),
            Status::Idle => "waiting for the first run".into(),
            Status::Failed(code) => format!(
                "the job failed (exit {}) and no finding explains it: see the output",
                code.map(|c| c.to_string())
                    .unwrap_or_else(|| "signal".into())
            ),
        };
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(block),
            area,
        );
        return;
    }
    let items: Vec<ListItem> = visible
        .iter()
        .map(|f| {
            let level = if f.level == Level::Error { "E" } else { "W" };
            let loc = cars::report::location_text(f);
            let loc = loc.rsplit('/').next().unwrap_or(&loc).to_string();
            ListItem::new(Line::from(vec![
                Span::styled(
                    "▌",
                    style(app, Style::default().fg(category_color(f.category))),
                ),
                Span::raw(format!("{:<3} {level} ", f.id)),
                Span::styled(
                    bar(f.confidence),
                    style(app, Style::default().fg(Color::Blue)),
                ),
                Span::raw(format!(" {loc} ")),
                Span::raw(expand_tabs(&f.message)),
            ]))
        })
        .collect();
    let list = List::new(items)
        .block(block)
        .highlight_style(style(
            app,
            Style::default().add_modifier(Modifier::REVERSED),
        ))
        .highlight_symbol("›");
    let mut state = ListState::default();
    state.select(Some(app.selected));
    frame.render_stateful_widget(list, area, &mut state);
}

fn detail_lines<'a>(app: &App, f: &Finding) -> Vec<Line<'a>> {
    let mut lines = vec![
        Line::from(Span::styled(
            format!(
                "{} {} {} {:.2} [{}]",
                f.id, f.category, f.severity, f.confidence, f.rule
            ),
            style(app, Style::default().add_modifier(Modifier::BOLD)),
        )),
        Line::from(expand_tabs(&f.message)),
        Line::from(cars::report::location_text(f)),
    ];
    // The proposed diff comes first: it is what `a` applies.
    match app.job().patches.get(&f.id) {
        None => lines.push(Line::from("p: propose a patch")),
        Some(Err(why)) => lines.push(Line::from(format!("no patch: {why}"))),
        Some(Ok(patches)) => {
            for p in patches {
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(
                    format!(
                        "{} ({:.2}, {}, from {}): {}",
                        p.id, p.confidence, p.gate, p.source, p.rationale
                    ),
                    style(app, Style::default().add_modifier(Modifier::BOLD)),
                )));
                if !p.calibration.is_empty() {
                    lines.push(Line::from(p.calibration.clone()));
                }
                for d in p.diff.lines().filter(|d| !d.starts_with("diff --git")) {
                    let s = if d.starts_with("+++") || d.starts_with("---") {
                        Style::default().add_modifier(Modifier::BOLD)
                    } else if d.starts_with('+') {
                        Style::default().fg(Color::Green)
                    } else if d.starts_with('-') {
                        Style::default().fg(Color::Red)
                    } else if d.starts_with("@@") {
                        Style::default().fg(Color::Cyan)
                    } else {
                        Style::default()
                    };
                    // A blank context line is one space; ratatui's wrapper draws a
                    // whitespace-only line as two rows, so draw it as an empty line.
                    let d = expand_tabs(d);
                    let d = if d.trim().is_empty() {
                        String::new()
                    } else {
                        d
                    };
                    lines.push(Line::from(Span::styled(d, style(app, s))));
                }
            }
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(expand_tabs(&f.explanation)));
    lines.push(Line::from(""));
    for (i, l) in f.excerpt.iter().enumerate() {
        let s = if i == 0 {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Gray)
        };
        let l = expand_tabs(l);
        lines.push(Line::from(Span::styled(format!("│ {l}"), style(app, s))));
    }
    lines
}

fn draw_detail(frame: &mut Frame, area: Rect, app: &App) {
    let block = pane_block(app, "detail".into(), Pane::Detail);
    let lines = match app.selected_finding() {
        Some(f) => detail_lines(app, f),
        None => vec![Line::from("no finding selected")],
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0))
            .block(block),
        area,
    );
}

fn draw_output(frame: &mut Frame, area: Rect, app: &App) {
    let job = app.job();
    let block = pane_block(
        app,
        format!("output: {} ({} lines)", job.job.command, job.lines),
        Pane::Output,
    );
    let room = area.height.saturating_sub(2) as usize;
    let start = job.output.len().saturating_sub(room);
    let lines: Vec<Line> = job
        .output
        .iter()
        .skip(start)
        .map(|l| Line::from(expand_tabs(l)))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App) {
    let text = match &app.mode {
        Mode::Search(s) => format!("/{s}▏ (Enter applies, Esc cancels)"),
        _ => match &app.busy {
            Some(b) => format!("⏳ {b}"),
            None => app.status.clone(),
        },
    };
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            text,
            style(app, Style::default().fg(Color::Cyan)),
        ))),
        area,
    );
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App) {
    // Keys in a column, what they do wrapped beside them: fits 80 columns and wider.
    let width = 72.min(area.width);
    let keys = &super::keymap::Keymap::builtin().help;
    let key_width = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    // Inside the borders: one space, the key column, the text.
    let text_width = (width as usize).saturating_sub(2 + 1 + key_width).max(10);
    let mut lines: Vec<Line> = Vec::new();
    for (k, what) in keys {
        for (i, row) in wrap_words(what, text_width).into_iter().enumerate() {
            let key = if i == 0 { k.as_str() } else { "" };
            lines.push(Line::from(format!(" {key:<key_width$}{row}")));
        }
    }
    lines.push(Line::from(" any key closes this help"));
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys ")
                .border_style(style(app, Style::default().fg(Color::Cyan))),
        ),
        popup,
    );
}

/// `text` in rows of at most `width` characters, broken between words.
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut rows = vec![String::new()];
    for word in text.split_whitespace() {
        let row = rows.last_mut().expect("rows starts with one row");
        if row.is_empty() {
            row.push_str(word);
        } else if row.chars().count() + 1 + word.chars().count() <= width {
            row.push(' ');
            row.push_str(word);
        } else {
            rows.push(word.to_string());
        }
    }
    rows
}
