def buffer():
    return bytearray(10**14)


buffer()
