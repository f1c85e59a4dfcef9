fn area(width: f64, height: f64) -> f64 {
    width * height
}

fn main() {
    println!("{}", area("2.5", 4.0));
}
