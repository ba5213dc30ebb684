"""README "Python nodes": launch/python-node.toml starts crates/python/examples/my_node.py
(a script with a shebang) beside a Rust node, and the launcher stops both."""

import json
import os
import pathlib
import signal
import subprocess
import sys

from conftest import ROOT, Processes, binary, requires_isolation


def test_launch_file_runs_the_python_example_node(tmp_path):
    # Protects: the launch file and example README shows, exactly.
    requires_isolation()
    procs = Processes(tmp_path, 216)
    path = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    launcher = procs.start(
        "launch",
        [binary("sustainml"), "launch", str(ROOT / "launch" / "python-node.toml")],
        PATH=path,
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    try:
        wanted = {"MY_PY_REQUIREMENTS_NODE", "HW_CONSTRAINTS_NODE"}
        listed = subprocess.run(
            [binary("sustainml"), "node", "list", "--json", "--wait", "8"],
            env=procs.env(), capture_output=True, text=True, timeout=30,
        )
        seen = {json.loads(line).get("node") for line in listed.stdout.splitlines() if line.strip()}
        assert wanted <= seen, f"{seen}\n{procs.log(launcher)}"
        answer = subprocess.run(
            [binary("sustainml"), "config", "get", "app_requirements", "requirements"],
            env=procs.env(), capture_output=True, text=True, timeout=30,
        )
        assert answer.returncode == 0 and "on-device" in answer.stdout, answer.stdout + answer.stderr
    finally:
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(20) == 0, procs.log(launcher)
