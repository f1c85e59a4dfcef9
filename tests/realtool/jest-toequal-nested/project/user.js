module.exports = (name) => ({ name, roles: ["user"] });
