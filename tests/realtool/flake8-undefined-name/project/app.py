def area(r):
    return PI * r * r
