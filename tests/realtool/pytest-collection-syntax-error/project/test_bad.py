def test_one():
    assert [1, 2 == [1, 2]

def test_two():
    pass
