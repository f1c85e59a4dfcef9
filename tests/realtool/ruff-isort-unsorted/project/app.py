import sys
import os

print(os.sep, sys.argv)
