fn main() {
    let s = String::from("a");
    let t = s.clone();
    println!("{}", t);
}
