//! The service front end: `cars worker` on Redis Streams (worker.rs, the loop;
//! queue.rs, the only code that speaks Redis; jobs.rs, payloads and handlers over the
//! engine). Depends on the engine and on `cli` for its flags; no other front end
//! depends on it.

pub mod jobs;
pub mod queue;
pub mod worker;
