const net = require("net");
const sock = net.connect(9, "127.0.0.1");
sock.on("connect", () => sock.end());
