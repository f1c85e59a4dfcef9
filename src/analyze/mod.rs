//! The streaming analyzer: blocks of log lines in, ranked findings out.
//!
//! A literal prefilter (Aho-Corasick over every rule's keywords and the CI step
//! markers) skips lines that cannot match anything; only candidate lines are cleaned
//! and tried against the rules whose keywords they contain. Multi-line errors are
//! grouped into one finding by the rule's `block` or by a tool parser. Depends on
//! `log` and `rules`.

pub mod category;
pub mod check;
pub mod classify;
pub mod manifest;
pub mod mask;
pub mod parsers;
mod prefilter;
mod rank;

use crate::log::{self, ci, InputError, LogInput};
use crate::rules::model::{Category, Level, Severity};
use crate::rules::{CompiledBlock, CompiledHeader, Rule, RuleSet};
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use parsers::{BlockParser, Next};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

/// A file position a finding points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
}

/// 1-based, inclusive line numbers in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRange {
    pub start: u64,
    pub end: u64,
}

/// One error (or warning) found in a log. Serialises to the `cars/analysis/v1`
/// finding object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub rank: usize,
    pub level: Level,
    pub category: Category,
    /// Which category table entry gave `category` (absent: the rule's own category).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_reason: Option<String>,
    pub severity: Severity,
    pub confidence: f64,
    pub tool: String,
    pub rule: String,
    pub message: String,
    pub location: Option<Location>,
    pub test: Option<String>,
    pub log_lines: LineRange,
    pub step: Option<String>,
    pub fingerprint: String,
    pub occurrences: u64,
    pub explanation: String,
    /// Set when the store knows this test fails this way only some of the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flaky: Option<FlakyMark>,
    /// The cleaned log lines of the finding (at most `MAX_EXCERPT`), for reports.
    #[serde(skip)]
    pub excerpt: Vec<String>,
    /// A summary that follows the real cause ("could not compile", "BUILD FAILURE").
    #[serde(skip)]
    pub consequence: bool,
    /// Everything the rule or parser captured (`code`, `expected`, `suggestions`...),
    /// for fix templates.
    #[serde(skip)]
    pub captures: BTreeMap<String, String>,
}

/// Why a finding is taken for a flaky test's: the same test failed with the same
/// fingerprint, and passed, on one tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlakyMark {
    pub failures: u64,
    pub runs: u64,
    /// `timeout`, `network` (what the failure itself says) or `intermittent`.
    pub why: String,
}

/// The result of analyzing one log.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub source: String,
    pub lines: u64,
    pub findings: Vec<Finding>,
    /// Names of the CI steps seen, in order.
    pub steps: Vec<String>,
}

impl Analysis {
    /// For a command known to have succeeded: a "the step failed" fallback finding
    /// would be false, so it goes, and the rest keep their order with ids renumbered.
    pub fn after_success(mut self) -> Analysis {
        let before = self.findings.len();
        self.findings.retain(|f| f.rule != "cars.failure-context");
        if self.findings.len() != before {
            self.renumber();
        }
        self
    }

    /// The findings of the rules a job names in `hints` (rule id prefixes) first,
    /// rank order kept within each group, renumbered: a `clippy` job's session lists
    /// clippy's findings before the rest, in the TUI and in `cars list` alike.
    pub fn prefer(mut self, hints: &[String]) -> Analysis {
        prefer(&mut self.findings, hints);
        self
    }

    fn renumber(&mut self) {
        renumber(&mut self.findings);
    }
}

/// `Analysis::prefer` for findings on their own (a live snapshot of a running job).
pub fn prefer(findings: &mut [Finding], hints: &[String]) {
    if !hints.is_empty() {
        findings.sort_by_key(|f| !hints.iter().any(|h| f.rule.starts_with(h.as_str())));
        renumber(findings);
    }
}

fn renumber(findings: &mut [Finding]) {
    for (i, f) in findings.iter_mut().enumerate() {
        f.rank = i + 1;
        f.id = format!("E{}", i + 1);
    }
}

/// How an analysis is run.
#[derive(Debug)]
pub struct Options {
    /// Lines of a passing run: findings whose masked line also occurs there are noise.
    pub baseline: Option<Baseline>,
    /// Where the manifests that errors name (Cargo.toml, package.json...) are looked
    /// up for the line of the key or package; `None` turns the lookup off. By default
    /// the current directory: cars runs in the project root.
    pub manifest_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            baseline: None,
            manifest_dir: Some(PathBuf::from(".")),
        }
    }
}

/// Masked candidate lines of a passing run's log.
#[derive(Debug, Default)]
pub struct Baseline {
    hashes: HashSet<u64>,
}

