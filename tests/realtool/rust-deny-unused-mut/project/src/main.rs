#![deny(warnings)]

fn main() {
    let mut total = 2;
    println!("{}", total);
}
