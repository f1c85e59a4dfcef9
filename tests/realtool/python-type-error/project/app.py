def label(n):
    return "item " + n


print(label(3))
