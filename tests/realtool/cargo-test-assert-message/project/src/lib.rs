pub fn is_even(n: u32) -> bool {
    n % 2 == 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn four_is_even() {
        assert!(super::is_even(4), "4 should be even");
    }
}