/// Lines of log kept per finding.
pub const MAX_EXCERPT: usize = 24;
const MAX_EXCERPT_CHARS: usize = 320;
/// Distinct findings kept per log; beyond this only occurrences are counted. With
/// excerpts capped as above this bounds findings to about 20 MiB.
const MAX_CANDIDATES: usize = 5_000;
/// Blocks smaller than this (whole small logs) skip building the block prefilter.
const SMALL_BLOCK: usize = 256 << 10;
/// Bytes of excerpts kept over all findings of one analysis.
const EXCERPT_BUDGET: usize = 8 << 20;
/// Lines looked at before a failure marker when no rule explains the failure.
const LOOKBACK_LINES: usize = 40;

/// The compiled prefilter for a rule set. Build it once and analyze many logs.
pub struct Matcher<'r> {
    pub rules: &'r RuleSet,
    /// Exact, case-insensitive keyword matching on one candidate line.
    ac: AhoCorasick,
    /// Lowercase literals behind the block prefilter (keywords and step markers).
    literals: Vec<String>,
    /// Built on the first large block: small logs (the common interactive case) are
    /// scanned with `ac` directly, which keeps start-up short.
    prefilter: std::sync::OnceLock<prefilter::Prefilter>,
    /// `ac` as a DFA: several times faster per byte but slower to build, so it is
    /// built with the block prefilter, on the first large block.
    ac_dfa: std::sync::OnceLock<AhoCorasick>,
    /// The keyword patterns, for building `ac_dfa`.
    patterns: Vec<String>,
    /// For every prefilter pattern, the rules (indices into `rules.rules`) it triggers.
    pattern_rules: Vec<Vec<u32>>,
    /// No literal holds a line end, so a literal's hit lies within one line.
    literals_one_line: bool,
}

impl<'r> Matcher<'r> {
    pub fn new(rules: &'r RuleSet) -> Matcher<'r> {
        let mut patterns: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut add = |word: &str, rule: Option<u32>| {
            let key = word.to_ascii_lowercase();
            let i = *index.entry(key.clone()).or_insert_with(|| {
                patterns.push(key);
                pattern_rules.push(Vec::new());
                patterns.len() - 1
            });
            if let Some(r) = rule {
                pattern_rules[i].push(r);
            }
        };
        for (i, rule) in rules.rules.iter().enumerate() {
            for k in &rule.spec.keywords {
                add(k, Some(i as u32));
            }
        }
        for m in ci::MARKER_LITERALS {
            add(m, None);
        }
        let mut literals = patterns.clone();
        literals.retain(|l| {
            !ci::MARKER_LITERALS
                .iter()
                .any(|m| m.eq_ignore_ascii_case(l))
        });
        literals.extend(ci::MARKER_LITERALS.iter().map(|m| m.to_ascii_lowercase()));
        // A contiguous NFA is quick to build, which matters for start-up; large
        // inputs switch to a DFA (`keywords`).
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&patterns)
            .expect("keyword automaton");
        Matcher {
            rules,
            ac,
            prefilter: std::sync::OnceLock::new(),
            ac_dfa: std::sync::OnceLock::new(),
            literals_one_line: literals.iter().all(|l| !l.contains('\n')),
            patterns,
            literals,
            pattern_rules,
        }
    }

    /// Which block prefilter is in use and over how many literals, for benchmarks.
    pub fn prefilter_summary(&self) -> String {
        let groups = prefilter::choose_anchors(&self.literals);
        format!(
            "{} over {} literals ({} anchors)",
            self.block_prefilter().kind(),
            self.literals.len(),
            groups.map(|g| g.concat().len()).unwrap_or(0)
        )
    }

    fn block_prefilter(&self) -> &prefilter::Prefilter {
        self.prefilter
            .get_or_init(|| prefilter::Prefilter::new(&self.literals, self.dfa()))
    }

