pub fn database_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must be set")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_url() {
        assert!(super::database_url().starts_with("postgres://"));
    }
}
