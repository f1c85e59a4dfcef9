def test_query(database):
    assert database.query("select 1") == 1
