const port = require("./cfg");

test("reads the port", () => {
  expect(port({})).toBe(80);
});
