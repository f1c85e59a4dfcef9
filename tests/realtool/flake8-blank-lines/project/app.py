import sys
def main():
    return sys.argv
