def double(x: int) -> int:
    return x * 2


print(double("3"))
