"""The cairn package against a real broker: each call, its errors, the pipelined *_many and
the event-loop hooks."""
import asyncio
import errno
import hashlib
import os

import pytest

import cairn


def test_store_then_load_returns_the_same_bytes(uri):
    with cairn.Handle(uri) as h:
        ref = h.store(b"hello\0python")
        assert ref.startswith("sha1-") and len(ref) == 45
        assert h.load(ref) == b"hello\0python"


def test_store_takes_any_bytes_like_object(uri):
    with cairn.Handle(uri) as h:
        assert h.store(bytearray(b"abc")) == h.store(memoryview(b"xabc")[1:]) == h.store(b"abc")


def test_handle_uses_cairn_uri_when_no_uri_is_given(uri, monkeypatch):
    monkeypatch.setenv("CAIRN_URI", uri)
    with cairn.Handle() as h:
        assert h.rpc("broker.ping", b"env") == b"env"


def test_no_uri_and_no_cairn_uri_says_what_to_do(monkeypatch):
    monkeypatch.delenv("CAIRN_URI", raising=False)
    with pytest.raises(cairn.Error) as e:
        cairn.Handle()
    assert e.value.errno == errno.EINVAL
    assert "CAIRN_URI is not set" in str(e.value) and "cairn start" in str(e.value)


def test_a_socket_that_is_not_there_raises_oserror_at_once(tmp_path):
    with pytest.raises(OSError) as e:
        cairn.Handle(f"local://{tmp_path}/no-such.sock")
    assert isinstance(e.value, cairn.Error)
    assert e.value.errno == errno.ENOENT
    assert "no-such.sock: cannot connect" in str(e.value)


def test_loading_an_unknown_blob_raises_error_with_errno_and_the_brokers_text(uri):
    with cairn.Handle(uri) as h:
        with pytest.raises(cairn.Error) as e:
            h.load("sha1-" + "0" * 40)
    assert e.value.errno == errno.ENOENT
    assert e.value.text == "no such blob"
    assert "content.load sha1-0000" in str(e.value)


def test_an_unknown_topic_raises_enosys(uri):
    with cairn.Handle(uri) as h:
        with pytest.raises(cairn.Error) as e:
            h.rpc("no.such.service")
    assert e.value.errno == errno.ENOSYS
    assert e.value.text == "unknown service: no.such.service"


def test_store_many_and_load_many_keep_the_order(uri):
    blobs = [os.urandom(100) + bytes([i % 256]) for i in range(1000)]
    with cairn.Handle(uri) as h:
        refs = h.store_many(iter(blobs), depth=16)
        assert refs == [h.store(b) for b in blobs[:5]] + refs[5:]
        assert len(refs) == 1000
        assert h.load_many(refs, depth=7) == blobs
        assert h.store_many([]) == [] and h.load_many([]) == []


def test_load_many_raises_for_the_first_missing_blob(uri):
    with cairn.Handle(uri) as h:
        refs = h.store_many([b"a", b"b"])
        with pytest.raises(cairn.Error) as e:
            h.load_many([refs[0], "sha1-" + "1" * 40, refs[1]])
        assert e.value.errno == errno.ENOENT
        assert f"content.load sha1-{'1' * 40}: no such blob" in str(e.value)
        assert h.load_many(refs) == [b"a", b"b"]  # the handle goes on


def test_flush_and_stats(uri):
    with cairn.Handle(uri) as h:
        h.store(b"flushed from python")
        h.flush()
        stats = h.stats()
    assert stats["dirty"] == 0 and stats["count"] >= 1


def test_timeout_is_passed_on(uri):
    with cairn.Handle(uri, timeout=0.5) as h:
        assert h.rpc("broker.ping") == b""


def test_a_closed_handle_raises_and_its_pending_futures_fail_with_enotconn(uri):
    h = cairn.Handle(uri)
    answered = h.rpc_future("broker.ping", b"kept")
    assert answered.get() == b"kept"
    pending = h.rpc_future("broker.ping", b"lost")
    h.close()
    assert answered.get() == b"kept"
    with pytest.raises(cairn.Error) as e:
        pending.get()
    assert e.value.errno == errno.ENOTCONN and "cairn_close" in e.value.text
    with pytest.raises(cairn.Error):
        h.store(b"x")


def test_continuations_run_from_dispatch_in_asyncio(uri):
    async def main():
        loop = asyncio.get_running_loop()
        with cairn.Handle(uri) as h:
            loop.add_reader(h.fileno(), h.dispatch)
            try:
                ref = h.store(b"async")
                done = loop.create_future()
                f = h.content_load(ref)
                f.then(lambda f: done.set_result(f.get()))
                h.dispatch()  # sends the request
                return await asyncio.wait_for(done, 30)
            finally:
                loop.remove_reader(h.fileno())

    assert asyncio.run(main()) == b"async"


def test_a_future_dropped_before_its_answer_is_safe(uri):
    with cairn.Handle(uri) as h:
        ref = h.store(b"dropped")
        for _ in range(10):
            h.content_load(ref).destroy()
        h.content_load(ref)  # garbage at once
        assert h.load(ref) == b"dropped"
        assert h.dispatch() == 0


def test_missing_names_only_the_blobs_nobody_holds_in_order(uri):
    with cairn.Handle(uri) as h:
        blobs = [b"missing-test-%d" % i for i in range(4)]
        kept = h.store_many(blobs[1:3])
        absent = ["sha1-" + hashlib.sha1(b).hexdigest() for b in (blobs[0], blobs[3])]
        asked = [absent[0], kept[0], kept[1], absent[1]]
        assert h.missing(asked) == absent
        assert h.missing([]) == []
        h.store_many([blobs[0], blobs[3]])
        assert h.missing(asked) == []


def test_missing_with_a_malformed_blobref_raises_with_the_brokers_text(uri):
    with cairn.Handle(uri) as h:
        with pytest.raises(cairn.Error) as e:
            h.missing(["sha1-nothex"])
    assert e.value.errno != 0
    assert "sha1-nothex" in str(e.value)
