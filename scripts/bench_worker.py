#!/usr/bin/env python3
"""Throughput, latency, memory and crash safety of `cars worker` on Redis Streams.

Builds a 1 MiB real CI log at run time from the LogChunks corpus (decompressed and
concatenated, never checked in), starts a throwaway redis-server and N workers, and
pushes JOBS analyze_log jobs through them, each log made unique by one trailer line so
every job is analyzed (none answered from the store). At most WINDOW jobs are in
flight, so latency measures the workers, not a backlog the producer piled up.

Measures: jobs/s, latency from XADD to the result on cars:results (p50/p99), each
worker's RSS sampled over the run, and, with --kill (default), one worker killed
with SIGKILL halfway and restarted: jobs lost (no result and no stored outcome) and
outcomes recorded twice (store rows per job id; results per job id).

    cargo build --release
    python3 scripts/bench_worker.py --cars target/release/cars [--jobs 1000] [--workers 2]

Needs redis-server on PATH. Talks RESP itself: no Python packages needed.
"""

import argparse
import glob
import gzip
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CORPUS = "/work/shared/corpus/logchunks/logs"
MIB = 1 << 20


class Resp:
    """A minimal RESP2 client: enough for XADD, XREAD and PING."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = self.sock.makefile("rb")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.buf.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.buf.read(n + 2)[:-2]
            return data.decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")


def build_log(size=MIB):
    """About `size` bytes of real CI logs, whole lines, in a stable order."""
    parts, total = [], 0
    for path in sorted(glob.glob(os.path.join(CORPUS, "**", "*.log.gz"), recursive=True)):
        try:
            text = gzip.open(path, "rb").read().decode("utf-8", "replace")
        except OSError:
            continue
        parts.append(text if text.endswith("\n") else text + "\n")
        total += len(parts[-1].encode())
        if total >= size:
            break
    log = "".join(parts).encode()[:size]
    return log[: log.rfind(b"\n") + 1].decode("utf-8", "replace")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def main():
    procs, tmp = [], tempfile.mkdtemp(prefix="cars-bench-")
    try:
        return bench(procs, tmp)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", tmp])


def bench(procs, tmp):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cars", default="target/release/cars")
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--window", type=int, default=16, help="jobs in flight at most")
    ap.add_argument("--no-kill", action="store_true", help="no SIGKILL mid-run")
    ap.add_argument("--claim-idle", default="2s")
    ap.add_argument("--appendonly", action="store_true", help="Redis AOF, appendfsync everysec")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()

    base = build_log()
    port = free_port()
    redis_args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                  "--dir", tmp]
    redis_args += (["--appendonly", "yes", "--appendfsync", "everysec"] if args.appendonly
                   else ["--appendonly", "no"])
    redis = subprocess.Popen(redis_args, stdout=subprocess.DEVNULL)
    procs.append(redis)
    for _ in range(200):
        try:
            Resp(port).call("PING")
            break
        except OSError:
            time.sleep(0.05)
    env = dict(os.environ, CARS_DATA_DIR=os.path.join(tmp, "data"))
    workers = {}

    def start(name):
        workers[name] = subprocess.Popen(
            [args.cars, "worker", "--redis", f"redis://127.0.0.1:{port}", "--name", name,
             "--claim-idle", args.claim_idle],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, name + ".err"), "a"))
        procs.append(workers[name])

    names = [f"w{i + 1}" for i in range(args.workers)]
    for n in names:
        start(n)
    ctl = Resp(port)
    deadline = time.time() + 60
    while (ctl.call("XLEN", "cars:status") or 0) < len(names):
        if time.time() > deadline:
            errs = [open(os.path.join(tmp, n + ".err")).read() for n in names]
            sys.exit("workers did not start: " + " ".join(errs))
        time.sleep(0.05)

    sent, done, results = {}, {}, []
    lock = threading.Condition()
    rss = {n: [] for n in names}
    stop = threading.Event()

    def reader():
        r = Resp(port)
        last = "0-0"
        while not stop.is_set():
            reply = r.call("XREAD", "COUNT", 200, "BLOCK", 200, "STREAMS", "cars:results", last)
            if not reply:
                continue
            now = time.time()
            for _key, entries in reply:
                for entry_id, fields in entries:
                    last = entry_id
                    f = dict(zip(fields[::2], fields[1::2]))
                    with lock:
                        results.append(f)
                        done.setdefault(f["job_id"], now)
                        lock.notify_all()

    def sampler():
        while not stop.is_set():
            for n in names:
                w = workers.get(n)
                v = rss_kib(w.pid) if w else None
                if v:
                    rss[n].append((time.time(), w.pid, v))
            time.sleep(0.25)

    threads = [threading.Thread(target=reader, daemon=True),
               threading.Thread(target=sampler, daemon=True)]
    for t in threads:
        t.start()

    producer = Resp(port)
    killed = None
    started = time.time()
    for i in range(args.jobs):
        with lock:
            while len(sent) - len(done) >= args.window:
                lock.wait(1)
        if not args.no_kill and killed is None and len(done) >= args.jobs // 2:
            victim = names[-1]
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            killed = {"worker": victim, "after_results": len(done), "at": time.time() - started}
            start(victim)
        job_id = f"bench-{i}"
        payload = json.dumps({"log": base + f"cars bench job {i}\n", "project": "bench",
                              "job": "ci/test", "job_id": job_id})
        sent[job_id] = time.time()
        producer.call("XADD", "cars:jobs", "*", "type", "analyze_log", "payload", payload)
    # Wait for the stragglers, a reclaim included.
    with lock:
        end_by = time.time() + 120
        while len(done) < args.jobs and time.time() < end_by:
            lock.wait(1)
    finished = time.time()
    time.sleep(1)  # let a duplicate result show up, if any
    stop.set()
    for t in threads:
        t.join(timeout=5)
    for w in workers.values():
        w.send_signal(signal.SIGTERM)
    for w in workers.values():
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
    db = sqlite3.connect(os.path.join(tmp, "data", "service", "cars.db"))
    stored = dict(db.execute("SELECT job_id, count(*) FROM service_jobs GROUP BY job_id"))
    statuses = dict(db.execute("SELECT status, count(*) FROM service_jobs GROUP BY status"))
    reused = db.execute("SELECT count(*) FROM service_jobs WHERE reused IS NOT NULL").fetchone()[0]
    handler_ms = [r[0] for r in db.execute("SELECT duration_ms FROM service_jobs")]
    redeliveries = db.execute("SELECT count(*) FROM service_jobs WHERE deliveries > 1").fetchone()[0]
    pending = ctl.call("XPENDING", "cars:jobs", "cars-workers")[0]
    dead = ctl.call("XLEN", "cars:jobs:dead")
    redis.terminate()
    redis.wait()

    lat = [(done[j] - sent[j]) * 1000 for j in sent if j in done]
    per_job = {}
    for r in results:
        per_job[r["job_id"]] = per_job.get(r["job_id"], 0) + 1
    wall = finished - started
    figures = {
        "jobs": args.jobs,
        "workers": args.workers,
        "window": args.window,
        "log_bytes": len(base.encode()),
        "wall_s": round(wall, 2),
        "jobs_per_s": round(len(done) / wall, 1),
        "latency_ms": {"p50": round(pct(lat, 50), 1), "p99": round(pct(lat, 99), 1),
                       "max": round(max(lat), 1)},
        "handler_ms": {"p50": pct(handler_ms, 50), "p99": pct(handler_ms, 99)},
        "killed": killed,
        "lost": sum(1 for j in sent if j not in done and j not in stored),
        "no_result": sum(1 for j in sent if j not in done),
        "stored_twice": sum(1 for c in stored.values() if c > 1),
        "results_twice": sum(1 for c in per_job.values() if c > 1),
        "stored": len(stored),
        "statuses": statuses,
        "answered_from_store": reused,
        "redelivered": redeliveries,
        "pending_at_end": pending,
        "dead_lettered": dead,
        "rss_mib": {},
    }
    for n, samples in rss.items():
        by_pid = {}
        for _t, pid, v in samples:
            by_pid.setdefault(pid, []).append(v / 1024)
        figures["rss_mib"][n] = [
            {"pid": pid, "samples": len(v), "first": round(v[0], 1),
             "median": round(statistics.median(v), 1), "max": round(max(v), 1),
             "last": round(v[-1], 1)}
            for pid, v in by_pid.items()
        ]
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    ok = figures["lost"] == 0 and figures["stored_twice"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
