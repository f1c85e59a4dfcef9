fn first(v: &[i32]) -> i32 {
    if v.len() == 0 {
        return 0;
    }
    return v[0];
}

fn main() {
    let name = String::from("x");
    let r = &name;
    println!("{} {}", first(&[1]), r.clone().to_string());
}
