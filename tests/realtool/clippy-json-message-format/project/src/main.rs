fn main() {
    let x = 5;
    if x == x {
        println!("same");
    }
}
