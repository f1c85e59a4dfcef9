//! cars: the engine behind the `cars` command. Reads CI logs, finds and ranks the
//! errors in them, and writes reports. Nothing here touches a terminal: front ends
//! (the `cars` binary) own all I/O and exit codes.

pub mod analyze;
pub mod log;
pub mod report;
pub mod rules;
