use serde::Serialize;

#[derive(Serialize)]
struct Point {
    x: i32,
}

fn main() {
    let _ = Point { x: 1 };
}
