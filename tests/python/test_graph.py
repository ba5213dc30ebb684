"""Every node kind written in Python beside Rust nodes, driven through the Rust
orchestrator's REST API with sustainml_py.client; failures, configuration and
SIGINT on the same graphs."""

import json
import signal
import subprocess

import pytest

from conftest import Processes, binary, orchestrator, requires_isolation, wait_exit
from sustainml_py.client import OrchestratorError, TaskFailed

PROBLEM = {
    "problem_short_description": "classify bird songs",
    "modality": "audio",
    "extra_data": {"hardware_required": "PIM_AI_4chip", "max_memory_footprint": 64},
}


def rust_node(procs, kind):
    return procs.start(f"rust-{kind}", [binary("sustainml-test-node"), "--kind", kind])


@pytest.fixture(scope="module")
def graph_a(tmp_path_factory):
    """Python APP_REQUIREMENTS (plain spin on the main thread), HW_CONSTRAINTS (the
    reference's worker-thread style) and ML_MODEL_METADATA; Rust ML_MODEL,
    HW_RESOURCES and CARBON_FOOTPRINT."""
    requires_isolation()
    procs = Processes(tmp_path_factory.mktemp("graph_a"), 212)
    py = {
        "app": procs.python("py-app", "trivial_app.py"),
        "hw": procs.python("py-hw-constraints", "ref_hw_constraints.py"),
        "md": procs.python("py-metadata", "py_graph.py", "ml_model_metadata"),
    }
    for kind in ["ml_model", "hw_resources", "carbon_footprint"]:
        rust_node(procs, kind)
    try:
        client = orchestrator(procs)
    except OrchestratorError:
        dump(procs)
        raise
    yield procs, client, py
    procs.stop_all()


def dump(procs):
    for p in procs.procs:
        print(f"--- {p.name} ---\n{procs.log(p)[-3000:]}")


def test_python_upstream_nodes_complete_tasks_end_to_end(graph_a):
    # Protects: Python nodes of the first three kinds serve a real graph.
    procs, client, _ = graph_a
    for n in range(3):
        task = client.submit(dict(PROBLEM, problem_short_description=f"classify bird songs {n}"))
        t = client.wait(task, timeout=60)
        out = t["outputs"]
        assert out["APP_REQUIREMENTS"]["app_requirements"] == ["python", f"classify bird songs {n}"]
        assert out["HW_CONSTRAINTS"]["hardware_required"] == ["PIM_AI_4chip"]
        assert out["HW_CONSTRAINTS"]["max_memory_footprint"] == 64
        assert out["HW_CONSTRAINTS"]["extra_data"] == {"from": "ref_hw_constraints.py"}
        assert out["ML_MODEL_METADATA"]["keywords"] == ["classify", "bird", "songs", str(n)]


