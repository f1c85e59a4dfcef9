use std::fmt;
use std::io::Write;

fn main() {
    let mut out = std::io::stdout();
    writeln!(out, "hi").unwrap();
}