    /// `ac` as a DFA over the same patterns (the `literals` as a set).
    fn dfa(&self) -> &AhoCorasick {
        self.ac_dfa.get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&self.patterns)
                .unwrap_or_else(|_| self.ac.clone())
        })
    }

    /// Builds the large-input machinery (block prefilter, keyword DFA) now rather
    /// than on the first large block. Findings are the same either way; a test
    /// compares the two paths on every log the project has.
    pub fn prepare_large_inputs(&self) {
        self.block_prefilter();
        self.keywords();
    }

    /// Whether this matcher has met a large block (or was prepared for one): from
    /// then on every log it analyzes takes the large-input path.
    pub fn on_large_input_path(&self) -> bool {
        self.prefilter.get().is_some()
    }

    /// The keyword automaton for candidate lines: the DFA once a large block has
    /// been seen, the quick-to-build NFA before. Both find the same matches.
    fn keywords(&self) -> &AhoCorasick {
        if self.prefilter.get().is_none() {
            return &self.ac;
        }
        self.dfa()
    }

    /// Analyzes a whole log.
    pub fn analyze(&self, input: LogInput, opts: &Options) -> Result<Analysis, InputError> {
        let name = input.name.clone();
        let mut analyzer = Analyzer::new(self, opts, name);
        input.for_each_block(|block| {
            analyzer.feed(block);
            Ok(())
        })?;
        Ok(analyzer.finish())
    }

    /// `analyze` on `threads` threads: one reads, `threads - 1` scan blocks with the
    /// block prefilter (round robin, so blocks come back in order), and this one
    /// analyzes each block's candidate lines. The scan is half the work on large logs.
    /// Findings are exactly `analyze`'s: the same lines are candidates, in the same
    /// order, and everything with state runs on one thread.
    pub fn analyze_threaded(
        &self,
        input: LogInput,
        opts: &Options,
        threads: usize,
    ) -> Result<Analysis, InputError> {
        if threads < 2 {
            return self.analyze(input, opts);
        }
        self.prepare_large_inputs();
        let scanners = threads - 1;
        let mut analyzer = Analyzer::new(self, opts, input.name.clone());
        std::thread::scope(|s| {
            let mut to_scan = Vec::with_capacity(scanners);
            let mut scanned = Vec::with_capacity(scanners);
            for _ in 0..scanners {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
                let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
                s.spawn(move || {
                    let mut scan = prefilter::Scan::default();
                    for block in rx {
                        let hits = self.candidate_hits(&mut scan, &block);
                        if done_tx.send((block, hits)).is_err() {
                            break;
                        }
                    }
                });
                to_scan.push(tx);
                scanned.push(done_rx);
            }
            let reader = s.spawn(move || {
                let mut i = 0;
                input.for_each_block(|block| {
                    // A scanner only hangs up when it panicked; the scope re-raises it.
                    let _ = to_scan[i % scanners].send(block.to_vec());
                    i += 1;
                    Ok(())
                })
            });
            let mut i = 0;
            while let Ok((block, hits)) = scanned[i % scanners].recv() {
                analyzer.feed_scanned(&block, &hits);
                i += 1;
            }
            reader.join().expect("the reading thread panicked")
        })?;
        Ok(analyzer.finish())
    }

    /// Where the block prefilter hits `block`: one position in each line that holds
    /// a hit, found the way `Analyzer::feed` looks (from a line's end to the next hit).
    fn candidate_hits(&self, scan: &mut prefilter::Scan, block: &[u8]) -> Vec<usize> {
        let pf = self.block_prefilter();
        pf.load(scan, block);
        let mut hits = Vec::new();
        let mut pos = 0;
        while let Some(hit) = pf.next_hit(scan, block, pos) {
            hits.push(hit);
            pos = match memchr::memchr(b'\n', &block[hit..]) {
                Some(i) => hit + i + 1,
                None => break,
            };
            if pos >= block.len() {
                break;
            }
        }
        hits
    }

    /// Reads a passing run's log into a baseline.
    pub fn baseline(&self, input: LogInput) -> Result<Baseline, InputError> {
        let opts = Options::default();
        let mut analyzer = Analyzer::new(self, &opts, input.name.clone());
        analyzer.collect_baseline = Some(HashSet::new());
        input.for_each_block(|block| {
            analyzer.feed(block);
            Ok(())
        })?;
        Ok(Baseline {
            hashes: analyzer.collect_baseline.take().unwrap_or_default(),
        })
    }

    /// Rules whose keywords occur in `text`, in rule order (priority first).
    fn rules_for(&self, text: &str) -> Vec<u32> {
        let mut hits: Vec<u32> = Vec::new();
        for m in self.keywords().find_overlapping_iter(text) {
            hits.extend_from_slice(&self.pattern_rules[m.pattern().as_usize()]);
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }
}

/// How a finding's evidence was obtained; more structure means more confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Evidence {
    /// No rule matched; picked from the lines before a failure marker.
    Fallback,
    /// A rule matched a line, without a location or test name.
    Keyword,
    /// A rule matched and gave a file:line or a test name.
    Located,
    /// A tool parser read the block and gave a location.
    Parsed,
}

#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Index into the rule set; `None` for a fallback finding.
    pub rule: Option<u32>,
    pub start: u64,
    pub end: u64,
    pub step: Option<usize>,
    pub captures: BTreeMap<String, String>,
    pub excerpt: Vec<String>,
    pub evidence: Evidence,
    pub occurrences: u64,
    /// Masked hash of the first line, for the baseline.
    pub line_hash: u64,
    pub category: Option<Category>,
}

struct OpenBlock {
    cand: Candidate,
    lines: usize,
    parser: Option<BlockParser>,
    /// Captures from the header line above; they fill what the block's own lines
    /// leave missing when it closes (the block is the nearer evidence).
    above: BTreeMap<String, String>,
    /// Where the frames stand: the first line's own location is kept; one from a
    /// block line (TAP's `location:`) gives way to the first project frame.
    frames: FrameState,
}

