import settings


def test_url():
    assert settings.API_URL.startswith("https://")
