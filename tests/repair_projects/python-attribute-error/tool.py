import os

print(os.path.basename(os.getcwdd()))
