const assert = require("assert");
assert.strictEqual("a".repeat(2), "aaa");
