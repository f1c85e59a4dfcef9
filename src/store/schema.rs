//! The store's schema as an ordered list of migrations. `PRAGMA user_version` holds
//! how many have run; a store written by a newer cars is refused, never rewritten.

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only: a shipped
/// migration is never edited.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    created_at      INTEGER NOT NULL,          -- unix milliseconds
    source          TEXT NOT NULL,             -- the log analyzed
    project         TEXT NOT NULL,             -- project root the paths resolve against
    command         TEXT,                      -- the failing command, when known
    log_lines       INTEGER NOT NULL,
    analysis_ms     INTEGER NOT NULL,
    first_finding_ms INTEGER                   -- time to first finding, when one exists
);
CREATE TABLE findings (
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,              -- E<seq>
    rank        INTEGER NOT NULL,
    rule        TEXT NOT NULL,
    category    TEXT NOT NULL,
    severity    TEXT NOT NULL,
    confidence  REAL NOT NULL,
    data        TEXT NOT NULL,                 -- the cars/analysis/v1 finding object
    excerpt     TEXT NOT NULL,                 -- JSON array of cleaned log lines
    captures    TEXT NOT NULL,                 -- JSON object of rule captures
    consequence INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE patches (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,              -- P<seq>
    finding_seq INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    strategy    TEXT NOT NULL,
    origin      TEXT NOT NULL,
    rule        TEXT NOT NULL,
    confidence  REAL NOT NULL,
    status      TEXT NOT NULL,                 -- proposed, applied, validated, rejected, rolled-back, failed
    data        TEXT NOT NULL,                 -- the whole Patch as JSON
    UNIQUE (session_id, seq)
);
-- One attempt to apply a patch. `state` is the journal: a row left `applying` or
-- `rolling-back` by a crash is finished (restored from its backups) on the next run.
CREATE TABLE applications (
    id              INTEGER PRIMARY KEY,
    patch_id        INTEGER NOT NULL REFERENCES patches(id) ON DELETE CASCADE,
    op_id           TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    state           TEXT NOT NULL,             -- applying, applied, rolling-back, rolled-back, interrupted
    validation_cmd  TEXT,
    validation_ok   INTEGER,                   -- NULL: not validated
    validation_ms   INTEGER,
    validation_tail TEXT,
    commit_id       TEXT,
    revert_commit   TEXT,
    finished_at     INTEGER
);
-- The original bytes of every file an application touched, taken before any write.
CREATE TABLE backups (
    application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    path           TEXT NOT NULL,              -- relative to the project root
    existed        INTEGER NOT NULL,
    content        BLOB,
    mode           INTEGER,
    written        BLOB,                       -- what the apply wrote, to detect later edits
    PRIMARY KEY (application_id, path)
);
CREATE TABLE decisions (
    id          INTEGER PRIMARY KEY,
    patch_id    INTEGER NOT NULL REFERENCES patches(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    decision    TEXT NOT NULL,                 -- approve, reject
    reason      TEXT,
    actor       TEXT NOT NULL                  -- cli, auto, repl, tui
);
-- Append-only: every user-visible operation writes its events under one op id.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    op_id       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    session_id  INTEGER,
    patch_id    INTEGER,
    detail      TEXT NOT NULL
);
CREATE INDEX events_op ON events(op_id);
CREATE INDEX applications_patch ON applications(patch_id);
"#,
    // What a rollback that merged around a later patch puts back, planned before
    // it writes, so a crash mid-rollback finishes the same merge.
    r#"
ALTER TABLE backups ADD COLUMN restore BLOB;
"#,
    // Each run's test outcomes, per command and working-tree state, for flaky tests.
    r#"
CREATE TABLE test_outcomes (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    command     TEXT NOT NULL,
    tree        TEXT NOT NULL,                 -- the working tree's state (see flaky.rs)
    test        TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    signature   TEXT NOT NULL,                 -- the failure's fingerprint; '' when passed
    at          INTEGER NOT NULL
);
CREATE INDEX test_outcomes_key ON test_outcomes(command, test, tree);
ALTER TABLE sessions ADD COLUMN passed INTEGER;                 -- the command's exit said so
"#,
    // The log of the last passing run of each command: the default baseline of its
    // next run (bounded by `store::MAX_BASELINE_BYTES`).
    r#"
CREATE TABLE baselines (
    command     TEXT PRIMARY KEY,
    saved_at    INTEGER NOT NULL,
    log         BLOB NOT NULL
);
"#,
    // The service's jobs (`cars worker`): one row per job id, so a job delivered
    // twice is recorded once; the log's hash answers the same failure seen again.
    r#"
CREATE TABLE service_jobs (
    id          INTEGER PRIMARY KEY,
    job_id      TEXT NOT NULL UNIQUE,          -- the payload's job_id, else the stream entry id
    entry_id    TEXT NOT NULL,                 -- the stream entry it came in
    kind        TEXT NOT NULL,                 -- analyze_log, heal, start_monitoring, ...
    project     TEXT,
    job         TEXT,
    log_sha256  TEXT,                          -- hex sha256 of the log, when the job had one
    status      TEXT NOT NULL,                 -- ok, failed, not-handled
    error       TEXT,
    findings    INTEGER,
    outcome     TEXT NOT NULL,                 -- the outcome published on cars:results (JSON)
    reused      TEXT,                          -- job id whose analysis this answer reused
    worker      TEXT NOT NULL,
    deliveries  INTEGER NOT NULL,
    received_at INTEGER NOT NULL,              -- unix milliseconds
    finished_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX service_jobs_log ON service_jobs(project, job, log_sha256);
"#,
];
