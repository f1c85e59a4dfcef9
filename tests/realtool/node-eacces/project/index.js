const fs = require("fs");
fs.writeFileSync("out.txt", "old");
fs.chmodSync("out.txt", 0o444);
fs.writeFileSync("out.txt", "new");
