def head(line):
    return lnie[:3]


print(head("abcdef"))
