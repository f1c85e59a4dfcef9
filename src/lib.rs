//! cars: the engine behind the `cars` command. Reads CI logs, finds and ranks the
//! errors in them, turns findings into patches, applies and undoes them, and writes
//! reports. Nothing here touches a terminal: front ends (the `cars` binary) own all
//! I/O and exit codes.

pub mod analyze;
pub mod config;
pub mod exec;
pub mod fix;
pub mod learn;
pub mod log;
pub mod policy;
pub mod repair;
pub mod report;
pub mod rules;
pub mod session;
pub mod store;
pub mod watch;
