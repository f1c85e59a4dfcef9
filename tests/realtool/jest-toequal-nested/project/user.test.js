const makeUser = require("./user");

describe("makeUser", () => {
  describe("roles", () => {
    it("gives admins the admin role", () => {
      expect(makeUser("root")).toEqual({ name: "root", roles: ["admin"] });
    });
  });
});
