//! Generates a large, deterministic, realistic GitHub Actions log for benchmarking
//! `cars analyze` (see scripts/bench.sh).
//!
//!     cargo run --release --example genlog -- --size 1GiB --out target/bench/ci-1GiB.log
//!
//! Options:
//!   --size N          bytes to write, exactly (suffixes: K, KiB, M, MiB, G, GiB); default 1GiB
//!   --out PATH        where to write (`-` for stdout); default stdout
//!   --seed N          the xorshift seed; default 0x5eed_cafe_f00d_1234
//!   --error-every N   mean number of lines between two real error blocks; default 100000
//!
//! Every line carries a GitHub Actions timestamp. Steps are framed by
//! `##[group]Run ...` / `##[endgroup]`. Almost every line is noise as real builds print
//! it (cargo, npm, pip, pytest/jest/cargo test progress, webpack stats, Maven [INFO],
//! git/docker/cache lines with long paths and hashes), including lines with benign
//! words that a naive keyword grep would flag ("0 errors", "warning-free",
//! "ErrorBoundary.tsx", "Failures: 0"). About once every `--error-every` lines a real
//! error block is inserted (rustc, Python traceback, pytest FAILED, jest ●, Maven
//! [ERROR], npm ERR!, gcc), in the formats those tools print (taken from the logs in
//! ../shared/corpus). The log ends with `##[error]Process completed with exit code 1.`
//!
//! The output is byte-for-byte identical for the same options (hand-rolled xorshift,
//! no external crates), and exactly `--size` bytes long.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};

// ---------------------------------------------------------------------------------
// Random numbers: xorshift64* (Vigna), fixed seed.

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in 0..n (n > 0); the modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 11) % n
    }
    fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn hex(&mut self, out: &mut String, digits: usize) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut left = digits;
        while left > 0 {
            let mut r = self.next();
            for _ in 0..left.min(16) {
                out.push(HEX[(r & 15) as usize] as char);
                r >>= 4;
            }
            left = left.saturating_sub(16);
        }
    }
}

// ---------------------------------------------------------------------------------
// Word lists.

const CRATES: &[&str] = &[
    "serde",
    "serde_derive",
    "serde_json",
    "tokio",
    "tokio-macros",
    "hyper",
    "h2",
    "http",
    "bytes",
    "futures-util",
    "futures-core",
    "syn",
    "quote",
    "proc-macro2",
    "unicode-ident",
    "libc",
    "cfg-if",
    "log",
    "regex",
    "regex-syntax",
    "regex-automata",
    "aho-corasick",
    "memchr",
    "itoa",
    "ryu",
    "once_cell",
    "lazy_static",
    "rand",
    "rand_core",
    "getrandom",
    "clap",
    "clap_builder",
    "clap_derive",
    "anstream",
    "anstyle",
    "strsim",
    "heck",
    "indexmap",
    "hashbrown",
    "smallvec",
    "parking_lot",
    "parking_lot_core",
    "lock_api",
    "scopeguard",
    "tracing",
    "tracing-core",
    "tracing-attributes",
    "pin-project-lite",
    "mio",
    "socket2",
    "rustls",
    "ring",
    "untrusted",
    "webpki-roots",
    "base64",
    "url",
    "idna",
    "percent-encoding",
    "time",
    "chrono",
    "num-traits",
    "autocfg",
    "thiserror",
    "thiserror-impl",
    "anyhow",
    "error-chain",
    "miette",
    "flate2",
    "crc32fast",
    "miniz_oxide",
    "adler",
    "toml",
    "toml_edit",
    "winnow",
    "tempfile",
    "fastrand",
    "rustix",
    "linux-raw-sys",
    "bitflags",
    "either",
    "itertools",
    "crossbeam-utils",
    "crossbeam-channel",
    "rayon",
    "rayon-core",
    "sha2",
    "digest",
    "generic-array",
    "typenum",
    "block-buffer",
    "cpufeatures",
];

const LOCAL_CRATES: &[&str] = &[
    "acme-core",
    "acme-server",
    "acme-cli",
    "acme-storage",
    "acme-proto",
    "acme-auth",
    "acme-metrics",
    "acme-testutil",
];

const NPM_PKGS: &[&str] = &[
    "lodash",
    "react",
    "react-dom",
    "typescript",
    "webpack",
    "webpack-cli",
    "babel-loader",
    "@babel/core",
    "@babel/preset-env",
    "@types/node",
    "@types/react",
    "eslint",
    "eslint-plugin-react",
    "prettier",
    "jest",
    "ts-jest",
    "chalk",
    "commander",
    "semver",
    "glob",
    "minimatch",
    "rimraf",
    "uuid",
    "axios",
    "express",
    "debug",
    "ms",
    "inherits",
    "safe-buffer",
    "readable-stream",
    "source-map",
    "postcss",
    "autoprefixer",
    "css-loader",
    "style-loader",
    "error-stack-parser",
    "stackframe",
    "inflight",
    "graceful-fs",
    "@testing-library/react",
    "@testing-library/jest-dom",
    "yargs",
    "yargs-parser",
];

