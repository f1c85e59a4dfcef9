import re


def f(x):
    if x == None:
        return undefined_thing
    return x
