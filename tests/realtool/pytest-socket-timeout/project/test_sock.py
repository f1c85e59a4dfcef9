import socket


def test_server_answers():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    c = socket.create_connection(srv.getsockname(), timeout=0.3)
    assert c.recv(10) == b"hello"
