"""A small client of the orchestrator's REST API (``sustainml-orchestrator``,
default http://127.0.0.1:5001), on the standard library only.

    from sustainml_py.client import Orchestrator
    orch = Orchestrator()
    orch.wait_ready(60)
    task = orch.submit({"problem_short_description": "classify images", ...})
    print(orch.wait(task, timeout=120)["state"], orch.results(task)["CARBON_FOOTPRINT"])

Every failure raises OrchestratorError naming the request and the reason.
"""

import json
import time
import urllib.error
import urllib.request

from ._enums import NodeID, TaskId

__all__ = ["Orchestrator", "OrchestratorError", "TaskFailed"]

_NODE_KEYS = {
    "app_requirements": NodeID.ID_APP_REQUIREMENTS,
    "carbon_footprint": NodeID.ID_CARBON_FOOTPRINT,
    "hw_constraints": NodeID.ID_HW_CONSTRAINTS,
    "hw_resources": NodeID.ID_HW_RESOURCES,
    "ml_model_metadata": NodeID.ID_ML_MODEL_METADATA,
    "ml_model": NodeID.ID_ML_MODEL,
}


class OrchestratorError(Exception):
    """A request to the orchestrator failed: unreachable, an HTTP error, bad JSON."""


class TaskFailed(OrchestratorError):
    """wait() saw the task end in a state other than done."""

    def __init__(self, message, task):
        super().__init__(message)
        self.task = task


def _node_id(node):
    if isinstance(node, int):
        return int(node)
    key = str(node).strip().lower().replace("-", "_")
    if key.endswith("_node"):
        key = key[: -len("_node")]
    if key not in _NODE_KEYS:
        raise ValueError(f"unknown node {node!r} (one of {', '.join(_NODE_KEYS)} or a NodeID)")
    return int(_NODE_KEYS[key])


def _task_id(task):
    if isinstance(task, dict):
        return TaskId(task["problem_id"], task["iteration_id"])
    problem, iteration = task
    return TaskId(problem, iteration)


class Orchestrator:
    """The orchestrator at ``url``; ``timeout`` bounds every HTTP request (seconds)."""

    def __init__(self, url="http://127.0.0.1:5001", timeout=30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        what = f"{method} {self.url}{path}"
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            try:
                detail = json.loads(detail).get("error", detail)
            except (ValueError, AttributeError):
                pass
            raise OrchestratorError(f"{what}: HTTP {e.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise OrchestratorError(f"{what}: {reason}") from None
        try:
            return json.loads(text)
        except ValueError as e:
            raise OrchestratorError(f"{what}: the answer is not JSON: {e}") from None

    def ready(self):
        """Whether the six nodes are alive and matched (GET /ready)."""
        try:
            return bool(self._request("GET", "/ready").get("ready"))
        except OrchestratorError:
            return False

    def wait_ready(self, timeout=60.0, poll=0.25):
        """Waits until ready(), else raises OrchestratorError."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() >= deadline:
                raise OrchestratorError(f"{self.url}: not ready after {timeout} s")
            time.sleep(poll)

    def submit(self, problem):
        """Starts a task for ``problem`` (the UserInput fields as a dict; extra_data may
        be a dict) and returns its TaskId."""
        answer = self._request("POST", "/user_input", problem)
        try:
            return _task_id(answer["task_id"])
        except (KeyError, TypeError) as e:
            raise OrchestratorError(f"POST /user_input: no task id in {answer!r}") from e

    def task(self, task):
        """Everything about one task (GET /tasks/P/I): state, reason, nodes, outputs."""
        t = _task_id(task)
        return self._request("GET", f"/tasks/{t[0]}/{t[1]}")

    def wait(self, task, timeout=120.0, poll=0.1, check=True):
        """Waits until the task is no longer running and returns it. With ``check``,
        a task that did not end ``done`` raises TaskFailed with its reason."""
        deadline = time.monotonic() + timeout
        while True:
            t = self.task(task)
            if t.get("state") != "running":
                break
            if time.monotonic() >= deadline:
                raise OrchestratorError(f"task {_task_id(task)} still running after {timeout} s")
            time.sleep(poll)
        if check and t.get("state") != "done":
            raise TaskFailed(f"task {_task_id(task)} {t.get('state')}: {t.get('reason')}", t)
        return t

    def results(self, task):
        """The six nodes' outputs for the task, by key (APP_REQUIREMENTS…), and task_id."""
        t = _task_id(task)
        body = {"node_id": 9, "task_id": {"problem_id": t[0], "iteration_id": t[1]}}
        return self._request("POST", "/results", body)

    def status(self):
        """Each node's status string by key (``{"APP_REQUIREMENTS": "IDLE", …}``)."""
        return self._request("GET", "/status").get("status", {})

    def configure(self, node, query):
        """A configuration request to ``node`` (a name such as "hw_resources" or a NodeID):
        returns the node's answer parsed as JSON, or raises OrchestratorError when it
        refused (success false) or did not answer."""
        node_id = _node_id(node)
        answer = self._request("POST", "/config_request", {"configuration": query, "node_id": node_id})
        response = answer.get("response", {})
        text = response.get("configuration", "")
        if not response.get("success"):
            raise OrchestratorError(f"configuration request to node {node_id} failed: {text or answer.get('message')}")
        try:
            return json.loads(text)
        except ValueError:
            return text
