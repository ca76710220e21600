"""python-bench: the cairn Python package against redis-py, measured in the same run.

Stores COUNT blobs of SIZE bytes with Handle.store_many and loads them back with load_many
(DEPTH in flight), against a broker this script starts (`cairn start`, memory only unless
--backing says otherwise); then SETs and GETs the same blobs through redis-py pipelines
(transaction=False, DEPTH commands per execute()) against a redis-server it starts on a Unix
socket of its own. Prints each rate (median of --runs runs) and cairn's ratio to redis.
Run it as t/perf/python-bench from the build tree (which sets PYTHONPATH and CAIRN_BUILDDIR).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def fail(text):
    sys.exit(f"python-bench: {text}")


try:
    import redis
except ImportError:
    fail(f"{sys.executable} cannot import redis: install the Debian package python3-redis")
try:
    import cairn
except ImportError as e:
    fail(f"cannot import cairn ({e}): run t/perf/python-bench from the build tree")


def cairn_program():
    builddir = os.environ.get("CAIRN_BUILDDIR")
    if builddir:
        return os.path.join(builddir, "src", "cmd", "cairn")
    return shutil.which("cairn") or fail("no cairn in PATH: set CAIRN_BUILDDIR")


class Process:
    """A child process killed and reaped when the `with` block ends."""

    def __init__(self, argv, **kw):
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, **kw)
        except OSError as e:
            fail(f"cannot run {argv[0]}: {e.strerror}")

    def __enter__(self):
        return self.proc

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(what, predicate, seconds=30):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            fail(f"{what} did not come up within {seconds} s")
        time.sleep(0.01)


def bench_cairn(uri, blobs, depth):
    with cairn.Handle(uri) as h:
        t0 = time.perf_counter()
        refs = h.store_many(blobs, depth=depth)
        t1 = time.perf_counter()
        got = h.load_many(refs, depth=depth)
        t2 = time.perf_counter()
    if got != blobs:
        fail("cairn: load_many returned other bytes than were stored")
    return len(blobs) / (t1 - t0), len(blobs) / (t2 - t1)


def bench_redis(r, blobs, depth):
    r.flushall()
    keys = [f"blob:{i}" for i in range(len(blobs))]
    t0 = time.perf_counter()
    for i in range(0, len(blobs), depth):
        p = r.pipeline(transaction=False)
        for k, b in zip(keys[i : i + depth], blobs[i : i + depth]):
            p.set(k, b)
        p.execute()
    t1 = time.perf_counter()
    got = []
    for i in range(0, len(keys), depth):
        p = r.pipeline(transaction=False)
        for k in keys[i : i + depth]:
            p.get(k)
        got.extend(p.execute())
    t2 = time.perf_counter()
    if got != blobs:
        fail("redis: GETs returned other bytes than were SET")
    return len(blobs) / (t1 - t0), len(blobs) / (t2 - t1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=50000, help="blobs per run (50000)")
    ap.add_argument("--size", type=int, default=1024, help="bytes per blob (1024)")
    ap.add_argument("--depth", type=int, default=16, help="requests in flight (16)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each; the median is shown (3)")
    ap.add_argument("--backing", default="none", help="the broker's content.backing (none)")
    a = ap.parse_args()
    if a.count < 1 or a.size < 1 or a.depth < 1 or a.runs < 1:
        fail("--count, --size, --depth and --runs must be positive")
    if not shutil.which("redis-server"):
        fail("redis-server not found: install the Debian package redis-server")

    tmp = tempfile.mkdtemp(prefix="python-bench-")
    try:
        sock = os.path.join(tmp, "redis.sock")
        redis_argv = ["redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
                      "--appendonly", "no", "--dir", tmp]
        cairn_argv = [cairn_program(), "start", "--statedir", os.path.join(tmp, "cairn"),
                      "-o", f"content.backing={a.backing}"]
        broker_err = open(os.path.join(tmp, "cairn.err"), "w+")
        with Process(redis_argv, stdout=subprocess.DEVNULL) as _, \
                Process(cairn_argv, stdout=subprocess.PIPE, stderr=broker_err) as broker:
            uri = broker.stdout.readline().decode().strip()
            if not uri:
                broker_err.seek(0)
                fail(f"`{' '.join(cairn_argv)}` printed no URI:\n{broker_err.read()}")
            wait_for("redis-server", lambda: os.path.exists(sock))
            r = redis.Redis(unix_socket_path=sock)
            wait_for("redis-server", lambda: _pings(r))
            runs = {"cairn": [], "redis": []}
            for run in range(a.runs):
                blobs = [os.urandom(a.size) for _ in range(a.count)]
                runs["cairn"].append(bench_cairn(uri, blobs, a.depth))
                runs["redis"].append(bench_redis(r, blobs, a.depth))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name, i):
        return statistics.median(x[i] for x in runs[name])

    print(f"python-bench: {a.count} x {a.size} B, {a.depth} in flight, median of {a.runs} runs, "
          f"{sys.executable} {sys.version.split()[0]}, content.backing={a.backing}")
    for i, (c_op, r_op) in enumerate([("store_many", "SET"), ("load_many", "GET")]):
        c, rr = med("cairn", i), med("redis", i)
        print(f"  cairn {c_op:10s} {c:10.0f}/s   redis-py {r_op} {rr:10.0f}/s   "
              f"ratio {c / rr:.2f}")


def _pings(r):
    try:
        return r.ping()
    except redis.exceptions.ConnectionError:
        return False


if __name__ == "__main__":
    main()
