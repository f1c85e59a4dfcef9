def total(items):
    return sum(itmes)
