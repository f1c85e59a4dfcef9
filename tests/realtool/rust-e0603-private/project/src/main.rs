mod shapes {
    fn area(w: u32, h: u32) -> u32 {
        w * h
    }
}

fn main() {
    println!("{}", shapes::area(2, 3));
}
