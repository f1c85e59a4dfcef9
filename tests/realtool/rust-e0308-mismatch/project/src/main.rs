fn name() -> String {
    "cars"
}

fn main() {
    println!("{}", name());
}