const PY_PKGS: &[(&str, &str)] = &[
    ("requests", "2.31.0"),
    ("urllib3", "2.2.1"),
    ("certifi", "2024.2.2"),
    ("charset-normalizer", "3.3.2"),
    ("idna", "3.6"),
    ("numpy", "1.26.4"),
    ("pandas", "2.2.1"),
    ("python-dateutil", "2.9.0.post0"),
    ("pytz", "2024.1"),
    ("six", "1.16.0"),
    ("pytest", "8.1.1"),
    ("pluggy", "1.4.0"),
    ("iniconfig", "2.0.0"),
    ("packaging", "24.0"),
    ("pytest-cov", "5.0.0"),
    ("coverage", "7.4.4"),
    ("attrs", "23.2.0"),
    ("click", "8.1.7"),
    ("Jinja2", "3.1.3"),
    ("MarkupSafe", "2.1.5"),
    ("pyyaml", "6.0.1"),
    ("sqlalchemy", "2.0.29"),
    ("greenlet", "3.0.3"),
    ("typing_extensions", "4.10.0"),
    ("pydantic", "2.6.4"),
    ("pydantic_core", "2.16.3"),
    ("annotated-types", "0.6.0"),
    ("boto3", "1.34.74"),
    ("botocore", "1.34.74"),
    ("jmespath", "1.0.1"),
    ("s3transfer", "0.10.1"),
];

const JAVA_GROUPS: &[&str] = &[
    "org/apache/maven/plugins",
    "org/springframework/boot",
    "org/springframework",
    "com/fasterxml/jackson/core",
    "org/slf4j",
    "ch/qos/logback",
    "org/junit/jupiter",
    "org/mockito",
    "org/apache/commons",
    "com/google/guava",
    "org/projectlombok",
    "io/netty",
    "org/hibernate/orm",
    "org/yaml",
];

const JAVA_ARTIFACTS: &[&str] = &[
    "maven-surefire-plugin",
    "maven-compiler-plugin",
    "maven-jar-plugin",
    "spring-core",
    "spring-context",
    "spring-beans",
    "jackson-databind",
    "jackson-core",
    "slf4j-api",
    "logback-classic",
    "junit-jupiter-api",
    "junit-jupiter-engine",
    "mockito-core",
    "commons-lang3",
    "guava",
    "lombok",
    "netty-handler",
    "hibernate-core",
    "snakeyaml",
];

const MODULES: &[&str] = &[
    "parser",
    "lexer",
    "config",
    "storage",
    "cache",
    "http",
    "client",
    "server",
    "auth",
    "session",
    "metrics",
    "report",
    "render",
    "scheduler",
    "worker",
    "queue",
    "codec",
    "index",
    "query",
    "planner",
    "util",
    "events",
    "retry",
    "backoff",
    "dns",
    "tls",
];

const VERBS: &[&str] = &[
    "parses",
    "handles",
    "rejects",
    "accepts",
    "roundtrips",
    "serializes",
    "merges",
    "retries",
    "caches",
    "evicts",
    "streams",
    "validates",
    "formats",
    "resolves",
];

const NOUNS: &[&str] = &[
    "empty_input",
    "unicode",
    "large_payload",
    "nested_objects",
    "timeouts",
    "missing_fields",
    "duplicate_keys",
    "utf8_boundaries",
    "zero_length",
    "trailing_comma",
    "error_display",
    "source_chain",
    "expired_tokens",
    "redirects",
    "partial_reads",
];

const COMPONENTS: &[&str] = &[
    "Button",
    "Header",
    "Footer",
    "Sidebar",
    "Modal",
    "Dropdown",
    "UserMenu",
    "DataTable",
    "SearchBar",
    "ErrorBoundary",
    "LoginForm",
    "Settings",
    "Dashboard",
    "Chart",
    "Toast",
];

const JAVA_CLASSES: &[&str] = &[
    "UserService",
    "OrderController",
    "PaymentGateway",
    "InventoryRepository",
    "MonitorService",
    "AlertManager",
    "ConfigLoader",
    "TokenValidator",
    "ErrorHandler",
    "ReportGenerator",
    "CacheManager",
    "EventPublisher",
];

// ---------------------------------------------------------------------------------
// Timestamps: 2024-05-01T10:00:00.0000000Z, advancing by a few hundred µs a line.

struct Clock {
    day: u32,   // day of May 2024 .. (rolls into June/July; enough for any size)
    nanos: u64, // nanoseconds since midnight
}

