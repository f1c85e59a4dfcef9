//! Reading logs: opens a path, stdin or a gzip stream, hands out blocks of whole lines
//! with bounded memory, and cleans single lines (ANSI, `\r` overwrites, CI prefixes).
//! Depends on nothing else in cars.

pub mod ci;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Where a log comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    Path(PathBuf),
}

impl Source {
    /// `-` means stdin; anything else is a path.
    pub fn parse(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }

    /// How the source is named in reports.
    pub fn display_name(&self) -> String {
        match self {
            Source::Stdin => "-".to_string(),
            Source::Path(p) => p.display().to_string(),
        }
    }
}

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path}: is a directory, expected a log file")]
    IsDirectory { path: PathBuf },
    #[error("{path}: permission denied")]
    PermissionDenied { path: PathBuf },
    #[error("{name}: looks like binary data, not a text log")]
    Binary { name: String },
    #[error("{name}: corrupt gzip stream: {source}")]
    Gzip { name: String, source: io::Error },
    #[error("{name}: read error: {source}")]
    Read { name: String, source: io::Error },
}

/// An open log: a buffered byte stream, already decompressed.
pub struct LogInput {
    pub name: String,
    reader: Box<dyn BufRead + Send>,
    gzip: bool,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl LogInput {
    pub fn open(source: &Source) -> Result<LogInput, InputError> {
        let name = source.display_name();
        let raw: Box<dyn Read + Send> = match source {
            Source::Stdin => Box::new(io::stdin()),
            Source::Path(path) => Box::new(open_file(path)?),
        };
        Self::from_reader(name, raw)
    }

    /// Wraps any reader; gzip is detected by its magic bytes, not by the file name.
    pub fn from_reader(name: String, raw: Box<dyn Read + Send>) -> Result<LogInput, InputError> {
        let mut buffered = BufReader::with_capacity(256 * 1024, raw);
        let head = buffered.fill_buf().map_err(|source| InputError::Read {
            name: name.clone(),
            source,
        })?;
        let gzip = head.starts_with(&GZIP_MAGIC);
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        Ok(LogInput { name, reader, gzip })
    }

    /// Reads the whole input as blocks of complete lines, calling `f` for each block.
    /// Memory stays bounded by `BLOCK_SIZE` plus one `MAX_LINE` whatever the input size;
    /// a longer line is cut at `MAX_LINE` bytes (the rest is skipped, the line still
    /// counts as one). The first block is checked for binary content.
    pub fn for_each_block(
        mut self,
        mut f: impl FnMut(&[u8]) -> Result<(), InputError>,
    ) -> Result<(), InputError> {
        let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_SIZE + MAX_LINE);
        let mut first = true;
        let mut skipping_long_line = false;
        // Whether the log ends its lines with a bare `\r` (decided on its first 64 KiB).
        let mut cr_lines: Option<bool> = None;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(self.read_error(source)),
            };
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len();
            if skipping_long_line {
                let eol = if cr_lines == Some(true) { b'\r' } else { b'\n' };
                match memchr::memchr(eol, chunk) {
                    Some(i) => {
                        buf.push(b'\n');
                        skipping_long_line = false;
                        self.reader.consume(i + 1);
                    }
                    None => self.reader.consume(n),
                }
                continue;
            }
            let appended = buf.len();
            buf.extend_from_slice(chunk);
            self.reader.consume(n);
            match cr_lines {
                Some(true) => cr_to_lf(&mut buf[appended..]),
                Some(false) => {}
                None if buf.len() >= CR_PROBE => {
                    let cr = cr_terminated(&buf);
                    if cr {
                        cr_to_lf(&mut buf);
                    }
                    cr_lines = Some(cr);
                }
                None => {}
            }
            if buf.len() < BLOCK_SIZE {
                continue;
            }
            if first {
                self.check_text(&buf)?;
                first = false;
            }
            match memchr::memrchr(b'\n', &buf) {
                Some(end) => {
                    f(&buf[..=end])?;
                    buf.drain(..=end);
                }
                None => {
                    // One line longer than a block: keep its first MAX_LINE bytes.
                    buf.truncate(MAX_LINE);
                    skipping_long_line = true;
                }
            }
        }
        if cr_lines.is_none() && cr_terminated(&buf) {
            cr_to_lf(&mut buf);
        }
        if !buf.is_empty() {
            if first {
                self.check_text(&buf)?;
            }
            f(&buf)?;
        }
        Ok(())
    }

    fn read_error(&self, source: io::Error) -> InputError {
        if self.gzip {
            InputError::Gzip {
                name: self.name.clone(),
                source,
            }
        } else {
            InputError::Read {
                name: self.name.clone(),
                source,
            }
        }
    }

    fn check_text(&self, head: &[u8]) -> Result<(), InputError> {
        if looks_binary(head) {
            Err(InputError::Binary {
                name: self.name.clone(),
            })
        } else {
            Ok(())
        }
    }
}

/// Bytes read before a block of lines is analyzed.
pub const BLOCK_SIZE: usize = 1 << 20;
/// The longest line kept; the rest of a longer line is skipped.
pub const MAX_LINE: usize = 1 << 20;

