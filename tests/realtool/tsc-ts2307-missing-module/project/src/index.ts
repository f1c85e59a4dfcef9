import { parse } from "yaml-cars-missing";
console.log(parse("a: 1"));