impl Clock {
    fn advance(&mut self, rng: &mut Rng) {
        // Mostly tiny steps, sometimes a pause (a download, a test run).
        let step = if rng.chance(2) {
            rng.range(1_000_000, 3_000_000_000)
        } else {
            rng.range(10_000, 900_000)
        };
        self.nanos += step;
        const DAY: u64 = 86_400_000_000_000;
        while self.nanos >= DAY {
            self.nanos -= DAY;
            self.day += 1;
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        let (month, day) = match self.day {
            d if d <= 31 => (5, d),
            d if d <= 61 => (6, d - 31),
            d => (7, (d - 61).min(31)),
        };
        let secs = self.nanos / 1_000_000_000;
        let frac = (self.nanos % 1_000_000_000) / 100; // 7 digits, like GitHub
        out.extend_from_slice(b"2024-");
        push_num(out, month as u64, 2);
        out.push(b'-');
        push_num(out, day as u64, 2);
        out.push(b'T');
        push_num(out, secs / 3600, 2);
        out.push(b':');
        push_num(out, secs / 60 % 60, 2);
        out.push(b':');
        push_num(out, secs % 60, 2);
        out.push(b'.');
        push_num(out, frac, 7);
        out.extend_from_slice(b"Z ");
    }
}

fn push_num(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    while n > 0 || i == digits.len() {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for _ in (digits.len() - i)..width {
        out.push(b'0');
    }
    out.extend_from_slice(&digits[i..]);
}

/// Timestamp + space, as in `2024-05-01T10:00:00.1234567Z `.
const TS_LEN: usize = 29;

// ---------------------------------------------------------------------------------
// The generator: fills `text` with one or more lines (without timestamps), which
// `emit` prefixes with timestamps.

struct Gen {
    rng: Rng,
    clock: Clock,
    out: Vec<u8>, // pending bytes (flushed by the caller)
    lines: u64,   // lines written
    scratch: String,
    step: u32, // which kind of step the job is in (biases the noise)
}

const STEPS: &[&str] = &[
    "cargo build --locked --all-targets",
    "cargo test --locked --workspace",
    "npm ci",
    "npm run build",
    "npx jest --ci",
    "pip install -r requirements-dev.txt",
    "python -m pytest -n auto tests/",
    "mvn -B verify --file pom.xml",
    "make -j4",
    "docker build -t acme/app:ci .",
];

impl Gen {
    fn line(&mut self, text: &str) {
        self.clock.advance(&mut self.rng);
        self.clock.write(&mut self.out);
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'\n');
        self.lines += 1;
    }

    /// Emits the scratch buffer as one line.
    fn flush_scratch(&mut self) {
        let s = std::mem::take(&mut self.scratch);
        self.line(&s);
        self.scratch = s;
        self.scratch.clear();
    }

    fn group(&mut self, step: usize) {
        self.step = step as u32;
        let cmd = STEPS[step];
        self.line("##[endgroup]");
        self.line(&format!("##[group]Run {cmd}"));
        self.line(&format!("\x1b[36;1m{cmd}\x1b[0m"));
        self.line("shell: /usr/bin/bash -e {0}");
        self.line("env:");
        self.line("  CARGO_TERM_COLOR: always");
        self.line("  RUST_BACKTRACE: 1");
        self.line("  pythonLocation: /opt/hostedtoolcache/Python/3.11.8/x64");
        self.line("##[endgroup]");
    }

    /// One noise line (sometimes a few) typical of the current step.
    fn noise(&mut self) {
        // 60% from the current step's tool, 39% any tool, 1% benign words that a
        // naive keyword grep trips over. Calibrated so that the share of lines holding
        // a rule keyword (~13%) is close to that of the real logs in shared/corpus.
        let kind = if self.rng.chance(60) {
            self.step as u64
        } else if self.rng.below(100) < 98 {
            self.rng.below(11)
        } else {
            11
        };
        let r = &mut self.rng;
        let s = &mut self.scratch;
        s.clear();
        match kind {
            // cargo build
            0 => match r.below(10) {
                0..=5 => {
                    let c = *r.pick(CRATES);
                    let _ = write!(
                        s,
                        "   Compiling {c} v{}.{}.{}",
                        r.below(3),
                        r.below(60),
                        r.below(20)
                    );
                }
                6 => {
                    let c = *r.pick(LOCAL_CRATES);
                    let _ = write!(
                        s,
                        "   Compiling {c} v0.{}.0 (/home/runner/work/acme/acme/crates/{c})",
                        r.below(9)
                    );
                }
                7 => {
                    let c = *r.pick(CRATES);
                    let _ = write!(
                        s,
                        "  Downloaded {c} v{}.{}.{}",
                        r.below(3),
                        r.below(60),
                        r.below(20)
                    );
                }
                8 => {
                    let c = *r.pick(CRATES);
                    let _ = write!(
                        s,
                        "    Checking {c} v{}.{}.{}",
                        r.below(3),
                        r.below(60),
                        r.below(20)
                    );
                }
                _ => {
                    let _ = write!(
                        s,
                        "    Finished `release` profile [optimized] target(s) in {}.{:02}s",
                        r.range(20, 400),
                        r.below(100)
                    );
                }
            },
            // cargo test
            1 => match r.below(40) {
                0..=36 => {
                    let m = *r.pick(MODULES);
                    let v = *r.pick(VERBS);
                    let n = *r.pick(NOUNS);
                    let _ = write!(s, "test {m}::tests::{v}_{n} ... ok");
                }
                37 => {
                    let m = *r.pick(MODULES);
                    let _ = write!(s, "test {m}::tests::slow_roundtrip ... ignored");
                }
                38 => {
                    let n = r.range(5, 400);
                    let _ = write!(
                        s,
                        "test result: ok. {n} passed; 0 failed; {} ignored; 0 measured; 0 filtered out; finished in {}.{:02}s",
                        r.below(4),
                        r.below(30),
                        r.below(100)
                    );
                }
                _ => {
                    let c = *r.pick(LOCAL_CRATES);
                    let h = {
                        let mut h = String::new();
                        r.hex(&mut h, 16);
                        h
                    };
                    let _ = write!(
                        s,
                        "     Running unittests src/lib.rs (target/debug/deps/{}-{h})",
                        c.replace('-', "_")
                    );
                }
            },
            // npm ci
            2 => match r.below(16) {
                0..=10 => {
                    let p = *r.pick(NPM_PKGS);
                    let _ = write!(
                        s,
                        "npm http fetch GET 200 https://registry.npmjs.org/{p}/-/{}-{}.{}.{}.tgz {}ms (cache miss)",
                        p.rsplit('/').next().unwrap_or(p),
                        r.below(20),
                        r.below(30),
                        r.below(20),
                        r.range(3, 900)
                    );
                }
                11 => {
                    let p = *r.pick(NPM_PKGS);
                    let _ = write!(s, "npm WARN deprecated {p}@{}.{}.{}: This module is not supported, and leaks memory. Do not use it.", r.below(9), r.below(20), r.below(9));
                }
                12 => {
                    let _ = write!(
                        s,
                        "added {} packages, and audited {} packages in {}s",
                        r.range(300, 2000),
                        r.range(300, 2000),
                        r.range(5, 90)
                    );
                }
                13 => {
                    let _ = write!(s, "found 0 vulnerabilities");
                }
                _ => {
                    let _ = write!(s, "{} packages are looking for funding", r.range(50, 300));
                }
            },
            // webpack / npm run build
            3 => {
                match r.below(24) {
                    0..=11 => {
                        let c = *r.pick(COMPONENTS);
                        let mut h = String::new();
                        r.hex(&mut h, 8);
                        let _ = write!(s, "asset static/js/{}.{h}.chunk.js {}.{} KiB [emitted] [immutable] [minimized] (id hint: vendors) 1 related asset", c.to_lowercase(), r.range(1, 400), r.below(10));
                    }
                    12..=17 => {
                        let c = *r.pick(COMPONENTS);
                        let _ = write!(
                            s,
                            "./src/components/{c}/{c}.tsx {}.{} KiB [built] [code generated]",
                            r.range(1, 40),
                            r.below(10)
                        );
                    }
                    18..=20 => {
                        let _ = write!(
                            s,
                            "orphan modules {}.{} MiB [orphan] {} modules",
                            r.range(1, 9),
                            r.below(10),
                            r.range(100, 900)
                        );
                    }
                    21..=22 => {
                        let _ = write!(
                            s,
                            "webpack 5.90.3 compiled successfully in {} ms",
                            r.range(3000, 90000)
                        );
                    }
                    _ => {
                        let _ = write!(s, "  src/components/ErrorBoundary.tsx  {}.{} KiB  no errors, warning-free", r.range(1, 9), r.below(10));
                    }
                }
            }
            // jest
            4 => match r.below(20) {
                0..=14 => {
                    let v = *r.pick(VERBS);
                    let n = *r.pick(NOUNS);
                    let _ = write!(
                        s,
                        "      \x1b[32m✓\x1b[39m \x1b[2m{v} {} ({} ms)\x1b[22m",
                        n.replace('_', " "),
                        r.range(1, 300)
                    );
                }
                15..=16 => {
                    let c = *r.pick(COMPONENTS);
                    let _ = write!(
                        s,
                        "PASS src/components/{c}/{c}.test.tsx ({}.{:03} s)",
                        r.range(1, 20),
                        r.below(1000)
                    );
                }
                17..=18 => {
                    let c = *r.pick(COMPONENTS);
                    let _ = write!(s, "  {c}");
                }
                _ => {
                    let n = r.range(50, 900);
                    let _ = write!(s, "Tests:       {n} passed, {n} total");
                }
            },
            // pip
            5 => match r.below(8) {
                0..=1 => {
                    let (p, v) = *r.pick(PY_PKGS);
                    let _ = write!(s, "Collecting {p}>={v}");
                }
                2..=3 => {
                    let (p, v) = *r.pick(PY_PKGS);
                    let _ = write!(
                        s,
                        "  Downloading {}-{v}-py3-none-any.whl ({} kB)",
                        p.replace('-', "_"),
                        r.range(5, 900)
                    );
                }
                4..=5 => {
                    let k = r.range(5, 900);
                    let d = r.below(10);
                    let _ = write!(s, "     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ {k}.{d}/{k}.{d} kB {}.{} MB/s eta 0:00:00", r.range(1, 90), r.below(10));
                }
                6 => {
                    let (p, v) = *r.pick(PY_PKGS);
                    let _ = write!(s, "Requirement already satisfied: {p}>={v} in /opt/hostedtoolcache/Python/3.11.8/x64/lib/python3.11/site-packages (from -r requirements-dev.txt (line {}))", r.range(1, 60));
                }
                _ => {
                    let _ = write!(s, "Successfully installed ");
                    for _ in 0..r.range(3, 12) {
                        let (p, v) = *r.pick(PY_PKGS);
                        let _ = write!(s, "{p}-{v} ");
                    }
                }
            },
            // pytest
            6 => match r.below(20) {
                0..=11 => {
                    let m = *r.pick(MODULES);
                    let _ = write!(s, "tests/test_{m}.py ");
                    for _ in 0..r.range(5, 60) {
                        s.push(if r.chance(3) { 's' } else { '.' });
                    }
                    let _ = write!(s, " [ {:2}%]", r.below(100));
                }
                12..=16 => {
                    let m = *r.pick(MODULES);
                    let v = *r.pick(VERBS);
                    let n = *r.pick(NOUNS);
                    let _ = write!(
                        s,
                        "[gw{}] [ {:2}%] PASSED tests/test_{m}.py::test_{v}_{n} ",
                        r.below(2),
                        r.below(100)
                    );
                }
                17 => {
                    let m = *r.pick(MODULES);
                    let _ = write!(
                        s,
                        "tests/test_{m}.py::test_error_messages_are_stable PASSED [ {:2}%]",
                        r.below(100)
                    );
                }
                18 => {
                    let _ = write!(s, "collected {} items", r.range(50, 3000));
                }
                _ => {
                    let _ = write!(s, "platform linux -- Python 3.11.8, pytest-8.1.1, pluggy-1.4.0 -- /opt/hostedtoolcache/Python/3.11.8/x64/bin/python");
                }
            },
            // maven
            7 => match r.below(14) {
                0..=7 => {
                    let g = *r.pick(JAVA_GROUPS);
                    let a = *r.pick(JAVA_ARTIFACTS);
                    let v = format!("{}.{}.{}", r.range(1, 6), r.below(20), r.below(12));
                    if r.chance(50) {
                        let _ = write!(s, "[INFO] Downloading from central: https://repo.maven.apache.org/maven2/{g}/{a}/{v}/{a}-{v}.pom");
                    } else {
                        let _ = write!(s, "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/{g}/{a}/{v}/{a}-{v}.jar ({} kB at {}.{} MB/s)", r.range(2, 900), r.range(1, 9), r.below(10));
                    }
                }
                8 => {
                    let c = *r.pick(JAVA_CLASSES);
                    let _ = write!(s, "[INFO] Tests run: {}, Failures: 0, Errors: 0, Skipped: {}, Time elapsed: {}.{:03} s - in com.acme.service.{c}Test", r.range(1, 40), r.below(3), r.below(10), r.below(1000));
                }
                9 => {
                    let c = *r.pick(JAVA_CLASSES);
                    let _ = write!(s, "[INFO] Running com.acme.service.{c}Test");
                }
                10 => {
                    let a = *r.pick(JAVA_ARTIFACTS);
                    let _ = write!(
                        s,
                        "[INFO] --- {a}:{}.{}.{}:compile (default-compile) @ acme-core ---",
                        r.range(1, 3),
                        r.below(12),
                        r.below(5)
                    );
                }
                11 => {
                    let _ = write!(s, "[INFO] Compiling {} source files with javac [debug release 17] to target/classes", r.range(10, 800));
                }
                _ => {
                    let _ = write!(s, "[INFO] ");
                }
            },
            // make / gcc
            8 => match r.below(6) {
                0..=3 => {
                    let m = *r.pick(MODULES);
                    let werror = if r.chance(30) {
                        " -Werror=implicit-function-declaration"
                    } else {
                        ""
                    };
                    let _ = write!(s, "gcc -DHAVE_CONFIG_H -I. -I./include  -Wall -Wextra{werror} -O2 -g -MT src/{m}.o -MD -MP -MF src/.deps/{m}.Tpo -c -o src/{m}.o src/{m}.c");
                }
                4 => {
                    let m = *r.pick(MODULES);
                    let _ = write!(s, "mv -f src/.deps/{m}.Tpo src/.deps/{m}.Po");
                }
                _ => {
                    let _ = write!(
                        s,
                        "make[{}]: Entering directory '/home/runner/work/acme/acme/src'",
                        r.range(1, 3)
                    );
                }
            },
            // docker
            9 => {
                let mut h = String::new();
                r.hex(&mut h, 64);
                match r.below(4) {
                    0..=1 => {
                        let a = r.range(1, 90);
                        let _ = write!(
                            s,
                            "#{} sha256:{h} {}.{}MB / {a}.{}MB {}.{}s",
                            r.range(3, 30),
                            r.below(a),
                            r.below(10),
                            r.below(10),
                            r.below(30),
                            r.below(10)
                        );
                    }
                    2 => {
                        let _ = write!(s, "#{} writing image sha256:{h} done", r.range(3, 30));
                    }
                    _ => {
                        let _ = write!(s, "#{} [builder {}/9] RUN --mount=type=cache,target=/root/.cache pip install --no-cache-dir -r requirements.txt", r.range(3, 30), r.range(1, 9));
                    }
                }
            }
            // git / cache / runner
            10 => {
                let mut h = String::new();
                r.hex(&mut h, 40);
                match r.below(5) {
                    0 => {
                        let _ = write!(s, "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +{h}:refs/remotes/origin/main");
                    }
                    1 => {
                        let _ = write!(s, "Cache restored from key: Linux-cargo-{h}");
                    }
                    2 => {
                        let _ = write!(
                            s,
                            "Received {} of {} ({}.{}%), {}.{} MBs/sec",
                            r.range(1, 1 << 28),
                            r.range(1 << 28, 1 << 30),
                            r.below(100),
                            r.below(10),
                            r.range(1, 200),
                            r.below(10)
                        );
                    }
                    3 => {
                        let _ = write!(
                            s,
                            "/home/runner/work/acme/acme/node_modules/.cache/babel-loader/{h}.json"
                        );
                    }
                    _ => {
                        let _ = write!(
                            s,
                            "HEAD is now at {} Merge {h} into {}",
                            &h[..7],
                            &h[20..27]
                        );
                    }
                }
            }
            // benign words a keyword grep trips over
            _ => match r.below(8) {
                0 => {
                    let _ = write!(
                        s,
                        "Finished checking: 0 errors, 0 warnings, {} notes",
                        r.below(5)
                    );
                }
                1 => {
                    if r.chance(50) {
                        let _ = write!(
                            s,
                            "tsc --noEmit: Found 0 errors. Watching for file changes."
                        );
                    } else {
                        let _ = write!(
                            s,
                            "Success: no issues found in {} source files (mypy: 0 errors)",
                            r.range(20, 300)
                        );
                    }
                }
                2 => {
                    let c = *r.pick(JAVA_CLASSES);
                    let _ = write!(s, "[INFO] Tests run: {}, Failures: 0, Errors: 0, Skipped: 0 - in com.acme.{c}ErrorTest", r.range(1, 30));
                }
                3 => {
                    let _ = write!(s, "  error-stack-parser@2.1.4 (dedupe) stackframe@1.3.4 failure-recovery@0.{}.0", r.below(9));
                }
                4 => {
                    let _ = write!(s, "lint: {} files checked, warning-free", r.range(10, 900));
                }
                5 => {
                    let _ = write!(
                        s,
                        "  --no-fail-fast --error-format=json --timeout={}s",
                        r.range(60, 600)
                    );
                }
                6 => {
                    let _ = write!(
                        s,
                        "debug: ErrorReporter initialised (errorlevel=0, retries={})",
                        r.below(4)
                    );
                }
                _ => {
                    let _ = write!(s, "");
                }
            },
        }
        self.flush_scratch();
    }

    // -----------------------------------------------------------------------------
    // Real error blocks, in the formats the tools print.

    fn error_block(&mut self) {
        match self.rng.below(7) {
            0 => self.rustc_error(),
            1 => self.python_traceback(),
            2 => self.pytest_failed(),
            3 => self.jest_failed(),
            4 => self.maven_error(),
            5 => self.npm_err(),
            _ => self.gcc_error(),
        }
    }

    fn rustc_error(&mut self) {
        let m = *self.rng.pick(MODULES);
        let ln = self.rng.range(5, 900);
        let col = self.rng.range(5, 40);
        let lines: Vec<String> = match self.rng.below(2) {
            0 => vec![
                "error[E0308]: mismatched types".into(),
                format!("  --> src/{m}.rs:{ln}:{col}"),
                "   |".into(),
                format!("{ln} |     let x: i32 = \"five\";"),
                "   |            ---   ^^^^^^ expected `i32`, found `&str`".into(),
                "   |            |".into(),
                "   |            expected due to this".into(),
                "".into(),
            ],
            _ => vec![
                "error[E0425]: cannot find value `y` in this scope".into(),
                format!("  --> src/{m}.rs:{ln}:{col}"),
                "   |".into(),
                format!("{ln} |     println!(\"{{}}\", y);"),
                "   |                    ^ help: a local variable with a similar name exists: `x`"
                    .into(),
                "".into(),
            ],
        };
        for l in &lines {
            self.line(l);
        }
        self.line("For more information about this error, try `rustc --explain E0308`.");
        self.line("error: could not compile `acme-core` (lib) due to 1 previous error");
    }

    fn python_traceback(&mut self) {
        let m = *self.rng.pick(MODULES);
        let ln = self.rng.range(10, 500);
        self.line("Traceback (most recent call last):");
        self.line(&format!(
            "  File \"/home/runner/work/acme/acme/acme/{m}.py\", line {ln}, in load"
        ));
        self.line("    return json.loads(raw)");
        self.line("  File \"/opt/hostedtoolcache/Python/3.11.8/x64/lib/python3.11/json/__init__.py\", line 346, in loads");
        self.line("    return _default_decoder.decode(s)");
        self.line("  File \"/opt/hostedtoolcache/Python/3.11.8/x64/lib/python3.11/json/decoder.py\", line 337, in decode");
        self.line("    obj, end = self.raw_decode(s, idx=_w(s, 0).end())");
        self.line("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)");
    }

    fn pytest_failed(&mut self) {
        let m = *self.rng.pick(MODULES);
        let v = *self.rng.pick(VERBS);
        let n = *self.rng.pick(NOUNS);
        let ln = self.rng.range(10, 500);
        self.line(&format!(
            "_______________________________ test_{v}_{n} ________________________________"
        ));
        self.line("");
        self.line("    def test_roundtrip():");
        self.line("        data = build()");
        self.line(">       assert decode(encode(data)) == data");
        self.line("E       AssertionError: assert {'a': 1} == {'a': 2}");
        self.line("E         Differing items:");
        self.line("E         {'a': 1} != {'a': 2}");
        self.line("");
        self.line(&format!("tests/test_{m}.py:{ln}: AssertionError"));
        self.line(
            "=========================== short test summary info ============================",
        );
        self.line(&format!("FAILED tests/test_{m}.py::test_{v}_{n} - AssertionError: assert {{'a': 1}} == {{'a': 2}}"));
        let text = format!(
            "========================= 1 failed, {} passed in {}.{:02}s =========================",
            self.rng.range(100, 900),
            self.rng.range(5, 300),
            self.rng.below(100)
        );
        self.line(&text);
    }

    fn jest_failed(&mut self) {
        let c = *self.rng.pick(COMPONENTS);
        let ln = self.rng.range(10, 90);
        self.line(&format!("FAIL src/components/{c}/{c}.test.tsx"));
        self.line(&format!("  ● {c} › renders with label"));
        self.line("");
        self.line("    expect(received).toBe(expected) // Object.is equality");
        self.line("");
        self.line("    Expected: \"Submit\"");
        self.line("    Received: \"Cancel\"");
        self.line("");
        self.line(&format!(
            "    > {ln} |     expect(el.textContent).toBe('Submit');"
        ));
        self.line("         |                            ^");
        self.line("");
        self.line(&format!(
            "      at Object.<anonymous> (src/components/{c}/{c}.test.tsx:{ln}:28)"
        ));
        self.line("");
        let text = format!(
            "Tests:       1 failed, {} passed, {} total",
            self.rng.range(50, 400),
            self.rng.range(400, 500)
        );
        self.line(&text);
    }

    fn maven_error(&mut self) {
        let c = *self.rng.pick(JAVA_CLASSES);
        let ln = self.rng.range(10, 600);
        let text = format!("[ERROR] /home/runner/work/acme/acme/core/src/main/java/com/acme/service/{c}.java:[{ln},{}] cannot find symbol", self.rng.range(5, 60));
        self.line(&text);
        self.line("  symbol:   method getId()");
        self.line("  location: variable order of type com.acme.model.Order");
        self.line("[INFO] 1 error");
        self.line(
            "[INFO] ------------------------------------------------------------------------",
        );
        self.line("[INFO] BUILD FAILURE");
        self.line(
            "[INFO] ------------------------------------------------------------------------",
        );
        self.line("[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project acme-core: Compilation failure");
        self.line("[ERROR] -> [Help 1]");
    }

    fn npm_err(&mut self) {
        self.line("npm ERR! code ERESOLVE");
        self.line("npm ERR! ERESOLVE unable to resolve dependency tree");
        self.line("npm ERR! ");
        self.line("npm ERR! While resolving: acme-web@1.0.0");
        self.line("npm ERR! Found: react@18.2.0");
        self.line("npm ERR! Could not resolve dependency:");
        self.line("npm ERR! peer react@\"^16.8.0 || ^17.0.0\" from react-beautiful-dnd@13.1.1");
        self.line("npm ERR! A complete log of this run can be found in:");
        self.line("npm ERR!     /home/runner/.npm/_logs/2024-05-01T10_47_03_026Z-debug-0.log");
    }

    fn gcc_error(&mut self) {
        let m = *self.rng.pick(MODULES);
        let ln = self.rng.range(10, 900);
        self.line(&format!("src/{m}.c: In function 'parse_header':"));
        self.line(&format!(
            "src/{m}.c:{ln}:17: error: 'hdr_len' undeclared (first use in this function)"
        ));
        self.line(&format!("  {ln} |     if (len > hdr_len) {{"));
        self.line("      |               ^~~~~~~");
        self.line(&format!("src/{m}.c:{ln}:17: note: each undeclared identifier is reported only once for each function it appears in"));
        self.line(&format!("make[2]: *** [Makefile:412: src/{m}.o] Error 1"));
        self.line("make[1]: *** [Makefile:530: all-recursive] Error 1");
    }
}

// ---------------------------------------------------------------------------------

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().map_err(|_| format!("bad size: {s}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "kb" => 1000,
        "m" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        _ => return Err(format!("bad size unit in {s} (use K, KiB, M, MiB, G, GiB)")),
    };
    Ok((num * mult as f64) as u64)
}

struct Args {
    size: u64,
    out: String,
    seed: u64,
    error_every: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        size: 1 << 30,
        out: "-".into(),
        seed: 0x5eed_cafe_f00d_1234,
        error_every: 100_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{key} needs a value"))
        };
        match key.as_str() {
            "--size" => a.size = parse_size(&value()?)?,
            "--out" => a.out = value()?,
            "--seed" => a.seed = value()?.parse().map_err(|_| "bad --seed")?,
            "--error-every" => {
                a.error_every = value()?.parse().map_err(|_| "bad --error-every")?;
                a.error_every = a.error_every.max(2);
            }
            "-h" | "--help" => {
                println!("genlog [--size 1GiB] [--out PATH|-] [--seed N] [--error-every LINES]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(a)
}

const HEADER: &[&str] = &[
    "Current runner version: '2.316.1'",
    "##[group]Operating System",
    "Ubuntu",
    "22.04.4",
    "LTS",
    "##[endgroup]",
    "##[group]Runner Image",
    "Image: ubuntu-22.04",
    "Version: 20240422.1.0",
    "Included Software: https://github.com/actions/runner-images/blob/ubuntu22/20240422.1/images/ubuntu/Ubuntu2204-Readme.md",
    "##[endgroup]",
    "##[group]Run actions/checkout@v4",
    "with:",
    "  repository: acme/acme",
    "  token: ***",
    "  ssh-strict: true",
    "  persist-credentials: true",
];

const FOOTER: &[&str] = &["##[error]Process completed with exit code 1."];

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let sink: Box<dyn Write> = if args.out == "-" {
        Box::new(io::stdout().lock())
    } else {
        if let Some(dir) = std::path::Path::new(&args.out).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
        }
        Box::new(File::create(&args.out).map_err(|e| format!("{}: {e}", args.out))?)
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let io_err = |e: io::Error| format!("write error: {e}");

    let mut g = Gen {
        rng: Rng::new(args.seed),
        clock: Clock {
            day: 1,
            nanos: 10 * 3600 * 1_000_000_000,
        },
        out: Vec::with_capacity(1 << 16),
        lines: 0,
        scratch: String::with_capacity(512),
        step: 0,
    };

    // The footer's size is known in advance: timestamp + text + newline per line.
    let footer_len: u64 = FOOTER.iter().map(|l| (TS_LEN + l.len() + 1) as u64).sum();
    // Stop the body early enough that neither a noise line nor an error block can
    // overshoot; the gap is closed with one padded line.
    const SLACK: u64 = 8192;
    let body_target = args.size.saturating_sub(footer_len);

    let mut written: u64 = 0;
    for l in HEADER {
        g.line(l);
    }
    g.group(0);
    let mut next_error = g.rng.range(args.error_every / 2, args.error_every * 3 / 2);
    let mut next_group = g.rng.range(200, 3000);
    let mut errors = 0u64;
    while written + (g.out.len() as u64) + SLACK < body_target {
        if g.lines >= next_error {
            g.error_block();
            errors += 1;
            next_error = g.lines + g.rng.range(args.error_every / 2, args.error_every * 3 / 2);
        } else if g.lines >= next_group {
            let step = g.rng.below(STEPS.len() as u64) as usize;
            g.group(step);
            next_group = g.lines + g.rng.range(200, 30000);
        } else {
            g.noise();
        }
        if g.out.len() >= 1 << 16 {
            w.write_all(&g.out).map_err(io_err)?;
            written += g.out.len() as u64;
            g.out.clear();
        }
    }
    // Pad to the exact size with noise lines, then one line cut or padded to length.
    loop {
        let have = written + g.out.len() as u64;
        let gap = body_target.saturating_sub(have);
        if gap < 400 {
            break;
        }
        g.noise();
    }
    let have = written + g.out.len() as u64;
    let gap = body_target.saturating_sub(have) as usize;
    if gap > 0 {
        // A line of `gap` bytes: timestamp, text, newline (or just newlines if tiny).
        if gap > TS_LEN {
            let text_len = gap - TS_LEN - 1;
            let base = "Waiting for the job to finish";
            let mut text = String::with_capacity(text_len);
            text.push_str(&base[..base.len().min(text_len)]);
            while text.len() < text_len {
                text.push('.');
            }
            g.line(&text);
        } else {
            // Too short for a line of its own: trailing blanks on the last line, as
            // real tools often print.
            g.out.pop();
            g.out.resize(g.out.len() + gap, b' ');
            g.out.push(b'\n');
        }
    }
    for l in FOOTER {
        g.line(l);
    }
    w.write_all(&g.out).map_err(io_err)?;
    written += g.out.len() as u64;
    w.flush().map_err(io_err)?;
    if args.size >= footer_len && written != args.size {
        return Err(format!(
            "internal error: wrote {written} bytes, wanted {}",
            args.size
        ));
    }
    eprintln!(
        "genlog: wrote {written} bytes, {} lines, {errors} error blocks to {}",
        g.lines, args.out
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("genlog: {e}");
        std::process::exit(2);
    }
}
