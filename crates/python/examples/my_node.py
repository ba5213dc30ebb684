#!/usr/bin/env python3
"""Your own node in Python: APP_REQUIREMENTS under its own name (README "Python nodes")."""
from sustainml_py.nodes.AppRequirementsNode import AppRequirementsNode


def task_callback(user_input, node_status, output):
    text = user_input.problem_definition()
    if "on-device" in text:
        output.app_requirements(["on-device"])
    output.set_extra_json({"words": len(text.split())})


def configuration_callback(req, res):
    res.configuration('{"requirements": ["on-device"]}')


if __name__ == "__main__":
    AppRequirementsNode(
        callback=task_callback,
        service_callback=configuration_callback,
        name="MY_PY_REQUIREMENTS_NODE",
    ).spin()
