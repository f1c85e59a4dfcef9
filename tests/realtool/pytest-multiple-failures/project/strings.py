def title(s):
    return s.upper()


def strip_all(xs):
    return [x.strip() for x in xs]
