fn main() {
    let total: u32 = "7";
    let items = vec![1, 2];
    println!("{} {}", total, itmes.len());
}
