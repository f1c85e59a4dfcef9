fn main() {
    let mut m = HashMap::new();
    m.insert(1, 2);
    println!("{:?}", m);
}
