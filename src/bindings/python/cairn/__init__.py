"""cairn: the Python client of the cairn content cache, a thin layer over libcairn.

Each call maps one function of <cairn/client.h> (see cairn_open(3)); a failure raises
cairn.Error, an OSError carrying the errno and the broker's text. Only the conveniences are
Python's own: the context manager, store_many/load_many (pipelined) and stats() (JSON).

    import cairn
    with cairn.Handle() as h:            # $CAIRN_URI, as `cairn start` sets it
        ref = h.store(b"hello")          # 'sha1-...'
        assert h.load(ref) == b"hello"
        refs = h.store_many([b"a", b"b"])
        blobs = h.load_many(refs)
        absent = h.missing(refs)         # the blobrefs neither the cache nor its store holds
        h.flush()                        # every blob stored so far is on the backing store
        print(h.stats()["count"])
        h.rpc("broker.ping", b"x")       # any request: its reply's payload

A handle belongs to one thread. With asyncio, let the loop drive continuations:

    loop.add_reader(h.fileno(), h.dispatch)
    f = h.content_load(ref)                       # a Future
    done = loop.create_future()
    f.then(lambda f: done.set_result(f.get()))
    h.dispatch()                                  # sends the request; never blocks
    blob = await done
"""
import collections
import json
import os

from ._lib import ffi, lib

__all__ = ["Error", "Handle", "Future"]


class Error(OSError):
    """A failed request or connection: .errno, .strerror (what failed and why) and .text (the
    broker's or libcairn's own text)."""

    def __init__(self, errnum, what, text=None):
        self.text = text if text else os.strerror(errnum)
        super().__init__(errnum, f"{what}: {self.text}")


def _error(what, f=None):
    errnum = ffi.errno
    text = None
    if f is not None:
        p = lib.cairn_future_error(f)
        if p != ffi.NULL:
            text = ffi.string(p).decode("utf-8", "replace")
    return Error(errnum, what, text)


def _buffer(data):
    """bytes pass as they are; any other buffer (bytearray, memoryview) without a copy."""
    return data if type(data) is bytes else ffi.from_buffer(data)


class Future:
    """One request's answer (cairn_future_t). get() waits for it; then(cb) has cb(future) run
    by Handle.dispatch() once it has come."""

    __slots__ = ("_f", "_what", "_kind", "_cb", "_self_handle", "_owner", "__weakref__")

    def __init__(self, f, what, kind, owner):
        self._f = ffi.gc(f, lib.cairn_future_destroy)
        self._what = what
        self._kind = kind
        self._cb = None
        self._self_handle = None
        self._owner = owner  # the Handle, which keeps a future with a continuation alive

    def get(self):
        """Waits for the answer: the blobref (str) of a store, the blob (bytes) of a load,
        None for a flush, the payload (bytes) of an rpc. Raises cairn.Error."""
        p = ffi.new("const char **")
        n = ffi.new("size_t *")
        if self._kind == "store":
            if lib.cairn_content_store_get(self._f, p) < 0:
                raise _error(self._what, self._f)
            return ffi.string(p[0]).decode()
        if lib.cairn_rpc_get(self._f, p, n) < 0:
            raise _error(self._what, self._f)
        if self._kind == "flush":
            return None
        return ffi.unpack(p[0], n[0])

    def then(self, cb):
        """Has cb(self) run from Handle.dispatch() once the answer has come."""
        self._cb = cb
        self._self_handle = ffi.new_handle(self)
        if lib.cairn_future_then(self._f, _continuation, self._self_handle) < 0:
            self._self_handle = None
            raise _error(self._what)
        self._owner._continued.add(self)

    @property
    def error(self):
        """The text of the failure the last get() raised, or None."""
        p = lib.cairn_future_error(self._f)
        return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")

    def destroy(self):
        """Frees the future now (a late answer is dropped); it cannot be used afterwards."""
        if self._f is not None:
            f, self._f = self._f, None
            ffi.release(f)


