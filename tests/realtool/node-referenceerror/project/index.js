function total(items) {
  return itms.reduce((a, b) => a + b, 0);
}
console.log(total([1, 2]));
