def main()
    print("hi")
