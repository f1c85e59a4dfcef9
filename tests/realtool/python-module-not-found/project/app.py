import yaml_cars_missing

print(yaml_cars_missing.safe_load("a: 1"))
