struct Meters(f64);

fn main() {
    let m = Meters(3.0);
    println!("{}", m);
}
