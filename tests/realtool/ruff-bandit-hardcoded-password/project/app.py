PASSWORD = "not-a-real-secret"


def login(user):
    return user, PASSWORD
