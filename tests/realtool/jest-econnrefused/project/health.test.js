const http = require("http");

test("health endpoint answers", async () => {
  const status = await new Promise((resolve, reject) => {
    http.get("http://127.0.0.1:9/health", (r) => resolve(r.statusCode)).on("error", reject);
  });
  expect(status).toBe(200);
});
