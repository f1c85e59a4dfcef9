interface User { name: string }
const u: User = { name: "ann" };
console.log(u.email);
