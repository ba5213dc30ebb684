"""What the vendor status readers share: the loopback guard, the domain, the line
protocol and the run loop (SIGTERM/SIGINT or --timeout)."""

import argparse
import os
import signal
import socket
import sys
import threading

IFF_UP = 0x1
IFF_LOOPBACK = 0x8

NODE_STATUS = [
    "NODE_INACTIVE",
    "NODE_ERROR",
    "NODE_IDLE",
    "NODE_INITIALIZING",
    "NODE_RUNNING",
    "NODE_TERMINATING",
]
TASK_STATUS = ["TASK_WAITING", "TASK_ERROR", "TASK_RUNNING", "TASK_SUCCEEDED"]


def fail(code, message):
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def exposed_interfaces():
    """Names of the network interfaces that are up and are not loopback."""
    exposed = []
    for _, name in socket.if_nameindex():
        try:
            with open(f"/sys/class/net/{name}/flags") as f:
                flags = int(f.read().strip(), 16)
        except OSError as e:
            fail(2, f"cannot read the flags of interface {name}: {e}")
        if flags & IFF_UP and not flags & IFF_LOOPBACK:
            exposed.append(name)
    return exposed


def refuse_unless_isolated():
    """Exit 2 while a non-loopback interface is up: no DDS packet may leave."""
    exposed = exposed_interfaces()
    if exposed:
        fail(
            2,
            "refusing to open a DDS participant while a non-loopback interface is up ("
            + ", ".join(exposed)
            + "); run inside scripts/isolated",
        )


def domain_from_env():
    """SUSTAINML_DOMAIN_ID, 0..=232, default 0; anything else is exit 2."""
    raw = os.environ.get("SUSTAINML_DOMAIN_ID", "")
    if raw == "":
        return 0
    if not raw.isdigit() or int(raw) > 232:
        fail(2, f"SUSTAINML_DOMAIN_ID must be an integer from 0 to 232, not {raw!r}")
    return int(raw)


def parse_args(doc):
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument(
        "--expect-nodes",
        default="",
        help="comma-separated node names; at --timeout, exit 1 if one was not seen",
    )
    return parser.parse_args()


class Lines:
    """Prints one flushed `STATUS name node_status task_status p.i` line per sample
    and remembers the node names seen."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = set()

    def status(self, node_name, node_status, task_status, problem_id, iteration_id):
        with self.lock:
            print(
                f"STATUS {node_name} {node_status} {task_status} {problem_id}.{iteration_id}",
                flush=True,
            )
            self.seen.add(node_name)


def run(args, lines, poll=None):
    """Prints READY, then waits for SIGTERM/SIGINT or --timeout (calling `poll(s)`
    repeatedly if given, else sleeping); exits 0, or 1 on a timeout with an
    expected node unseen."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("READY", flush=True)
    deadline = threading.Event()
    timer = threading.Timer(args.timeout, deadline.set)
    timer.daemon = True
    timer.start()
    while not stop.is_set() and not deadline.is_set():
        if poll is None:
            stop.wait(0.2)
        else:
            poll(0.2)
    expected = {n for n in args.expect_nodes.split(",") if n}
    with lines.lock:
        missing = sorted(expected - lines.seen)
    if missing and not stop.is_set():
        print(
            f"{os.path.basename(sys.argv[0])}: timed out; no status from "
            + ", ".join(missing),
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0