#[derive(Debug, Default)]
struct FrameState {
    /// The first line named the file itself.
    line_located: bool,
    /// Project frames seen (see `skip_frames`).
    seen: usize,
    /// A frame gave the location.
    located: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub name: String,
    pub failed: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub line: u64,
    pub step: Option<usize>,
    pub fallback: Option<Candidate>,
}

/// Streaming state: feed it blocks of whole lines, then `finish`.
pub struct Analyzer<'m, 'r> {
    m: &'m Matcher<'r>,
    opts: &'m Options,
    source: String,
    line_no: u64,
    steps: Vec<Step>,
    current_step: Option<usize>,
    /// Something (a candidate, a failure) points at the current step: it is kept when
    /// the next one begins; otherwise its slot is reused, so a log of a million steps
    /// keeps only the ones its findings name.
    step_used: bool,
    open: Option<OpenBlock>,
    scan: prefilter::Scan,
    pub(crate) cands: Vec<Candidate>,
    by_fingerprint: HashMap<u64, usize>,
    failures: Vec<Failure>,
    /// The last lines of the previous block, for looking back across a block edge.
    prev_tail: Vec<u8>,
    /// Line ranges of the latest summary blocks (a rule's consequence or failure
    /// marker, e.g. npm's `npm ERR!` paragraph): the failure-context fallback looks
    /// past them, not into them.
    summary_spans: std::collections::VecDeque<(u64, u64)>,
    collect_baseline: Option<HashSet<u64>>,
    excerpt_bytes: usize,
    /// The last header lookup: (rule, line number, captures). The next row of the
    /// same report stops its search there, so a report of many rows under one
    /// header costs its rows once, not rows × distance.
    last_header: Option<(u32, u64, BTreeMap<String, String>)>,
}

impl<'m, 'r> Analyzer<'m, 'r> {
    pub fn new(m: &'m Matcher<'r>, opts: &'m Options, source: String) -> Self {
        Analyzer {
            m,
            opts,
            source,
            line_no: 0,
            steps: Vec::new(),
            current_step: None,
            step_used: false,
            open: None,
            scan: prefilter::Scan::default(),
            cands: Vec::new(),
            by_fingerprint: HashMap::new(),
            failures: Vec::new(),
            prev_tail: Vec::new(),
            summary_spans: std::collections::VecDeque::new(),
            collect_baseline: None,
            excerpt_bytes: 0,
            last_header: None,
        }
    }

    /// Distinct error or warning candidates seen so far (a block still being read
    /// counts once it closes), for live progress.
    pub fn candidates(&self) -> usize {
        self.cands.len()
    }

    /// Feeds a block that ends at a line end (or at the end of the input).
    pub fn feed(&mut self, block: &[u8]) {
        self.feed_with(block, None);
    }

    /// `feed` for a block whose prefilter hits another thread found
    /// (`Matcher::candidate_hits`): the same findings, without the scan.
    fn feed_scanned(&mut self, block: &[u8], hits: &[usize]) {
        self.feed_with(block, Some(hits));
    }

    fn feed_with(&mut self, block: &[u8], scanned: Option<&[usize]>) {
        let mut pos = 0;
        let small =
            scanned.is_none() && block.len() < SMALL_BLOCK && self.m.prefilter.get().is_none();
        if !small && scanned.is_none() {
            self.m.block_prefilter().load(&mut self.scan, block);
        }
        let exact_hits =
            self.m.literals_one_line && (small || self.m.block_prefilter().hits_are_literals());
        let mut next = 0;
        while pos < block.len() {
            let line_start;
            if self.open.is_some() {
                line_start = pos;
            } else {
                let hit = if let Some(hits) = scanned {
                    // The first hit at or after `pos`, as `next_hit` would find it.
                    while hits.get(next).is_some_and(|&h| h < pos) {
                        next += 1;
                    }
                    hits.get(next).copied()
                } else if small {
                    self.m
                        .ac
                        .find(aho_corasick::Input::new(block).span(pos..block.len()))
                        .map(|m| m.start())
                } else {
                    self.m
                        .block_prefilter()
                        .next_hit(&mut self.scan, block, pos)
                };
                match hit {
                    None => {
                        self.line_no += count_lines(&block[pos..]);
                        break;
                    }
                    Some(hit) => {
                        line_start = memchr::memrchr(b'\n', &block[pos..hit])
                            .map(|i| pos + i + 1)
                            .unwrap_or(pos);
                        self.line_no +=
                            memchr::memchr_iter(b'\n', &block[pos..line_start]).count() as u64;
                    }
                }
            }
            let line_end = memchr::memchr(b'\n', &block[line_start..])
                .map(|i| line_start + i + 1)
                .unwrap_or(block.len());
            // The prefilter's anchors are looser than the keywords; a line holding no
            // keyword or marker at all is only counted. A hit of the keyword automaton
            // itself needs no second look: no literal spans a line end.
            if self.open.is_none()
                && !exact_hits
                && !self.m.keywords().is_match(&block[line_start..line_end])
            {
                self.line_no += 1;
                pos = line_end;
                continue;
            }
            self.line(block, line_start, line_end);
            pos = line_end;
        }
        self.keep_tail(block);
    }

