//! The Redis Streams side of `cars worker`, and the only code that speaks Redis: the
//! consumer group, reading new entries and reclaiming a dead worker's, delivery
//! counts, and the closing transaction of a job (result, status, XACK) or of a
//! poison job (dead-letter stream, result, XACK).

use super::jobs::Entry;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{AsyncConnectionConfig, RedisResult};
use std::collections::HashMap;
use std::time::Duration;

/// The keys and names a worker uses.
#[derive(Debug, Clone)]
pub struct Names {
    pub stream: String,
    pub group: String,
    pub consumer: String,
    pub results: String,
    /// Trim the results stream to about this many entries (0: never).
    pub results_maxlen: usize,
    pub status: String,
    pub dead: String,
}

/// `cars:status` keeps about this many entries: it is a feed, not a record.
const STATUS_MAXLEN: usize = 10_000;
/// How long the fleet remembers a finished job id (`<stream>:done:<job id>`): a job
/// sent again within this time is answered with its first result, by any worker on
/// any machine, without being handled again.
const DONE_TTL_SECS: u64 = 7 * 24 * 3600;

pub struct Queue {
    conn: MultiplexedConnection,
    pub names: Names,
    block: Duration,
    /// Where the next XAUTOCLAIM scan starts in the pending entries list.
    claim_cursor: String,
    /// Delete an entry once it is acknowledged (a job's log can be large).
    delete_acked: bool,
}

impl Queue {
    /// Connects; reads block for at most `block` so a stop request is seen soon.
    pub async fn connect(
        url: &str,
        names: Names,
        block: Duration,
        delete_acked: bool,
    ) -> RedisResult<Queue> {
        let client = redis::Client::open(url)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            // A blocking read answers after `block`; leave it room.
            .set_response_timeout(Some(block + Duration::from_secs(30)));
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(Queue {
            conn,
            names,
            block,
            claim_cursor: "0-0".into(),
            delete_acked,
        })
    }

    /// Creates the consumer group (and the stream) unless it exists.
    pub async fn ensure_group(&mut self) -> RedisResult<()> {
        let created: RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.conn)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Up to `count` entries never delivered to the group, waiting up to `block`.
    pub async fn read_new(&mut self, count: usize) -> RedisResult<Vec<Entry>> {
        let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.names.group)
            .arg(&self.names.consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(self.block.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.names.stream)
            .arg(">")
            .query_async(&mut self.conn)
            .await?;
        Ok(reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .map(|id| entry(id, 1))
            .collect())
    }

