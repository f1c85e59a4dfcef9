const assert = require("assert");

describe("list", function () {
  it("sorts numbers", function () {
    assert.deepStrictEqual([3, 1, 2].sort(), [1, 2, 4]);
  });
});
