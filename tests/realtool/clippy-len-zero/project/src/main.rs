fn main() {
    let v: Vec<i32> = Vec::new();
    if v.len() == 0 {
        println!("empty");
    }
}
