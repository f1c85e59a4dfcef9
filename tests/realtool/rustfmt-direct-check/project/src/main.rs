fn main()
{
    println!("braces");
}
