def connect(host: str, port: int) -> str:
    return f"{host}:{port}"


connect("localhost")
