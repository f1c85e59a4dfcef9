def load(path):
    data = [path]  # kept for later
    return path
