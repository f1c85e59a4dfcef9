pub fn parse_port(s: &str) -> u16 {
    s.parse().expect("port must be a number")
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_port() {
        assert_eq!(super::parse_port("80x"), 80);
    }
}
