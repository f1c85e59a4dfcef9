const a = {
  b: 1,,
};
console.log(a);
