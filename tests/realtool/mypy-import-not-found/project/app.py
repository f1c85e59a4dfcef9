import cars_missing_package


def f() -> int:
    return cars_missing_package.VALUE
