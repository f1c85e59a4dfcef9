const n: number = "1";
const s: string = 2;
console.log(n, s.toUpperCase(), missing);
