#!/usr/bin/env python3
"""Several node kinds in one Python process (py_graph.py KIND...), each spinning in
a thread with a trivial callback; SIGINT terminates them all (terminate is static)."""

import signal
import sys
import threading

from sustainml_py.nodes.AppRequirementsNode import AppRequirementsNode
from sustainml_py.nodes.CarbonFootprintNode import CarbonFootprintNode
from sustainml_py.nodes.HardwareConstraintsNode import HardwareConstraintsNode
from sustainml_py.nodes.HardwareResourcesNode import HardwareResourcesNode
from sustainml_py.nodes.MLModelMetadataNode import MLModelMetadataNode
from sustainml_py.nodes.MLModelNode import MLModelNode


def app(user_input, node_status, out):
    out.app_requirements(["py-app"])


def constraints(user_input, node_status, out):
    out.hardware_required(["PIM_AI_1chip"])
    out.max_memory_footprint(100)


def metadata(user_input, node_status, out):
    out.keywords = user_input.problem_short_description.split()
    out.ml_model_metadata(["py-goal"])


def model(metadata, app, constraints, model_baseline, hw_baseline, co2_baseline, node_status, out):
    assert metadata.ml_model_metadata() == ["py-goal"] or metadata.keywords() is not None
    out.model("py-model for " + ",".join(constraints.hardware_required()))
    out.model_path("/nonexistent/py-model.onnx")
    out.set_extra_json({"baseline": model_baseline.model(), "iteration": model_baseline.task_id().iteration_id()})


def resources(ml_model, app, constraints, node_status, out):
    out.hw_description("py-hw running " + ml_model.model())
    out.latency(2.0)
    out.power_consumption(10.0)


def carbon(ml_model, user_input, hw, node_status, out):
    out.carbon_intensity(4)
    out.carbon_footprint(hw.power_consumption() * hw.latency() * 4 / 3.6e6)


KINDS = {
    "app_requirements": (AppRequirementsNode, app),
    "hw_constraints": (HardwareConstraintsNode, constraints),
    "ml_model_metadata": (MLModelMetadataNode, metadata),
    "ml_model": (MLModelNode, model),
    "hw_resources": (HardwareResourcesNode, resources),
    "carbon_footprint": (CarbonFootprintNode, carbon),
}

if __name__ == "__main__":
    nodes = [KINDS[k][0](callback=KINDS[k][1]) for k in sys.argv[1:]]
    signal.signal(signal.SIGINT, lambda *_: AppRequirementsNode.terminate())
    threads = [threading.Thread(target=n.spin) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