fn open_file(path: &Path) -> Result<File, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| map_open_error(path, e))?;
    if meta.is_dir() {
        return Err(InputError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    File::open(path).map_err(|e| map_open_error(path, e))
}

fn map_open_error(path: &Path, e: io::Error) -> InputError {
    match e.kind() {
        io::ErrorKind::NotFound => InputError::NotFound {
            path: path.to_path_buf(),
        },
        io::ErrorKind::PermissionDenied => InputError::PermissionDenied {
            path: path.to_path_buf(),
        },
        _ => InputError::Read {
            name: path.display().to_string(),
            source: e,
        },
    }
}

/// How much of a log is looked at to tell whether it ends its lines with `\r`.
const CR_PROBE: usize = 64 * 1024;

/// A log whose lines end with a bare `\r` (classic Mac line ends, or a CI log saved
/// with its `\n`s lost): no `\n` at all in its head, but `\r`s throughout it. Read
/// as one line it would show only its last `\r` segment.
fn cr_terminated(head: &[u8]) -> bool {
    !head.contains(&b'\n') && memchr::memchr_iter(b'\r', head).take(8).count() == 8
}

fn cr_to_lf(bytes: &mut [u8]) {
    for b in bytes.iter_mut().filter(|b| **b == b'\r') {
        *b = b'\n';
    }
}

/// A text log has no NUL bytes and few control characters in its first 8 KiB.
/// Invalid UTF-8 alone does not make a log binary (it is decoded lossily).
pub fn looks_binary(head: &[u8]) -> bool {
    let head = &head[..head.len().min(8192)];
    if head.is_empty() {
        return false;
    }
    let suspicious = head
        .iter()
        .filter(|&&b| {
            b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x1b | 0x0c | 0x08))
        })
        .count();
    head.contains(&0) && suspicious * 100 > head.len() || suspicious * 10 > head.len()
}

/// Cleans one raw line for matching: decodes lossily, keeps what a terminal would
/// show after `\r` overwrites, and strips ANSI escapes and the trailing `\r`.
pub fn clean_line(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    // A bare `\r` returns the cursor: the text after the last one is what stays on
    // screen, unless it is empty (a trailing `\r` before a newline).
    let visible = match memchr::memrchr(b'\r', raw) {
        Some(i) if raw[i + 1..].iter().any(|b| !b.is_ascii_whitespace()) => &raw[i + 1..],
        Some(_) => last_nonblank_segment(raw),
        None => raw,
    };
    let text = String::from_utf8_lossy(visible);
    if text.contains('\u{1b}') || text.contains('\u{9b}') {
        strip_ansi(&text)
    } else {
        text.into_owned()
    }
}

fn last_nonblank_segment(raw: &[u8]) -> &[u8] {
    raw.split(|&b| b == b'\r')
        .rev()
        .find(|s| s.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or(&[])
}

/// Removes ANSI/VT100 escape sequences (CSI, OSC, and two-byte escapes).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                Some('[') => {
                    chars.next();
                    // CSI: parameters and intermediates, then one final byte @..~
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    chars.next();
                    // OSC: ends with BEL or ESC \
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_overwrites_keep_the_last_visible_text() {
        assert_eq!(
            clean_line(b"Downloading 10%\rDownloading 100%\n"),
            "Downloading 100%"
        );
        assert_eq!(clean_line(b"error: boom\r\n"), "error: boom");
        assert_eq!(clean_line(b"error: boom\r   \r\n"), "error: boom");
    }

    #[test]
    fn ansi_sequences_are_removed() {
        assert_eq!(
            clean_line(b"\x1b[1m\x1b[31merror\x1b[0m: \x1b]8;;http://x\x07link\x1b]8;;\x07"),
            "error: link"
        );
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        assert_eq!(clean_line(b"caf\xe9 error"), "caf\u{fffd} error");
    }

    fn blocks_of(bytes: Vec<u8>) -> Vec<u8> {
        let input =
            LogInput::from_reader("t".into(), Box::new(std::io::Cursor::new(bytes))).unwrap();
        let mut out = Vec::new();
        input
            .for_each_block(|b| {
                out.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn a_log_with_bare_cr_line_ends_is_read_as_lines() {
        let log = "collected 3 items\r\r==== FAILURES ====\r____ Test.test_a ____\r\rE  assert 1 == 2\rx.py:3: AssertionError\r1 failed\r";
        let out = blocks_of(log.as_bytes().to_vec());
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 8);
        assert!(!out.contains(&b'\r'));
        // The same with a long head (past the probe) and a gzip-sized stream.
        let long = log.repeat(CR_PROBE / log.len() + 10);
        let out = blocks_of(long.clone().into_bytes());
        assert_eq!(out.len(), long.len());
        assert!(!out.contains(&b'\r'));
    }

    #[test]
    fn progress_overwrites_stay_within_their_line() {
        let log =
            "Downloading 10%\rDownloading 20%\rDownloading 30%\r".repeat(4) + "\nerror: boom\n";
        let out = blocks_of(log.clone().into_bytes());
        assert_eq!(out, log.into_bytes());
    }

    #[test]
    fn binary_detection() {
        assert!(looks_binary(&[0u8, 1, 2, 3, 0, 0, 5, 6, 7, 0]));
        assert!(!looks_binary(b"plain text\nwith \x1b[31mcolour\x1b[0m\n"));
        assert!(!looks_binary("caf\u{e9} \u{2014} unicode\n".as_bytes()));
    }
}
