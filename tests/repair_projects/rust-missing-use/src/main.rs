fn main() {
    let mut seen: HashSet<&str> = HashSet::new();
    seen.insert("a");
    println!("{}", seen.len());
}