def cli(procs, *args, stdin=None):
    """Runs `sustainml ARGS` on the test's domain; fails the test on a non-zero exit."""
    run = subprocess.run([binary("sustainml"), *args], env=procs.env(), input=stdin, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, f"sustainml {' '.join(args)}: {run.stdout}{run.stderr}"
    return run.stdout


def test_python_generic_nodes_chain_on_topics_of_their_own(tmp_path):
    # Protects: GenericNode joins any topics by task id (SustainML ones and its own),
    # with its inputs in the order given, and publishes on a topic of its own; a
    # raising generic callback publishes nothing for its task and the next succeeds.
    requires_isolation()
    procs = Processes(tmp_path, 220)
    node = procs.python("py-generic", "py_generic.py")
    try:
        for problem, text in [(1, "fail the summary"), (2, "summarise me")]:
            task = {"problem_id": problem, "iteration_id": 1}
            for topic, sample in [
                ("/sustainml/carbon_tracker/output", {"task_id": task, "carbon_footprint": 1.5, "carbon_intensity": 7}),
                ("/sustainml/user_input", {"task_id": task, "problem_short_description": text}),
                ("/sustainml/hw_resources/output", {"task_id": task, "hw_description": f"hw {problem}"}),
            ]:
                # pub waits until SUMMARY_NODE's reader has acknowledged the sample.
                cli(procs, "topic", "pub", topic, "-", "--wait", "60", stdin=json.dumps(sample))
        out = cli(procs, "topic", "echo", "/sustainml_test/doubled", "--type", "CO2FootprintImpl", "--json",
                  "--count", "1", "--timeout", "60")
        samples = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert len(samples) == 1, out
        doubled = samples[0]
        assert doubled["task_id"] == {"problem_id": 2, "iteration_id": 1}, doubled
        assert doubled["carbon_footprint"] == pytest.approx(3.0)
        assert doubled["carbon_intensity"] == 7
        assert doubled["extra_data"] == {"problem": "summarise me", "hw": "hw 2", "doubled_by": "DOUBLER_NODE"}
        log = procs.log(node)
        assert "ValueError: summary refused" in log, log[-3000:]
        node.send_signal(signal.SIGINT)
        code, took = wait_exit(node, 10)
        assert code == 0 and took < 2.0, f"exit {code} after {took:.2f} s"
    finally:
        procs.stop_all()


def test_a_raising_callback_fails_its_task_and_the_next_task_succeeds(graph_a):
    # Protects: a Python exception (a TypeError naming the field, too) is TASK_ERROR
    # naming it; the node keeps serving.
    procs, client, py = graph_a
    task = client.submit(dict(PROBLEM, problem_short_description="please raise"))
    with pytest.raises(TaskFailed) as failed:
        client.wait(task, timeout=60)
    assert "RuntimeError: cannot handle 'please raise'" in str(failed.value)
    assert "Traceback" in procs.log(py["app"])
    task = client.submit(dict(PROBLEM, problem_short_description="wrong type"))
    with pytest.raises(TaskFailed, match="TypeError: AppRequirements.app_requirements: expected a list of str, got str"):
        client.wait(task, timeout=60)
    task = client.submit(dict(PROBLEM, problem_short_description="set status"))
    with pytest.raises(TaskFailed, match="refused through node_status"):
        client.wait(task, timeout=60)
    task = client.submit(PROBLEM)
    assert client.wait(task, timeout=60)["state"] == "done"


def test_python_nodes_stop_on_sigint_within_two_seconds(graph_a):
    # Protects: reference-style scripts (handler + terminate + worker thread) and a
    # plain spin() on the main thread both exit cleanly on Ctrl-C.
    procs, _, py = graph_a
    for name, proc in py.items():
        proc.send_signal(signal.SIGINT)
        code, took = wait_exit(proc, 10)
        assert code == 0, f"{name} exited {code}: {procs.log(proc)[-2000:]}"
        assert took < 2.0, f"{name} took {took:.2f} s"



def test_configuration_answers_reach_the_requester(graph_a):
    # Protects: success(False) from a Python service callback is a failure for
    # `sustainml config get` and the REST client; a success carries the JSON.
    # Started after the SIGINT test stopped graph A's first Python nodes.
    procs, client, _ = graph_a
    procs.python("py-hw-constraints-2", "ref_hw_constraints.py")
    procs.python("py-app-2", "py_graph.py", "app_requirements")
    env = procs.env()
    cli = binary("sustainml")
    ok = subprocess.run([cli, "config", "get", "hw_constraints", "hello"], env=env, capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0, ok.stderr
    assert '"echo"' in ok.stdout and "hello" in ok.stdout
    refused = subprocess.run([cli, "config", "get", "hw_constraints", "refuse"], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "refused by ref_hw_constraints.py" in refused.stdout + refused.stderr
    assert client.configure("hw_constraints", "hi") == {"echo": "hi"}
    with pytest.raises(OrchestratorError, match="refused by ref_hw_constraints.py"):
        client.configure("hw_constraints", "refuse")
    # No service_callback: answered with an error.
    none = subprocess.run([cli, "config", "get", "app_requirements", "x"], env=env, capture_output=True, text=True, timeout=30)
    assert none.returncode == 1 and "no configuration handler" in none.stdout + none.stderr


@pytest.fixture(scope="module")
def graph_b(tmp_path_factory):
    """Rust APP_REQUIREMENTS, HW_CONSTRAINTS and ML_MODEL_METADATA; Python ML_MODEL and
    HW_RESOURCES in one process, and CARBON_FOOTPRINT in the reference's co2 style."""
    requires_isolation()
    procs = Processes(tmp_path_factory.mktemp("graph_b"), 213)
    for kind in ["app_requirements", "hw_constraints", "ml_model_metadata"]:
        rust_node(procs, kind)
    py = {
        "model+hw": procs.python("py-model-hw", "py_graph.py", "ml_model", "hw_resources"),
        "co2": procs.python("py-co2", "ref_co2.py"),
    }
    try:
        client = orchestrator(procs)
    except OrchestratorError:
        dump(procs)
        raise
    yield procs, client, py
    procs.stop_all()


def test_python_downstream_nodes_complete_tasks_end_to_end(graph_b):
    # Protects: Python nodes of the last three kinds, with six and three inputs in
    # the reference's order, serve a real graph; iterations get their baselines.
    procs, client, py = graph_b
    for n in range(3):
        task = client.submit(dict(PROBLEM, problem_short_description=f"song {n}"))
        t = client.wait(task, timeout=60)
        out = t["outputs"]
        assert out["ML_MODEL"]["model"].startswith("py-model for ")
        assert out["HW_RESOURCES"]["hw_description"] == "py-hw running " + out["ML_MODEL"]["model"]
        co2 = out["CARBON_FOOTPRINT"]
        assert co2["carbon_intensity"] == 4.0
        assert co2["carbon_footprint"] == pytest.approx(4.0 * 10.0 * 2.0 / 3.6e6)
        assert co2["extra_data"] == f"{out['ML_MODEL']['model']} on {out['HW_RESOURCES']['hw_description']} for song {n}"
    # The client's other calls: results of the last task, node statuses.
    results = client.results(task)
    assert results["CARBON_FOOTPRINT"]["carbon_intensity"] == 4.0, results
    assert set(client.status()) >= {"ML_MODEL", "HW_RESOURCES", "CARBON_FOOTPRINT"}
    for name, proc in py.items():
        proc.send_signal(signal.SIGINT)
        code, took = wait_exit(proc, 10)
        assert code == 0 and took < 2.0, f"{name}: exit {code} after {took:.2f} s"


def fastdds_response(hex_text):
    """(node_id, transaction_id, success, err_code, configuration) of a ResponseTypeImpl
    payload in XCDR1 little endian, as the Fast DDS peer prints it."""
    import struct

    data = bytes.fromhex(hex_text)
    if data[:2] in (b"\x00\x01", b"\x00\x00"):
        data = data[4:]
    node_id, transaction_id = struct.unpack_from("<ii", data, 0)
    success = data[8] != 0
    (err_code,) = struct.unpack_from("<I", data, 12)
    (length,) = struct.unpack_from("<I", data, 16)
    configuration = data[20:20 + length - 1].decode()
    return node_id, transaction_id, success, err_code, configuration


def test_a_fastdds_requester_sees_success_false(tmp_path):
    # Protects: unlike the reference, a script's success(False) / err_code reach a Fast
    # DDS requester (the reference's C++ stack) on the wire.
    import os

    requires_isolation()
    peer = os.environ.get("SUSTAINML_FASTDDS_PEER") or str(
        __import__("conftest").ROOT / "target" / "fastdds-peer" / "sustainml-fastdds-peer"
    )
    if not os.path.exists(peer):
        pytest.skip(f"no Fast DDS peer at {peer} (tests/fastdds/build.sh builds it)")
    # A domain of its own: a Fast DDS 2.9 participant among graph A's dozen rustdds
    # participants aborts in its statistics module (OutputTrafficManager assertion).
    procs = Processes(tmp_path, 219)
    procs.python("py-hw-constraints", "ref_hw_constraints.py")
    answers = {}
    try:
        for text in ["refuse", "hello", "whoami"]:
            run = subprocess.run(
                [peer, "request", "--node-id", "2", "--transaction-id", "41", "--configuration", text, "--timeout", "20"],
                # UDP only: our nodes have no shared memory transport (tests/fastdds/README.md).
                env=procs.env(SUSTAINML_FASTDDS_TRANSPORT="udp"), capture_output=True, text=True, timeout=60,
            )
            assert run.returncode == 0, run.stdout + run.stderr
            line = next(l for l in run.stdout.splitlines() if l.startswith("sustainml/response "))
            answers[text] = fastdds_response(line.split()[1])
    finally:
        procs.stop_all()
    assert answers["refuse"][:4] == (2, 41, False, 1), answers
    assert "refused by ref_hw_constraints.py" in answers["refuse"][4]
    assert answers["hello"][:4] == (2, 41, True, 0) and '"echo"' in answers["hello"][4]
    # The script's req carries the requester's ids.
    assert json.loads(answers["whoami"][4]) == {"node_id": 2, "transaction_id": 41}
