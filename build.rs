//! Embeds every `patterns/*.toml` (error rules), `categories/*.toml` (category tables)
//! and `templates/*.toml` (fix templates)
//! into the binary, so that supporting a new tool only means adding data files.
use std::{env, fs, path::Path};

fn main() {
    embed("patterns", "builtin_patterns.rs");
    embed("categories", "builtin_categories.rs");
    embed("templates", "builtin_templates.rs");
}

/// Writes `&[(file name, include_str!(path)), ...]` for the TOML files of `dir`.
fn embed(dir: &str, output: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name,
            f.display().to_string()
        ));
    }
    out.push(']');
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join(output);
    fs::write(dest, out).unwrap_or_else(|e| panic!("write {output}: {e}"));
}