    fn keep_tail(&mut self, block: &[u8]) {
        const TAIL: usize = 16 * 1024;
        if block.len() >= TAIL {
            let cut = block.len() - TAIL;
            let start = memchr::memchr(b'\n', &block[cut..])
                .map(|i| cut + i + 1)
                .unwrap_or(block.len());
            self.prev_tail.clear();
            self.prev_tail.extend_from_slice(&block[start..]);
        } else {
            self.prev_tail.extend_from_slice(block);
            if self.prev_tail.len() > TAIL {
                let cut = self.prev_tail.len() - TAIL;
                let start = memchr::memchr(b'\n', &self.prev_tail[cut..])
                    .map(|i| cut + i + 1)
                    .unwrap_or(self.prev_tail.len());
                self.prev_tail.drain(..start);
            }
        }
    }

    /// The slow path: one candidate line, cleaned and matched.
    fn line(&mut self, block: &[u8], start: usize, end: usize) {
        self.line_no += 1;
        let n = self.line_no;
        let raw = &block[start..end];
        if let Some(ci::StepEvent::Start(name)) = ci::raw_step_event(raw) {
            self.start_step(name);
        }
        let line = ci::normalise(log::clean_line(raw));
        if let Some(ci::StepEvent::Start(name)) = &line.step {
            self.close_block();
            self.start_step(name.clone());
        }
        if let Some(step) = &line.inline_step {
            let same = self
                .current_step
                .is_some_and(|i| &self.steps[i].name == step);
            if !same {
                self.close_block();
                self.start_step(step.clone());
            }
        }
        if let Some(open) = &mut self.open {
            let next = continue_block(self.m.rules, open, &line.text);
            if next != Next::Stop {
                open.lines += 1;
                open.cand.end = n;
                push_excerpt(&mut open.cand.excerpt, &line.text);
                if next == Next::Last {
                    self.close_block();
                }
                return;
            }
            self.close_block();
        }
        self.match_line(n, &line, block, start);
    }

    fn start_step(&mut self, name: String) {
        let step = Step {
            name,
            failed: false,
        };
        match self.current_step {
            Some(i) if !self.step_used && i + 1 == self.steps.len() => self.steps[i] = step,
            _ => {
                self.steps.push(step);
                self.current_step = Some(self.steps.len() - 1);
            }
        }
        self.step_used = false;
    }

    fn match_line(&mut self, n: u64, line: &ci::CiLine, block: &[u8], start: usize) {
        let text = line.text.as_str();
        let mut matched = self.try_rules(text);
        if let (None, Some(prefix)) = (&matched, line.annotation) {
            // Rules for the annotation itself see it with its own prefix, so a
            // `##[warning]` never reaches the `##[error]` rules.
            matched = self.try_rules(&format!("{prefix}{text}"));
        }
        let Some((ri, mut captures)) = matched else {
            return;
        };
        let rule = &self.m.rules.rules[ri as usize];
        if rule.spec.ignore {
            return;
        }
        if let Some(set) = &mut self.collect_baseline {
            set.insert(mask::masked_hash(text));
            return;
        }
        let mut above = BTreeMap::new();
        if let Some(header) = rule.header() {
            self.header_captures(ri, n, header, block, start, &mut above);
        }
        let has_block = rule.spec.block.is_some() && rule.spec.parser.is_none();
        if !has_block {
            fill_missing(&mut captures, std::mem::take(&mut above));
        }
        if let Some(p) = &rule.spec.parser {
            if !parsers::parse_line(p, text, &mut captures) {
                return;
            }
        }
        self.step_used = true;
        let mut cand = Candidate {
            rule: Some(ri),
            start: n,
            end: n,
            step: self.current_step,
            captures,
            excerpt: Vec::new(),
            evidence: Evidence::Keyword,
            occurrences: 1,
            line_hash: mask::masked_hash(text),
            category: None,
        };
        push_excerpt(&mut cand.excerpt, text);
        if rule.spec.marks_failure {
            self.step_used = true;
            if let Some(step) = self.current_step {
                self.steps[step].failed = true;
            }
            let fallback = self.lookback(n, block, start);
            self.failures.push(Failure {
                line: n,
                step: self.current_step,
                fallback,
            });
        }
        let parser = rule.spec.parser.as_deref().and_then(BlockParser::start);
        if rule.spec.block.is_some() || parser.is_some() {
            let frames = FrameState {
                line_located: first_line_located(rule, &cand.captures),
                ..FrameState::default()
            };
            self.open = Some(OpenBlock {
                cand,
                lines: 0,
                parser,
                above,
                frames,
            });
        } else {
            self.push(cand);
        }
    }

