describe("worker", function () {
  it("finishes", function (done) {
    setTimeout(done, 1000);
  });
});
