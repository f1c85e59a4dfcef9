class User:
    def __init__(self, name: str) -> None:
        self.name = name


def greet(u: User) -> str:
    return "hi " + u.nmae
