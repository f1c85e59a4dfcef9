def compute():
    result = 42
    return None
