"""Fixtures of the Python tests: a real broker (`cairn start` of the build tree, found through
$CAIRN_BUILDDIR, else `cairn` in PATH) with a private statedir, its URI read from its stdout.
Every wait is bounded."""
import os
import select
import shutil
import subprocess
import tempfile

import pytest


def cairn_program():
    builddir = os.environ.get("CAIRN_BUILDDIR")
    if builddir:
        return os.path.join(builddir, "src", "cmd", "cairn")
    return shutil.which("cairn") or "cairn"


class Broker:
    def __init__(self):
        self.statedir = tempfile.mkdtemp(prefix="cairn-pytest-")
        self.proc = subprocess.Popen(
            [cairn_program(), "start", "--statedir", self.statedir],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError("cairn start printed no URI within 30 s")
        self.uri = line

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.statedir, ignore_errors=True)


@pytest.fixture(scope="session")
def broker():
    b = Broker()
    yield b
    b.stop()


@pytest.fixture
def uri(broker):
    return broker.uri
