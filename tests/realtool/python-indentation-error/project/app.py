def main():
print("hi")
