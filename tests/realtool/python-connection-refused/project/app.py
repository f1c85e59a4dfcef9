import socket


def ping():
    s = socket.create_connection(("127.0.0.1", 9), timeout=2)
    s.close()


ping()