    /// Claims up to `count` entries that another consumer (or this one, after a
    /// failure) left unacknowledged for `min_idle`, with their delivery counts.
    pub async fn reclaim(&mut self, min_idle: Duration, count: usize) -> RedisResult<Vec<Entry>> {
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .arg(&self.names.consumer)
            .arg(min_idle.as_millis() as u64)
            .arg(&self.claim_cursor)
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.conn)
            .await?;
        self.claim_cursor = reply.next_stream_id;
        if reply.claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &reply.claimed {
            pipe.cmd("XPENDING")
                .arg(&self.names.stream)
                .arg(&self.names.group)
                .arg(&id.id)
                .arg(&id.id)
                .arg(1);
        }
        let pending: Vec<StreamPendingCountReply> = pipe.query_async(&mut self.conn).await?;
        Ok(reply
            .claimed
            .into_iter()
            .zip(pending)
            .map(|(id, p)| {
                // XAUTOCLAIM counted this delivery; a missing count means at least 2.
                let n = p.ids.first().map_or(2, |p| p.times_delivered as u64);
                entry(id, n)
            })
            .collect())
    }

    fn done_key(&self, job_id: &str) -> String {
        format!("{}:done:{job_id}", self.names.stream)
    }

    /// The result fields a worker (on any machine) published for `job_id`, if the
    /// fleet still remembers the job.
    pub async fn done(&mut self, job_id: &str) -> RedisResult<Option<Vec<(String, String)>>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.done_key(job_id))
            .query_async(&mut self.conn)
            .await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// Publishes a job's result and the worker's status, remembers the job as done
    /// for the fleet, and acknowledges the entry, in one MULTI/EXEC: either all of
    /// it happens or none (and the entry is delivered again, answered from the store).
    pub async fn finish(
        &mut self,
        entry_id: &str,
        job_id: &str,
        result: &[(&str, String)],
        status: &[(&str, String)],
    ) -> RedisResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.add_result(&mut pipe);
        for (k, v) in result {
            pipe.arg(*k).arg(v);
        }
        pipe.ignore();
        let fields: Vec<(&str, &str)> = result
            .iter()
            .filter(|(k, _)| *k != "entry_id")
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        pipe.cmd("SET")
            .arg(self.done_key(job_id))
            .arg(serde_json::to_string(&fields).unwrap_or_default())
            .arg("EX")
            .arg(DONE_TTL_SECS)
            .ignore();
        self.add_status(&mut pipe, status);
        self.ack(&mut pipe, entry_id);
        pipe.query_async::<()>(&mut self.conn).await
    }

    /// Moves a poison entry to the dead-letter stream with `reason`, tells the
    /// results stream, and acknowledges it, in one MULTI/EXEC.
    pub async fn dead_letter(
        &mut self,
        entry: &Entry,
        reason: &str,
        result: &[(&str, String)],
    ) -> RedisResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("XADD")
            .arg(&self.names.dead)
            .arg("*")
            .arg("entry_id")
            .arg(&entry.id)
            .arg("deliveries")
            .arg(entry.deliveries)
            .arg("reason")
            .arg(reason)
            .arg("consumer")
            .arg(&self.names.consumer);
        let mut fields: Vec<_> = entry.fields.iter().collect();
        fields.sort();
        for (k, v) in fields {
            // The original fields, prefixed so they cannot shadow ours.
            pipe.arg(format!("job.{k}")).arg(v.as_slice());
        }
        pipe.ignore();
        self.add_result(&mut pipe);
        for (k, v) in result {
            pipe.arg(*k).arg(v);
        }
        pipe.ignore();
        self.ack(&mut pipe, &entry.id);
        pipe.query_async::<()>(&mut self.conn).await
    }

    /// Publishes the worker's status alone (started, stopping).
    pub async fn status(&mut self, status: &[(&str, String)]) -> RedisResult<()> {
        let mut pipe = redis::pipe();
        self.add_status(&mut pipe, status);
        pipe.query_async::<()>(&mut self.conn).await
    }

    /// Starts the XADD of a result (its fields follow).
    fn add_result(&self, pipe: &mut redis::Pipeline) {
        pipe.cmd("XADD").arg(&self.names.results);
        if self.names.results_maxlen > 0 {
            pipe.arg("MAXLEN").arg("~").arg(self.names.results_maxlen);
        }
        pipe.arg("*");
    }

    fn add_status(&self, pipe: &mut redis::Pipeline, status: &[(&str, String)]) {
        pipe.cmd("XADD")
            .arg(&self.names.status)
            .arg("MAXLEN")
            .arg("~")
            .arg(STATUS_MAXLEN)
            .arg("*");
        for (k, v) in status {
            pipe.arg(*k).arg(v);
        }
        pipe.ignore();
    }

    fn ack(&self, pipe: &mut redis::Pipeline, entry_id: &str) {
        pipe.cmd("XACK")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .arg(entry_id)
            .ignore();
        if self.delete_acked {
            pipe.cmd("XDEL")
                .arg(&self.names.stream)
                .arg(entry_id)
                .ignore();
        }
    }
}

fn entry(id: StreamId, deliveries: u64) -> Entry {
    let fields: HashMap<String, Vec<u8>> = id
        .map
        .into_iter()
        .filter_map(|(k, v)| redis::from_redis_value::<Vec<u8>>(v).ok().map(|v| (k, v)))
        .collect();
    Entry {
        id: id.id,
        fields,
        deliveries,
    }
}
