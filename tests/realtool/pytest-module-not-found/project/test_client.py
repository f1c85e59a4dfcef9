import requests_cars_missing


def test_get():
    assert requests_cars_missing.get("x")
