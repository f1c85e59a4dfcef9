"""Paths."""
import os
import sys


def args():
    """Arguments."""
    return sys.argv
