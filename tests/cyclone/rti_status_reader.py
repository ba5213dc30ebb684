#!/usr/bin/env python3
"""An RTI Connext DDS reader of /sustainml/status (PyPI rticonnextdds-connector).

Usage: rti_status_reader.py [--timeout S=30] [--expect-nodes N1,N2,...]

The same protocol as status_reader.py (READY, then `STATUS <node_name>
<node_status> <task_status> <problem_id>.<iteration_id>` per sample, exit 0 on
SIGTERM/SIGINT, --timeout, refuses to run with a non-loopback interface up); type
and QoS in rti_status.xml. The connector's wheel bundles the Connext libraries and
needs no licence or network.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

import rticonnextdds_connector as rti  # noqa: E402


def main():
    args = common.parse_args(__doc__)
    common.refuse_unless_isolated()
    os.environ["SUSTAINML_DOMAIN_ID"] = str(common.domain_from_env())
    lines = common.Lines()
    url = os.path.join(HERE, "rti_status.xml")
    with rti.open_connector(config_name="Participants::StatusReader", url=url) as connector:
        reader = connector.get_input("Subscriber::Reader")

        def poll(seconds):
            try:
                reader.wait(int(seconds * 1000))
            except rti.TimeoutError:
                return
            reader.take()
            for s in reader.samples.valid_data_iter:
                d = s.get_dictionary()
                t = d["task_id"]
                lines.status(
                    d["node_name"],
                    common.NODE_STATUS[d["node_status"]],
                    common.TASK_STATUS[d["task_status"]],
                    t["problem_id"],
                    t["iteration_id"],
                )

        code = common.run(args, lines, poll)
    sys.exit(code)


if __name__ == "__main__":
    main()
