from calc import mean


def test_mean_empty():
    assert mean([]) == 0