    pub(crate) fn try_rules(&self, text: &str) -> Option<(u32, BTreeMap<String, String>)> {
        for ri in self.m.rules_for(text) {
            let rule: &Rule = &self.m.rules.rules[ri as usize];
            let Some(re) = rule.regex() else { continue };
            // `is_match` runs on the lazy DFA; captures need a slower engine, so only
            // lines that do match pay for them.
            if !re.is_match(text) {
                continue;
            }
            if let Some(map) = re.named_captures(text) {
                return Some((ri, map));
            }
        }
        None
    }

    pub(crate) fn close_block(&mut self) {
        if let Some(mut open) = self.open.take() {
            fill_missing(&mut open.cand.captures, open.above);
            self.push(open.cand);
        }
    }

    fn push(&mut self, mut cand: Candidate) {
        if cand.rule.is_some_and(|r| {
            let s = &self.m.rules.rules[r as usize].spec;
            s.consequence || s.marks_failure
        }) {
            // Only the last few matter: the fallback looks back LOOKBACK_LINES.
            if self.summary_spans.len() == 16 {
                self.summary_spans.pop_front();
            }
            self.summary_spans.push_back((cand.start, cand.end));
        }
        rank::join_test_id(&mut cand.captures);
        let has_location = cand.captures.contains_key("file") && cand.captures.contains_key("line");
        cand.evidence = match (
            cand.evidence,
            has_location || cand.captures.contains_key("test"),
        ) {
            (Evidence::Fallback, _) => Evidence::Fallback,
            (_, true) => {
                let parsed = cand
                    .rule
                    .is_some_and(|r| self.m.rules.rules[r as usize].spec.parser.is_some());
                if parsed && has_location {
                    Evidence::Parsed
                } else {
                    Evidence::Located
                }
            }
            (e, false) => e,
        };
        let rule_id = cand
            .rule
            .map(|r| self.m.rules.rules[r as usize].spec.id.as_str())
            .unwrap_or("cars.failure-context");
        let fp = rank::fingerprint(rule_id, &cand);
        if let Some(&i) = self.by_fingerprint.get(&fp) {
            self.cands[i].occurrences += 1;
            return;
        }
        if self.cands.len() >= MAX_CANDIDATES {
            return;
        }
        // Excerpts share one budget: past it, findings keep only their first line.
        if self.excerpt_bytes > EXCERPT_BUDGET {
            cand.excerpt.truncate(1);
        }
        self.excerpt_bytes += cand.excerpt.iter().map(String::len).sum::<usize>();
        self.by_fingerprint.insert(fp, self.cands.len());
        self.cands.push(cand);
    }

    /// When a step fails and no rule explains why, the lines just before the failure
    /// marker usually do: take the nearest one that reads like an error.
    fn lookback(&self, n: u64, block: &[u8], start: usize) -> Option<Candidate> {
        let lines = self.lines_above(block, start, LOOKBACK_LINES);
        // lines[0] is the line just before the marker. Lines a rule knows to be a
        // summary (consequences, other failure markers) or CI noise are skipped.
        #[derive(PartialEq)]
        enum Kind {
            Blank,
            Skip,
            Errorish,
            Plain,
        }
        let mut window: Vec<(u64, String, Kind, bool)> = Vec::new();
        for (i, raw) in lines.iter().enumerate() {
            let number = n - 1 - i as u64;
            if ci::raw_step_event(raw).is_some() {
                break;
            }
            let line = ci::normalise(log::clean_line(raw));
            if line.step.is_some() {
                break;
            }
            let t = line.text.trim();
            let kind = if t.is_empty() {
                Kind::Blank
            } else if is_ci_noise(t) || self.is_summary(&line.text) {
                Kind::Skip
            } else if classify::ERROR_WORDS
                .iter()
                .any(|w| t.to_ascii_lowercase().contains(w))
            {
                Kind::Errorish
            } else {
                Kind::Plain
            };
            let in_summary = self
                .summary_spans
                .iter()
                .any(|&(a, b)| (a..=b).contains(&number));
            window.push((number, line.text, kind, in_summary));
        }
        // An error-like line above a summary block (npm's `npm ERR!` paragraph says
        // the cause is above it) comes first; else the nearest error-like line, then
        // the nearest plain one, summary blocks included.
        let outside = window
            .iter()
            .position(|(_, _, k, s)| *k == Kind::Errorish && !s);
        let anchor = outside
            .or_else(|| window.iter().position(|(_, _, k, _)| *k == Kind::Errorish))
            .or_else(|| window.iter().position(|(_, _, k, _)| *k == Kind::Plain))?;
        // The error's paragraph: back over non-blank, non-summary lines (at most 12),
        // and forward to the last such line before a blank or a summary.
        let content = |(_, _, k, s): &(u64, String, Kind, bool)| {
            matches!(k, Kind::Errorish | Kind::Plain) && !(outside.is_some() && *s)
        };
        let mut first = anchor;
        while first + 1 < window.len() && anchor + 11 > first && content(&window[first + 1]) {
            first += 1;
        }
        let mut last = anchor;
        while last > 0 && last + 4 > anchor && content(&window[last - 1]) {
            last -= 1;
        }
        let mut excerpt = Vec::new();
        for (_, t, _, _) in window[last..=first].iter().rev() {
            push_excerpt(&mut excerpt, t);
        }
        let text = window[anchor].1.clone();
        let mut captures = BTreeMap::new();
        captures.insert("message".to_string(), text.trim().to_string());
        Some(Candidate {
            rule: None,
            start: window[first].0,
            end: window[last].0,
            step: self.current_step,
            captures,
            excerpt,
            evidence: Evidence::Fallback,
            occurrences: 1,
            line_hash: mask::masked_hash(&text),
            category: Some(classify::fallback_category(&text)),
        })
    }

