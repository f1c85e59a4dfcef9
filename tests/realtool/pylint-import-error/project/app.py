"""Needs a package that is not installed."""
import yamlish_cars_missing


def load(path):
    """Load a file."""
    return yamlish_cars_missing.load(path)
