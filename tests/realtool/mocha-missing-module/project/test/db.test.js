const pg = require("pg-cars-missing");

describe("db", function () {
  it("connects", function () {
    pg.connect();
  });
});
