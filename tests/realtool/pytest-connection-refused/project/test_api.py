import urllib.request


def test_health():
    with urllib.request.urlopen("http://127.0.0.1:9/health", timeout=2) as r:
        assert r.status == 200
