test("finishes", (done) => {
  setTimeout(done, 2000);
}, 200);
