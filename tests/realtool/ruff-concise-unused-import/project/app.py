import json


def names(xs):
    return sorted(xs)
