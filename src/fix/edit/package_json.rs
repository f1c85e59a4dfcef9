//! package.json: dependencies added text-level, keeping indentation and key order.

use super::*;

/// One member of a JSON object, as byte offsets into the text being edited.
struct Member {
    key: String,
    gap: Range<usize>,
    key_start: usize,
    colon: Range<usize>,
    value_end: usize,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// End of the JSON value starting at `i`: the first delimiter back at nesting depth 0.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0;
    loop {
        match *b.get(i)? {
            b'"' => i = skip_string(b, i)?,
            b'{' | b'[' => (depth, i) = (depth + 1, i + 1),
            b'}' | b']' if depth > 0 => (depth, i) = (depth - 1, i + 1),
            c if depth == 0 && (c.is_ascii_whitespace() || b",}]".contains(&c)) => return Some(i),
            _ => i += 1,
        }
    }
}

/// Members of the object opening at `open`, and its closing brace. Only ever called on text
/// serde_json accepted, so it need not diagnose anything.
fn members(text: &str, open: usize) -> Option<(Vec<Member>, usize)> {
    let b = text.as_bytes();
    let (mut out, mut i) = (Vec::new(), open + 1);
    loop {
        let gap_start = i;
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => return Some((out, i)),
            b'"' => {
                let key_end = skip_string(b, i)?;
                let value_start = skip_ws(b, skip_ws(b, key_end) + 1);
                let value_end = skip_value(b, value_start)?;
                out.push(Member {
                    key: text[i + 1..key_end - 1].to_string(),
                    gap: gap_start..i,
                    key_start: i,
                    colon: key_end..value_start,
                    value_end,
                });
                i = skip_ws(b, value_end);
                i += usize::from(b.get(i) == Some(&b','));
            }
            _ => return None,
        }
    }
}

/// The splice that adds `entry` to the object at `open`: after its sorted predecessor when
/// `sort_key` is given and the keys are sorted, else last. `unit` is one indent level; an empty
/// object can only be a top-level member here.
fn object_insertion(
    text: &str,
    open: usize,
    sort_key: Option<&str>,
    entry: &str,
    unit: &str,
) -> Option<(Range<usize>, String)> {
    let (items, close) = members(text, open)?;
    if items.is_empty() {
        return Some((open + 1..close, format!("\n{unit}{unit}{entry}\n{unit}")));
    }
    let gap = &text[items.get(1).unwrap_or(&items[0]).gap.clone()];
    let gap = if gap.is_empty() { " " } else { gap };
    let keys: Vec<&str> = items.iter().map(|m| m.key.as_str()).collect();
    let slot = sort_key.and_then(|k| sorted_slot(&keys, k));
    let (at, insert) = match slot.unwrap_or(items.len()) {
        0 => (items[0].key_start, format!("{entry},{gap}")),
        k => (items[k - 1].value_end, format!(",{gap}{entry}")),
    };
    Some((at..at, insert))
}

/// package.json: adds `"name": "version"` to dependencies / devDependencies, text-level, keeping
/// indentation and key order; sorted position when the keys are sorted.
pub fn package_json_add_dependency(
    text: &str,
    name: &str,
    version: &str,
    kind: DepKind,
) -> Result<String, EditError> {
    if !plain(name) || version.trim().is_empty() {
        return Err(invalid("dependency", &format!("{name}@{version}")));
    }
    let section = ["dependencies", "devDependencies"][kind as usize];
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let unexpected = || parse_err("package.json", "unexpected structure");
    with_lf(text, |text| {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| parse_err("package.json", e))?;
        if !json.is_object() {
            return Err(refuse("package.json is not an object"));
        }
        for s in ["dependencies", "devDependencies"] {
            if !(json[s].is_null() || json[s].is_object()) {
                return Err(refuse(format!("\"{s}\" is not an object")));
            }
            if json[s].get(name).is_some() {
                return Err(present(name, s));
            }
        }
        let open = skip_ws(text.as_bytes(), 0);
        let (top, _) = members(text, open).ok_or_else(unexpected)?;
        let gap = top.first().map_or("", |m| &text[m.gap.clone()]);
        let unit = gap.rfind('\n').map_or("", |p| &gap[p + 1..]);
        if unit.is_empty() {
            return Err(refuse("package.json is empty or not indented"));
        }
        let colon = &text[top[0].colon.clone()];
        let entry = format!("{}{colon}{}", quote(name), quote(version));
        let found: Vec<&Member> = top.iter().filter(|m| m.key == section).collect();
        let splice = match found[..] {
            [] => {
                let obj = format!("{}{colon}{{\n{unit}{unit}{entry}\n{unit}}}", quote(section));
                object_insertion(text, open, None, &obj, unit)
            }
            [m] => object_insertion(text, m.colon.end, Some(name), &entry, unit),
            _ => return Err(refuse(format!("\"{section}\" appears twice"))),
        };
        let (range, insert) = splice.ok_or_else(unexpected)?;
        let mut out = text.to_string();
        out.replace_range(range, &insert);
        let check: serde_json::Value = serde_json::from_str(&out).map_err(|_| unexpected())?;
        if check[section][name] != version {
            return Err(refuse("edited package.json did not verify"));
        }
        Ok(out)
    })
}
