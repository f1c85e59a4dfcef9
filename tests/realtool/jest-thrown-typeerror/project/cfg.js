module.exports = (cfg) => cfg.server.port;
