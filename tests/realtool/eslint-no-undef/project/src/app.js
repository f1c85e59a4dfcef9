export function f() {
  return undefinedThing + 1;
}