@ffi.callback("void(cairn_future_t *, void *)")
def _continuation(f, arg):
    fut = ffi.from_handle(arg)
    cb, fut._cb, fut._self_handle = fut._cb, None, None
    fut._owner._continued.discard(fut)
    cb(fut)


class Handle:
    """A connection to a broker (cairn_t): `uri` as `cairn start` prints it, default
    $CAIRN_URI; `timeout` in seconds for each wait (default $CAIRN_RPC_TIMEOUT or 60).
    Raises OSError (cairn.Error) at once when the broker's socket is not there."""

    def __init__(self, uri=None, timeout=None):
        self._h = None
        h = lib.cairn_open(uri.encode() if uri else ffi.NULL, 0)
        if h == ffi.NULL:
            errnum = ffi.errno
            if not uri and not os.environ.get("CAIRN_URI"):
                raise Error(
                    errnum,
                    "CAIRN_URI is not set",
                    "run the program under `cairn start`, or pass the URI `cairn start` printed",
                )
            raise Error(
                errnum,
                f"{uri or os.environ['CAIRN_URI']}: cannot connect",
                f"{os.strerror(errnum)} (use the URI `cairn start` printed)",
            )
        self._h = ffi.gc(h, lib.cairn_close)
        self._continued = set()  # futures whose continuation has not run yet
        self._ref = ffi.new("const char **")
        self._data = ffi.new("const char **")
        self._len = ffi.new("size_t *")
        if timeout is not None and lib.cairn_set_timeout(self._h, float(timeout)) < 0:
            raise _error(f"timeout {timeout!r}")

    def close(self):
        """Closes the connection (cairn_close); futures still alive fail with ENOTCONN."""
        if self._h is not None:
            h, self._h = self._h, None
            ffi.release(h)
            self._continued.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if self._h is None:
            raise Error(9, "cairn.Handle", "the handle is closed")  # EBADF
        return self._h

    # ---- futures, one to one with the C API ----

    def content_store(self, data):
        """Queues content.store of `data` (bytes-like): a Future of the blobref."""
        f = lib.cairn_content_store(self._handle(), _buffer(data), len(data))
        if f == ffi.NULL:
            raise _error("content.store")
        return Future(f, "content.store", "store", self)

    def content_load(self, ref):
        """Queues content.load of the blobref `ref`: a Future of the blob."""
        f = lib.cairn_content_load(self._handle(), ref.encode())
        if f == ffi.NULL:
            raise _error("content.load")
        return Future(f, f"content.load {ref}", "load", self)

    def content_flush(self):
        """Queues content.flush: a Future of None."""
        f = lib.cairn_content_flush(self._handle())
        if f == ffi.NULL:
            raise _error("content.flush")
        return Future(f, "content.flush", "flush", self)

    def rpc_future(self, topic, payload=b""):
        """Queues any request: a Future of the reply's payload (bytes)."""
        f = lib.cairn_rpc(self._handle(), topic.encode(), _buffer(payload), len(payload))
        if f == ffi.NULL:
            raise _error(topic)
        return Future(f, topic, "rpc", self)

    # ---- blocking calls ----

    def store(self, data):
        """Stores `data` (bytes-like); returns its blobref, e.g. 'sha1-...'."""
        f = lib.cairn_content_store(self._handle(), _buffer(data), len(data))
        if f == ffi.NULL:
            raise _error("content.store")
        try:
            if lib.cairn_content_store_get(f, self._ref) < 0:
                raise _error("content.store", f)
            return ffi.string(self._ref[0]).decode()
        finally:
            lib.cairn_future_destroy(f)

    def load(self, ref):
        """Returns the blob whose blobref is `ref`; Error ENOENT if there is none."""
        f = lib.cairn_content_load(self._handle(), ref.encode())
        if f == ffi.NULL:
            raise _error("content.load")
        try:
            if lib.cairn_content_load_get(f, self._data, self._len) < 0:
                raise _error(f"content.load {ref}", f)
            return ffi.unpack(self._data[0], self._len[0])
        finally:
            lib.cairn_future_destroy(f)

    def store_many(self, blobs, depth=16):
        """Stores each blob of the iterable `blobs`, `depth` requests in flight; returns their
        blobrefs in order."""
        h = self._handle()
        store, get = lib.cairn_content_store, lib.cairn_content_store_get
        ref, string = self._ref, ffi.string
        refs = []

        def settle(f):
            if get(f, ref) < 0:
                raise _error("content.store", f)
            refs.append(string(ref[0]).decode())

        def request(data):
            f = store(h, data if type(data) is bytes else ffi.from_buffer(data), len(data))
            if not f:
                raise _error("content.store")
            return f

        self._pipeline(blobs, depth, request, settle)
        return refs

    def load_many(self, refs, depth=16):
        """Loads the blob of each blobref in the iterable `refs`, `depth` requests in flight;
        returns them in order."""
        h = self._handle()
        load, get = lib.cairn_content_load, lib.cairn_content_load_get
        data, n, unpack = self._data, self._len, ffi.unpack
        blobs = []
        asked = collections.deque()  # the blobrefs in flight, for the error text

        def settle(f):
            ref = asked.popleft()
            if get(f, data, n) < 0:
                raise _error(f"content.load {ref}", f)
            blobs.append(unpack(data[0], n[0]))

        def request(ref):
            f = load(h, ref.encode())
            if not f:
                raise _error("content.load")
            asked.append(ref)
            return f

        self._pipeline(refs, depth, request, settle)
        return blobs

    @staticmethod
    def _pipeline(items, depth, request, settle):
        """request(item) for each item, at most `depth` futures in flight; settle(future) for
        each in order. Whenever the window is full, its older half is settled, so that the next
        requests leave (as one batch) while the broker still works on the younger half."""
        destroy = lib.cairn_future_destroy
        depth = max(1, int(depth))
        half = max(1, depth // 2)
        window = []
        try:
            for item in items:
                window.append(request(item))
                if len(window) >= depth:
                    for f in window[:half]:
                        settle(f)
                    for f in window[:half]:
                        destroy(f)
                    del window[:half]
            for f in window:
                settle(f)
        finally:
            for f in window:
                destroy(f)

    def flush(self):
        """Returns once every blob stored before it is on the backing store."""
        self.content_flush().get()

    def missing(self, refs):
        """The blobrefs of the iterable `refs` that neither the cache nor its backing store
        holds, in order (content.missing, one request for all): store only those."""
        refs = list(refs)
        encoded = [ffi.new("char[]", r.encode()) for r in refs]
        array = ffi.new("const char *[]", encoded)
        f = lib.cairn_content_missing(self._handle(), array, len(refs))
        if f == ffi.NULL:
            raise _error("content.missing")
        try:
            out = ffi.new("const char *const **")
            n = ffi.new("size_t *")
            if lib.cairn_content_missing_get(f, out, n) < 0:
                raise _error("content.missing", f)
            return [ffi.string(out[0][i]).decode() for i in range(n[0])]
        finally:
            lib.cairn_future_destroy(f)

    def stats(self):
        """The content cache's state (content.stats-get) as a dict."""
        return json.loads(self.rpc("content.stats-get"))

    def rpc(self, topic, payload=b""):
        """Sends any request and returns its reply's payload (bytes)."""
        f = self.rpc_future(topic, payload)
        try:
            return f.get()
        finally:
            f.destroy()

    # ---- the caller's event loop ----

    def fileno(self):
        """A descriptor that becomes readable when an answer may have come (edge-triggered:
        call dispatch() when it wakes, as loop.add_reader(h.fileno(), h.dispatch) does)."""
        fd = lib.cairn_pollfd(self._handle())
        if fd < 0:
            raise _error("cairn_pollfd")
        return fd

    def dispatch(self):
        """Sends queued requests and runs the continuations of answered futures; never waits.
        Returns how many ran."""
        ran = lib.cairn_dispatch(self._handle())
        if ran < 0:
            raise _error("cairn_dispatch")
        return ran
