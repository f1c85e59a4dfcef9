const assert = require("assert");

function mul(a, b) { return a + b; }

describe("math", function () {
  describe("mul", function () {
    it("multiplies two numbers", function () {
      assert.strictEqual(mul(3, 4), 12);
    });
  });
});
