from strings import title, strip_all


def test_title():
    assert title("ab") == "Ab"


def test_strip_all():
    assert strip_all([" a", "b "]) == ["a", "b", "c"]
