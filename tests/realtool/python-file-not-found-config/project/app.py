import json


def load():
    with open("config/settings.json") as f:
        return json.load(f)


print(load())
