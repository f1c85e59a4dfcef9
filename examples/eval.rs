//! Measures `cars analyze` on the labelled corpus (../shared/corpus by default):
//! hit@1 / hit@3 and findings per log on logchunks and cidiff, location recall on
//! rust_diagnostics and mypy, failed-test recall on bugswarm_analyzer_tests.
//!
//!     cargo run --release --example eval [-- --corpus DIR] [--misses DATASET] [--only DATASET]
//!
//! Findings are counted as reported by default (no filters). `--misses logchunks`
//! prints, for every log where the top 3 miss, the label and what cars ranked first.

use cars::analyze::{Analysis, Finding, Matcher, Options};
use cars::log::{LogInput, Source};
use cars::rules::RuleSet;
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Args {
    corpus: PathBuf,
    misses: Option<String>,
    only: Option<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        corpus: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")),
        misses: None,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--corpus" => args.corpus = PathBuf::from(it.next().expect("--corpus DIR")),
            "--misses" => args.misses = it.next(),
            "--only" => args.only = it.next(),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

fn labels(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (is the corpus at {}?)",
            path.display(),
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run(m: &Matcher, path: &Path, opts: &Options) -> Analysis {
    let input = LogInput::open(&Source::Path(path.to_path_buf())).unwrap();
    m.analyze(input, opts).unwrap()
}

fn overlaps(f: &Finding, intervals: &[(u64, u64)]) -> bool {
    intervals
        .iter()
        .any(|&(s, e)| f.log_lines.start <= e && f.log_lines.end >= s)
}

#[derive(Default)]
struct Localize {
    n: usize,
    hit1: usize,
    hit3: usize,
    counts: Vec<usize>,
}

impl Localize {
    fn add(&mut self, a: &Analysis, intervals: &[(u64, u64)]) -> bool {
        self.n += 1;
        let f = &a.findings;
        if f.first().is_some_and(|f| overlaps(f, intervals)) {
            self.hit1 += 1;
        }
        let hit3 = f.iter().take(3).any(|f| overlaps(f, intervals));
        if hit3 {
            self.hit3 += 1;
        }
        self.counts.push(f.len());
        hit3
    }
    fn line(&self, name: &str) -> String {
        format!(
            "{name:<22} n={:<4} hit@1 {:.3}  hit@3 {:.3}  median findings {}",
            self.n,
            self.hit1 as f64 / self.n.max(1) as f64,
            self.hit3 as f64 / self.n.max(1) as f64,
            median(&self.counts)
        )
    }
}

fn median(v: &[usize]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut v = v.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    }
}

fn show_miss(name: &str, a: &Analysis, intervals: &[(u64, u64)], chunk: &str) {
    println!(
        "--- MISS {name} label {:?} ({} findings)",
        intervals,
        a.findings.len()
    );
    if !chunk.is_empty() {
        println!(
            "    chunk: {:?}",
            chunk.chars().take(160).collect::<String>()
        );
    }
    for f in a.findings.iter().take(3) {
        println!(
            "    {} {}-{} [{}] {:.2} {:?}",
            f.id,
            f.log_lines.start,
            f.log_lines.end,
            f.rule,
            f.confidence,
            f.message.chars().take(110).collect::<String>()
        );
    }
}

fn main() {
    let args = parse_args();
    let rules = RuleSet::builtin().expect("built-in rules");
    let m = Matcher::new(&rules);
    println!(
        "{} rules; prefilter: {}",
        rules.rules.len(),
        m.prefilter_summary()
    );
    let c = &args.corpus;
    let want = |d: &str| args.only.as_deref().is_none_or(|o| o == d);
    let misses = |d: &str| args.misses.as_deref() == Some(d);
    let mut all = Localize::default();
    let mut report = Vec::new();

    if want("logchunks") {
        let mut s = Localize::default();
        for l in labels(&c.join("logchunks/labels.jsonl")) {
            // One label's chunk could not be located in its log ("match": "not_found").
            let (Some(start), Some(end)) = (l["line_start"].as_u64(), l["line_end"].as_u64())
            else {
                continue;
            };
            let path = c.join("logchunks").join(l["log_file"].as_str().unwrap());
            let a = run(&m, &path, &Options::default());
            let iv = [(start, end)];
            let hit = s.add(&a, &iv);
            all.add(&a, &iv);
            if !hit && misses("logchunks") {
                show_miss(
                    l["log_file"].as_str().unwrap(),
                    &a,
                    &iv,
                    l["chunk"].as_str().unwrap_or(""),
                );
            }
        }
        report.push(s.line("logchunks"));
    }
    if want("cidiff") {
        let mut s = Localize::default();
        let mut sb = Localize::default();
        for l in labels(&c.join("cidiff/labels.jsonl")) {
            let dir = c.join("cidiff");
            let iv: Vec<(u64, u64)> = l["intervals"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["kind"] == "E")
                .map(|i| {
                    (
                        i["start_lf"].as_u64().unwrap(),
                        i["end_lf"].as_u64().unwrap(),
                    )
                })
                .collect();
            let fail = dir.join(l["fail_log"].as_str().unwrap());
            let a = run(&m, &fail, &Options::default());
            let hit = s.add(&a, &iv);
            all.add(&a, &iv);
            if !hit && misses("cidiff") {
                show_miss(l["case"].as_str().unwrap(), &a, &iv, "");
            }
            let pass = dir.join(l["pass_log"].as_str().unwrap());
            let baseline = m
                .baseline(LogInput::open(&Source::Path(pass)).unwrap())
                .unwrap();
            let opts = Options {
                baseline: Some(baseline),
                ..Options::default()
            };
            sb.add(&run(&m, &fail, &opts), &iv);
        }
        report.push(s.line("cidiff"));
        report.push(sb.line("cidiff --baseline"));
    }
    if args.only.is_none() {
        report.push(all.line("logchunks+cidiff"));
    }
    if want("rust") {
        let fields = LabelFields {
            out: "stderr_file",
            level: "level",
            file: "path",
        };
        let (found, total) =
            location_recall(&m, &c.join("rust_diagnostics"), &fields, misses("rust"));
        report.push(format!(
            "rust_diagnostics       location recall {:.3} ({found}/{total} error diagnostics)",
            found as f64 / total.max(1) as f64
        ));
    }
    if want("mypy") {
        let fields = LabelFields {
            out: "out_file",
            level: "severity",
            file: "file",
        };
        let (found, total) =
            location_recall(&m, &c.join("mypy_expected_output"), &fields, misses("mypy"));
        report.push(format!(
            "mypy                   location recall {:.3} ({found}/{total} error diagnostics)",
            found as f64 / total.max(1) as f64
        ));
    }
    if want("bugswarm") {
        let (mut found, mut total) = (0, 0);
        for l in labels(&c.join("bugswarm_analyzer_tests/labels.jsonl")) {
            let Some(names) = l["expected"]["tr_log_tests_failed"]
                .as_str()
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            let path = c
                .join("bugswarm_analyzer_tests")
                .join(l["log_file"].as_str().unwrap());
            let a = run(&m, &path, &Options::default());
            for name in names.split('#').filter(|n| !n.is_empty()) {
                total += 1;
                if a.findings.iter().any(|f| test_matches(f, name)) {
                    found += 1;
                } else if misses("bugswarm") {
                    println!("--- MISS {} {:?}", l["log_file"], name);
                }
            }
        }
        report.push(format!(
            "bugswarm               failed-test recall {:.3} ({found}/{total} failed tests)",
            found as f64 / total.max(1) as f64
        ));
    }
    println!("{}", report.join("\n"));
}

/// Where a diagnostics dataset keeps the tool output and each diagnostic's fields.
struct LabelFields {
    out: &'static str,
    level: &'static str,
    file: &'static str,
}

/// Labelled error diagnostics whose file and line appear among the findings, and how
/// many there are: `(found, total)`.
fn location_recall(
    m: &Matcher,
    dir: &Path,
    fields: &LabelFields,
    show_misses: bool,
) -> (usize, usize) {
    let (mut found, mut total) = (0, 0);
    for l in labels(&dir.join("labels.jsonl")) {
        let path = dir.join(l[fields.out].as_str().unwrap());
        let a = run(m, &path, &Options::default());
        for d in l["diagnostics"].as_array().unwrap() {
            if d[fields.level] != "error" || d[fields.file].is_null() || d["line"].is_null() {
                continue;
            }
            total += 1;
            if located(
                &a,
                d[fields.file].as_str().unwrap(),
                d["line"].as_u64().unwrap(),
            ) {
                found += 1;
            } else if show_misses {
                println!(
                    "--- MISS {} {}:{} {}",
                    l[fields.out], d[fields.file], d["line"], d["message"]
                );
            }
        }
    }
    (found, total)
}

fn located(a: &Analysis, file: &str, line: u64) -> bool {
    a.findings.iter().any(|f| {
        f.location.as_ref().is_some_and(|l| {
            l.line == Some(line)
                && (l.file == file
                    || l.file.ends_with(&format!("/{file}"))
                    || file.ends_with(&format!("/{}", l.file)))
        })
    })
}

/// The last component of a test name, without parameters or the class in parentheses.
fn leaf(name: &str) -> String {
    let n = name.trim().trim_end_matches(':');
    let n = n
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(n);
    let n = n.split(['(', '[']).next().unwrap_or(n).trim();
    n.rsplit(['.', ':', '#', '>', '$', ' '])
        .find(|s| !s.is_empty())
        .unwrap_or(n)
        .to_string()
}

fn test_matches(f: &Finding, name: &str) -> bool {
    let Some(t) = &f.test else { return false };
    let (t, name) = (t.trim(), name.trim().trim_end_matches(':'));
    t == name
        || (t.len() >= 6 && name.contains(t))
        || t.contains(name)
        || (leaf(t).len() >= 3 && leaf(t) == leaf(name))
}
