"""Counter."""


def count(items):
    """Count the items."""
    return len(itms)
