#[test]
fn greets_with_comma() {
    assert_eq!(cargo_test_integration_file::greet("Ann"), "Hello, Ann");
}
