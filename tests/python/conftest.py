"""Fixtures of the Python node tests: processes started on a DDS domain of their own
(run inside scripts/isolated, as every DDS test), the orchestrator with its REST API,
and the Rust binaries of target/debug."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODES = pathlib.Path(__file__).resolve().parent / "nodes"
BIN = ROOT / "target" / "debug"


def binary(name):
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo build --workspace` first")
    return str(path)


def requires_isolation():
    if os.environ.get("SUSTAINML_ISOLATED") != "1":
        pytest.skip("opens DDS participants: run inside scripts/isolated")


class Processes:
    """Processes of one test, each with its log; all stopped at the end."""

    def __init__(self, tmp, domain):
        self.tmp = tmp
        self.domain = domain
        self.procs = []

    def env(self, **extra):
        env = dict(os.environ)
        env["SUSTAINML_DOMAIN_ID"] = str(self.domain)
        env.setdefault("RUST_LOG", "info")
        env["XDG_DATA_HOME"] = str(self.tmp / "xdg")
        env.update(extra)
        return env

    def start(self, name, args, **env):
        log = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=self.env(**env), cwd=ROOT)
        proc.name = name
        proc.log_path = self.tmp / f"{name}.log"
        self.procs.append(proc)
        return proc

    def python(self, name, script, *args):
        return self.start(name, [sys.executable, str(NODES / script), *args])

    def log(self, proc):
        return proc.log_path.read_text(errors="replace")

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "domain(n): the DDS domain of the test")


def orchestrator(procs):
    """Starts the orchestrator; returns its client, ready (the six nodes matched)."""
    from sustainml_py.client import Orchestrator

    port = free_port()
    procs.start(
        "orchestrator",
        [binary("sustainml-orchestrator"), "--bind", f"127.0.0.1:{port}", "--data-dir", str(procs.tmp / "store")],
    )
    client = Orchestrator(f"http://127.0.0.1:{port}")
    client.wait_ready(60)
    return client


def wait_exit(proc, timeout):
    start = time.monotonic()
    code = proc.wait(timeout)
    return code, time.monotonic() - start
