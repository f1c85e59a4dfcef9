class Item:
    def __init__(self, price: int) -> None:
        self.price = price


def cost(i: Item) -> int:
    return i.prcie * 2
