#!/usr/bin/env python3
"""A trivial APP_REQUIREMENTS node in Python (the benchmark's and the tests' node):
one requirement from the problem description; "raise" in it raises, "status" in it
fails the task through node_status, as the reference does; "type" in it writes a
str where a list of str belongs."""

from sustainml_py import ErrorCode
from sustainml_py.nodes.AppRequirementsNode import AppRequirementsNode


def task_callback(user_input, node_status, output):
    text = user_input.problem_short_description()
    if "raise" in text:
        raise RuntimeError(f"cannot handle {text!r}")
    if "status" in text:
        node_status.error_code(ErrorCode.INTERNAL_ERROR)
        node_status.error_description("refused through node_status")
        return
    if "type" in text:
        output.app_requirements(text)
    output.app_requirements(["python", text])


if __name__ == "__main__":
    AppRequirementsNode(callback=task_callback).spin()
