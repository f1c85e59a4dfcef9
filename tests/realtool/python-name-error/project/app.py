def greet(name):
    return "hello " + nmae


print(greet("ann"))
