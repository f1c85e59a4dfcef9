import sys


def greet(name):
    return "hello " + nme


print(greet(sys.argv[0]))
