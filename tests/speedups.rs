//! The speed-ups must not change a single finding: every log the project has (and
//! the shared development corpus, when it is checked out beside the repository) is
//! analyzed through the small-input path (keyword NFA only) and through the
//! large-input path (block prefilter and keyword DFA), and the full JSON compared.

use cars::analyze::{Matcher, Options};
use cars::log::{LogInput, Source};
use cars::rules::RuleSet;
use std::path::{Path, PathBuf};

fn logs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            // Repair projects hold sources, not logs.
            if p.file_name().is_some_and(|n| n == "project") {
                continue;
            }
            logs_under(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".log") || n.ends_with(".log.gz") || n.ends_with(".txt"))
        {
            out.push(p);
        }
    }
}

fn analyze(m: &Matcher, path: &Path) -> String {
    analyze_on(m, path, 1)
}

fn analyze_on(m: &Matcher, path: &Path, threads: usize) -> String {
    let input = LogInput::open(&Source::Path(path.to_path_buf())).expect("open log");
    let a = m
        .analyze_threaded(input, &Options::default(), threads)
        .expect("analyze");
    serde_json::to_string_pretty(&a.findings).expect("json")
}

#[test]
fn large_input_path_finds_exactly_what_the_small_one_finds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut logs = Vec::new();
    for d in [
        "tests/realtool",
        "tests/fixtures",
        "examples/logs",
        "../shared/corpus",
    ] {
        logs_under(&root.join(d), &mut logs);
    }
    logs.sort();
    assert!(logs.len() > 200, "only {} logs found", logs.len());
    let rules = RuleSet::builtin().expect("rules");
    let large = Matcher::new(&rules);
    large.prepare_large_inputs();
    let mut differ = Vec::new();
    let mut threaded = Vec::new();
    let mut small = Matcher::new(&rules);
    for log in &logs {
        // Once a matcher has met a large block it keeps its block prefilter and takes
        // the large-input path for every later log: start again with a fresh one.
        if small.on_large_input_path() {
            small = Matcher::new(&rules);
        }
        let one = analyze(&small, log);
        if one != analyze(&large, log) {
            differ.push(log.display().to_string());
        }
        if one != analyze_on(&large, log, 2) {
            threaded.push(log.display().to_string());
        }
    }
    assert!(
        threaded.is_empty(),
        "{} of {} logs differ on two threads: {:?}",
        threaded.len(),
        logs.len(),
        &threaded[..threaded.len().min(10)]
    );
    assert!(
        differ.is_empty(),
        "{} of {} logs differ: {:?}",
        differ.len(),
        logs.len(),
        &differ[..differ.len().min(10)]
    );
}

/// Many blocks: every log of the project concatenated (and repeated) to about 12 MiB,
/// on one, two and four threads.
#[test]
fn threads_find_exactly_what_one_thread_finds_across_many_blocks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut logs = Vec::new();
    for d in ["tests/realtool", "tests/fixtures", "examples/logs"] {
        logs_under(&root.join(d), &mut logs);
    }
    logs.sort();
    let mut text = Vec::new();
    while text.len() < 12 << 20 {
        for log in &logs {
            let input = LogInput::open(&Source::Path(log.clone())).expect("open log");
            input
                .for_each_block(|b| {
                    text.extend_from_slice(b);
                    Ok(())
                })
                .expect("read log");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.log");
    std::fs::write(&big, &text).unwrap();
    let rules = RuleSet::builtin().expect("rules");
    let m = Matcher::new(&rules);
    let one = analyze_on(&m, &big, 1);
    assert!(one.len() > 1000, "the log has findings");
    for threads in [2, 4] {
        assert!(
            one == analyze_on(&m, &big, threads),
            "{threads} threads differ from one"
        );
    }
}
