fn main() {
    let r = 2.0_f64;
    println!("{}", 3.14159 * r * r);
}
