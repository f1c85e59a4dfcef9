fn double(x: i32) -> i32 {
    return x * 2;
}

fn main() {
    println!("{}", double(2));
}
