def write_report(path, text):
    with open(path, "w") as f:
        f.write(text)
