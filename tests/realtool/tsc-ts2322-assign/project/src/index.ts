let count: number = "three";
console.log(count);
