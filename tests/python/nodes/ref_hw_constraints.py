#!/usr/bin/env python3
"""HW_CONSTRAINTS in the reference's style (its module template and examples): a
module-level SIGINT handler calling the static terminate(), spin() in a worker thread,
the main thread sleeping in a `while running` loop, extra_data read through ctypes."""

from sustainml_py.nodes.HardwareConstraintsNode import HardwareConstraintsNode
from sustainml_swig import ErrorCode

import ctypes
import json
import signal
import threading
import time

# Whether to go on spinning or interrupt
running = False


# Signal handler
def signal_handler(sig, frame):
    print("\nExiting")
    HardwareConstraintsNode.terminate()
    global running
    running = False


# User Callback implementation
# Inputs: user_input
# Outputs: node_status, hw_constraints
def task_callback(user_input, node_status, hw_constraints):
    extra_data = json.loads("{}")
    if user_input.extra_data().size() != 0:
        buf = user_input.extra_data()
        extra_data_str = bytes((ctypes.c_ubyte * buf.size()).from_address(int(buf.get_buffer()))).decode()
        extra_data = json.loads(extra_data_str)
    hw_constraints.max_memory_footprint(int(extra_data.get("max_memory_footprint", 100)))
    hw_constraints.hardware_required([extra_data.get("hardware_required", "PIM_AI_1chip")])
    hw_constraints.extra_data(json.dumps({"from": "ref_hw_constraints.py"}).encode())


# User Configuration Callback implementation
# Inputs: req
# Outputs: res
def configuration_callback(req, res):
    res.node_id(req.node_id())
    res.transaction_id(req.transaction_id())
    if req.configuration() == "whoami":
        res.configuration(json.dumps({"node_id": req.node_id(), "transaction_id": req.transaction_id()}))
        res.success(True)
        res.err_code(ErrorCode.NO_ERROR)
    elif req.configuration() == "refuse":
        res.configuration(json.dumps({"error": "refused by ref_hw_constraints.py"}))
        res.success(False)
        res.err_code(ErrorCode.INTERNAL_ERROR)
    else:
        res.configuration(json.dumps({"echo": req.configuration()}))
        res.success(True)
        res.err_code(ErrorCode.NO_ERROR)


# Main workflow routine
def run():
    node = HardwareConstraintsNode(callback=task_callback, service_callback=configuration_callback)
    global running
    running = True
    node.spin()


# Call main in program execution
if __name__ == '__main__':
    signal.signal(signal.SIGINT, signal_handler)

    """Python does not process signals async if
    the main thread is blocked (spin()) so, run
    user work flow in another thread """
    runner = threading.Thread(target=run)
    runner.start()

    while running:
        time.sleep(1)

    runner.join()
