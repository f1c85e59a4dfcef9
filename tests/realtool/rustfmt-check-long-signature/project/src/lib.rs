pub fn configure(name: &str, retries: u32, verbose: bool, timeout_seconds: u64, label: &str) -> String {
    format!("{name}{retries}{verbose}{timeout_seconds}{label}")
}
