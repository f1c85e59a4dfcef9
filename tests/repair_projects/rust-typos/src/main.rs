use std::fmt;
use std::collections::HashMap;

fn main() {
    let count = 3;
    println!("{}", coutn);
    let v: Vec<i32> = Vec::new();
    let n: usize = v.lenn();
    let m: HashMap<i32, i32> = HashMap::new();
    let s: String = "abc";
    println!("{} {:?} {}", n, m, s);
}
