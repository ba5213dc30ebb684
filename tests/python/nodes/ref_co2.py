#!/usr/bin/env python3
"""CARBON_FOOTPRINT in the style of the reference's co2_node.py example: inputs in the
reference's order, module-level SIGINT handler, spin() in a worker thread."""

from sustainml_py.nodes.CarbonFootprintNode import CarbonFootprintNode

import signal
import threading
import time

running = False


def signal_handler(sig, frame):
    print("\nExiting")
    CarbonFootprintNode.terminate()
    global running
    running = False


def task_callback(ml_model, user_input, hw, node_status, co2):
    co2.carbon_intensity(4)
    co2.energy_consumption(hw.power_consumption() * hw.latency() / 3.6e6)
    co2.carbon_footprint(co2.energy_consumption() * co2.carbon_intensity())
    co2.extra_data(("%s on %s for %s" % (ml_model.model(), hw.hw_description(),
                                         user_input.problem_short_description())).encode())


def run():
    node = CarbonFootprintNode(callback=task_callback)
    global running
    running = True
    node.spin()


if __name__ == '__main__':
    signal.signal(signal.SIGINT, signal_handler)
    runner = threading.Thread(target=run)
    runner.start()
    while running:
        time.sleep(1)
    runner.join()
