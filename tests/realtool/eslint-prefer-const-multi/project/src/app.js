export function f() {
  let total = 1;
  var legacy = 2;
  return total + legacy;
}