    /// The raw lines before the one at `start` of `block`, nearest first, at most
    /// `max`; the previous block's tail continues them across a block edge.
    fn lines_above<'a>(&'a self, block: &'a [u8], start: usize, max: usize) -> Vec<&'a [u8]> {
        let mut lines: Vec<&[u8]> = Vec::with_capacity(max.min(LOOKBACK_LINES));
        let mut end = start;
        let mut src: &[u8] = block;
        let mut used_tail = false;
        while lines.len() < max {
            if end == 0 {
                if used_tail || self.prev_tail.is_empty() {
                    break;
                }
                src = &self.prev_tail;
                end = src.len();
                used_tail = true;
                continue;
            }
            let s = memchr::memrchr(b'\n', &src[..end - 1])
                .map(|i| i + 1)
                .unwrap_or(0);
            lines.push(&src[s..end]);
            end = s;
        }
        lines
    }

    /// Fills the captures a matched line lacks from the nearest header line above it
    /// (within the header's reach, not past its `until` or a CI step boundary).
    fn header_captures(
        &mut self,
        rule: u32,
        n: u64,
        header: &CompiledHeader,
        block: &[u8],
        start: usize,
        captures: &mut BTreeMap<String, String>,
    ) {
        let found = self.find_header(rule, n, header, block, start);
        for (k, v) in &found {
            captures.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.last_header = Some((rule, n, found));
    }

    fn find_header(
        &self,
        rule: u32,
        n: u64,
        header: &CompiledHeader,
        block: &[u8],
        start: usize,
    ) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        for (i, raw) in self
            .lines_above(block, start, header.max_lines)
            .into_iter()
            .enumerate()
        {
            if let Some((r, at, caps)) = &self.last_header {
                if *r == rule && *at == n - 1 - i as u64 {
                    return caps.clone();
                }
            }
            if ci::raw_step_event(raw).is_some() {
                break;
            }
            let line = ci::normalise(log::clean_line(raw));
            if line.step.is_some() {
                break;
            }
            let text = line.text.as_str();
            if header.until.as_ref().is_some_and(|u| u.is_match(text)) {
                break;
            }
            if let Some(caps) = header.regex.named_captures(text) {
                found.extend(caps);
                break;
            }
        }
        found
    }

    /// A line that only summarises a failure reported elsewhere.
    fn is_summary(&self, text: &str) -> bool {
        self.try_rules(text).is_some_and(|(ri, _)| {
            let s = &self.m.rules.rules[ri as usize].spec;
            s.consequence || s.marks_failure || s.ignore
        })
    }

    /// The findings so far, ranked, without ending the analysis: for live views of a
    /// running job. A block still open and failure-context fallbacks only appear
    /// in `finish`.
    pub fn snapshot(&self) -> Vec<Finding> {
        rank::rank(self.m.rules, self.cands.clone(), &self.steps)
    }

    /// Ends the analysis: closes open blocks, explains unexplained failures, drops
    /// baseline noise, merges duplicates and ranks.
    pub fn finish(mut self) -> Analysis {
        self.close_block();
        let failures = std::mem::take(&mut self.failures);
        let mut explained_steps: HashSet<Option<usize>> = HashSet::new();
        for failure in failures {
            if explained_steps.contains(&failure.step) {
                continue;
            }
            let explained = self
                .cands
                .iter()
                .any(|c| c.step == failure.step && c.start < failure.line && self.is_cause(c));
            if !explained {
                if let Some(f) = failure.fallback {
                    self.push(f);
                    explained_steps.insert(failure.step);
                }
            }
        }
        // A log without any failure marker and without any error: it may have been cut
        // off (killed, timed out) right after its cause, so look at its last lines.
        // Only lines that read like an error qualify, and the finding is a warning.
        if self.failures.is_empty() && !self.cands.iter().any(|c| self.is_cause(c)) {
            if let Some(mut f) = self.lookback(self.line_no + 1, &[], 0) {
                let text = f.excerpt.concat().to_ascii_lowercase();
                if classify::ERROR_WORDS.iter().any(|w| text.contains(w)) {
                    f.captures.insert("level".into(), "warning".into());
                    self.push(f);
                }
            }
        }
        if let Some(baseline) = &self.opts.baseline {
            self.cands
                .retain(|c| !baseline.hashes.contains(&c.line_hash));
        }
        manifest::locate(
            self.m.rules,
            &mut self.cands,
            self.opts.manifest_dir.as_deref(),
        );
        let findings = rank::rank(self.m.rules, self.cands, &self.steps);
        Analysis {
            source: self.source,
            lines: self.line_no,
            findings,
            steps: self.steps.into_iter().map(|s| s.name).collect(),
        }
    }
}

