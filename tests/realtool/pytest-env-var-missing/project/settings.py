import os

API_URL = os.environ["CARS_API_URL"]
