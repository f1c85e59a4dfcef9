//! GitHub Actions workflows: `uses: action@ref` bumps.

use super::*;

static USES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(\s*(?:-\s+)?uses:\s*)(["']?)([^@\s"'#]+)@([^\s"'#]+)(["']?)(.*)$"#)
        .expect("valid regex")
});

/// Points every `uses: action@ref` of exactly `action` at `new_ref`; returns the text and count.
pub fn workflow_bump_action(
    text: &str,
    action: &str,
    new_ref: &str,
) -> Result<(String, usize), EditError> {
    if !plain(action) || !plain(new_ref) || new_ref.contains('@') {
        return Err(invalid("action", &format!("{action}@{new_ref}")));
    }
    let (mut out, mut changed, mut current) = (String::new(), 0, 0);
    for raw in text.split_inclusive('\n') {
        let (line, eol) = split_eol(raw);
        // `a@v1#x` is one YAML scalar, so a comment needs whitespace before it.
        let ours = |c: &regex::Captures| {
            &c[3] == action && c[2] == c[5] && (c[6].is_empty() || c[6].starts_with([' ', '\t']))
        };
        match USES.captures(line).filter(ours) {
            Some(c) if &c[4] != new_ref => {
                let (lead, q, rest) = (&c[1], &c[2], &c[6]);
                out.push_str(&format!("{lead}{q}{action}@{new_ref}{q}{rest}{eol}"));
                changed += 1;
            }
            hit => {
                current += usize::from(hit.is_some());
                out.push_str(raw);
            }
        }
    }
    match (changed, current) {
        (0, 0) => Err(EditError::NotFound(format!("uses: {action}@..."))),
        (0, _) => Err(present(&format!("{action}@{new_ref}"), "the workflow")),
        _ => Ok((out, changed)),
    }
}
