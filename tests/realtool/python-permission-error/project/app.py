def save(text):
    with open("/etc/cars-realtool.conf", "w") as f:
        f.write(text)


save("x")
