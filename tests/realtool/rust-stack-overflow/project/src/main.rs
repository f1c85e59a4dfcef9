fn depth(n: u64) -> u64 {
    if n == u64::MAX { 0 } else { 1 + depth(n + 1) }
}

fn main() {
    println!("{}", depth(0));
}
