const client = require("axios-cars-missing");

test("gets", () => {
  expect(client).toBeDefined();
});