impl Analyzer<'_, '_> {
    /// A rule-found error that is not a mere summary of another.
    fn is_cause(&self, c: &Candidate) -> bool {
        c.rule.is_some_and(|r| {
            let s = &self.m.rules.rules[r as usize].spec;
            let warning = c
                .captures
                .get("level")
                .is_some_and(|l| l.to_ascii_lowercase().starts_with("warn"));
            !s.consequence && s.level == Level::Error && !warning
        })
    }
}

fn continue_block(rules: &RuleSet, open: &mut OpenBlock, text: &str) -> Next {
    let rule = &rules.rules[open.cand.rule.unwrap_or(0) as usize];
    let block = rule.block();
    let max = block.map(|b| b.max_lines).unwrap_or(200);
    if open.lines >= max {
        return Next::Stop;
    }
    if let Some(p) = &mut open.parser {
        return p.feed(text, &mut open.cand.captures);
    }
    let Some(block) = block else {
        return Next::Stop;
    };
    if let Some(until) = &block.until {
        if until.is_match(text) {
            return Next::Stop;
        }
    } else if block.while_.is_none() && text.trim().is_empty() {
        // Without an explicit end, a blank line ends the block.
        return Next::Stop;
    }
    if let Some(w) = &block.while_ {
        if !w.is_match(text) {
            return Next::Stop;
        }
    }
    project_frame(block, &mut open.frames, text, &mut open.cand.captures);
    for re in &block.captures {
        for (name, v) in re.named_captures(text).unwrap_or_default() {
            open.cand.captures.entry(name).or_insert(v);
        }
    }
    Next::Absorb
}

/// Whether the first line's own file stands against the block's frames: not when the
/// `library` pattern also matches that file (a Rust panic located in the standard
/// library or a dependency, whose backtrace then names the project's line).
fn first_line_located(rule: &Rule, captures: &BTreeMap<String, String>) -> bool {
    let Some(file) = captures.get("file") else {
        return false;
    };
    let library = rule.block().and_then(|b| b.library.as_ref());
    !library.is_some_and(|l| l.is_match(file))
}

/// The first stack frame in project code (not matching `library`) gives the location,
/// unless the error's first line had one. With `innermost_last` every later project
/// frame replaces it; the first `skip_frames` project frames are only counted.
fn project_frame(
    block: &CompiledBlock,
    state: &mut FrameState,
    text: &str,
    captures: &mut BTreeMap<String, String>,
) {
    let Some(frame) = &block.frame else {
        return;
    };
    let wanted = block.innermost_last || (!state.line_located && !state.located);
    if !wanted || block.library.as_ref().is_some_and(|l| l.is_match(text)) {
        return;
    }
    let Some(groups) = frame.groups(text) else {
        return;
    };
    state.seen += 1;
    if state.seen <= block.skip_frames {
        return;
    }
    state.located = true;
    captures.remove("line");
    captures.remove("column");
    for (name, v) in groups {
        captures.insert(name.to_string(), v.trim().to_string());
    }
}

/// Adds the captures of `from` that `to` lacks.
fn fill_missing(to: &mut BTreeMap<String, String>, from: BTreeMap<String, String>) {
    for (k, v) in from {
        to.entry(k).or_insert(v);
    }
}

fn push_excerpt(excerpt: &mut Vec<String>, text: &str) {
    if excerpt.len() < MAX_EXCERPT {
        let mut t: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
        if t.len() < text.len() {
            t.push('…');
        }
        excerpt.push(t);
    }
}

/// Lines in `bytes`: newlines, plus a final line without one.
fn count_lines(bytes: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', bytes).count() as u64;
    n + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

fn is_ci_noise(t: &str) -> bool {
    const NOISE: &[&str] = &[
        "travis_time:",
        "travis_fold:",
        "##[endgroup]",
        "Done. Your build exited with",
        "section_end:",
        "[Pipeline] }",
        "[Pipeline] //",
        "Post job cleanup",
        "Cleaning up",
        "Uploading artifacts",
        "ERROR: Job failed",
    ];
    NOISE.iter().any(|n| t.contains(n))
}
