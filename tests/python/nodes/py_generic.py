#!/usr/bin/env python3
"""Two GenericNodes in one process, chained on topics of their own:
SUMMARY_NODE (user input, hardware result, footprint) -> /sustainml_test/summary, then
DOUBLER_NODE (/sustainml_test/summary) -> /sustainml_test/doubled. SIGINT stops both."""

import signal
import threading

from sustainml_py.nodes import GenericNode, generic

SUMMARY = ("/sustainml_test/summary", "CO2FootprintImpl")
DOUBLED = ("/sustainml_test/doubled", "CO2FootprintImpl")


def summarise(user_input, hw, co2, node_status, out):
    if user_input.problem_short_description() == "fail the summary":
        raise ValueError("summary refused")
    out.carbon_footprint(co2.carbon_footprint())
    out.carbon_intensity(co2.carbon_intensity())
    out.set_extra_json({"problem": user_input.problem_short_description(), "hw": hw.hw_description()})


def double(summary, node_status, out):
    out.carbon_footprint(2 * summary.carbon_footprint())
    out.carbon_intensity(summary.carbon_intensity())
    out.set_extra_json(dict(summary.extra_json(), doubled_by="DOUBLER_NODE"))


if __name__ == "__main__":
    nodes = [
        GenericNode(
            "SUMMARY_NODE",
            ["/sustainml/user_input", "/sustainml/hw_resources/output", "/sustainml/carbon_tracker/output"],
            SUMMARY,
            callback=summarise,
        ),
        generic("DOUBLER_NODE", [SUMMARY], DOUBLED, callback=double),
    ]
    signal.signal(signal.SIGINT, lambda *_: GenericNode.terminate())
    threads = [threading.Thread(target=n.spin) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
