//! go.mod: `require` entries.

use super::*;

/// go.mod: adds `module version` to the first require block with a direct entry, else a
/// `require` line after the last single-line require or the `go` directive.
pub fn go_mod_add_require(text: &str, module: &str, version: &str) -> Result<String, EditError> {
    if !plain(module) || !plain(version) || !version.starts_with('v') {
        return Err(invalid("requirement", &format!("{module} {version}")));
    }
    with_lf(text, |text| {
        let lines: Vec<&str> = text.lines().collect();
        let code = |i: usize| lines[i].split("//").next().unwrap_or("").trim();
        let names_module = |c: &str| c.split_whitespace().next() == Some(module);
        let path = |i: usize| code(i).split_whitespace().next().unwrap_or("");
        let direct = |r: &Range<usize>| {
            r.clone()
                .any(|i| !code(i).is_empty() && !lines[i].contains("// indirect"))
        };
        let (mut block, mut target, mut singles, mut go) = (None, None, Vec::new(), None);
        for i in 0..lines.len() {
            let c = code(i);
            match block {
                Some((start, is_require)) if c == ")" => {
                    let body = start + 1..i;
                    if is_require && target.is_none() && direct(&body) {
                        target = Some(body);
                    }
                    block = None;
                }
                Some((_, true)) if names_module(c) => return Err(present(module, "go.mod")),
                Some(_) => {}
                None if c.ends_with('(') => block = Some((i, c.starts_with("require"))),
                None if c.strip_prefix("require ").is_some_and(names_module) => {
                    return Err(present(module, "go.mod"))
                }
                None if c.starts_with("require ") => singles.push(i),
                None if c.starts_with("go ") || c.starts_with("toolchain ") => go = Some(i),
                None => {}
            }
        }
        if block.is_some() {
            return Err(parse_err("go.mod", "unclosed block"));
        }
        if let Some(body) = target {
            let entries: Vec<usize> = body.clone().filter(|&i| !code(i).is_empty()).collect();
            let paths: Vec<&str> = entries.iter().map(|&i| path(i)).collect();
            let at = entry_line(&entries, sorted_slot(&paths, module), body.end);
            let line = format!("{}{module} {version}", indent_of(lines[entries[0]]));
            return Ok(insert_line(text, at, &line));
        }
        let single = format!("require {module} {version}");
        if let Some(&last) = singles.last() {
            return Ok(insert_line(text, last + 1, &single));
        }
        let go = go.ok_or_else(|| EditError::NotFound("go directive in go.mod".into()))?;
        Ok(insert_line(&insert_line(text, go + 1, &single), go + 1, ""))
    })
}
