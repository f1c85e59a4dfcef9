"""Strings."""


def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper() + "!".uper()
