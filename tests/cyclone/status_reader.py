#!/usr/bin/env python3
"""A Cyclone DDS reader of /sustainml/status, for the cross-vendor tests.

Usage: status_reader.py [--timeout S=30] [--expect-nodes N1,N2,...]

Subscribes to /sustainml/status (type NodeStatusImpl as idl/sustainml.idl defines
it) with the SustainML QoS (RELIABLE, TRANSIENT_LOCAL, KEEP_LAST 1) and accepts
XCDR1, the only representation our nodes (and Fast DDS 2.9) send. The domain comes
from SUSTAINML_DOMAIN_ID (0..=232, default 0; anything else is exit 2).

stdout carries only protocol lines, each flushed: `READY` once the reader exists,
then one line per sample:

    STATUS <node_name> <node_status> <task_status> <problem_id>.<iteration_id>

It exits 0 on SIGTERM or SIGINT, and after --timeout seconds (0 if every node named
by --expect-nodes has been seen, else 1). It refuses to run (exit 2) while a network
interface other than loopback is up: no DDS packet may leave the machine.
"""

import os
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

from cyclonedds.core import Listener, Policy, Qos  # noqa: E402
from cyclonedds.domain import DomainParticipant  # noqa: E402
from cyclonedds.idl import IdlEnum, IdlStruct  # noqa: E402
from cyclonedds.idl.annotations import appendable, final, key  # noqa: E402
from cyclonedds.idl.types import uint32  # noqa: E402
from cyclonedds.sub import DataReader  # noqa: E402
from cyclonedds.topic import Topic  # noqa: E402
from cyclonedds.util import duration  # noqa: E402


class Status(IdlEnum, typename="Status"):
    NODE_INACTIVE = 0
    NODE_ERROR = 1
    NODE_IDLE = 2
    NODE_INITIALIZING = 3
    NODE_RUNNING = 4
    NODE_TERMINATING = 5


class TaskStatus(IdlEnum, typename="TaskStatus"):
    TASK_WAITING = 0
    TASK_ERROR = 1
    TASK_RUNNING = 2
    TASK_SUCCEEDED = 3


class ErrorCode(IdlEnum, typename="ErrorCode"):
    NO_ERROR = 0
    INTERNAL_ERROR = 1


# Appendable in the IDL, declared final here: cyclonedds 11.0.1 rejects XCDR1 data
# whose *nested* struct is appendable (BAD_PARAMETER on write, "deserialization
# failed" on receive), while an appendable outer struct is fine. Under XCDR1 final
# and appendable encode the same bytes (no DHEADER), so this reads every sample of
# our nodes and of Fast DDS 2.9 as they are.
@dataclass
@final
class TaskIdImpl(IdlStruct, typename="TaskIdImpl"):
    problem_id: uint32
    iteration_id: uint32


@dataclass
@appendable
class NodeStatusImpl(IdlStruct, typename="NodeStatusImpl"):
    node_status: Status
    task_status: TaskStatus
    error_code: ErrorCode
    error_description: str
    node_name: str
    task_id: TaskIdImpl
    key("node_name")
    key("task_id")


QOS = Qos(
    Policy.Reliability.Reliable(duration(seconds=1)),
    Policy.Durability.TransientLocal,
    Policy.History.KeepLast(1),
    Policy.ResourceLimits(max_samples=500, max_instances=500, max_samples_per_instance=1),
    # A Cyclone reader of a non-final type accepts only XCDR2 unless told otherwise,
    # and drops XCDR1 samples silently.
    Policy.DataRepresentation(use_cdrv0_representation=True, use_xcdrv2_representation=True),
)


def main():
    args = common.parse_args(__doc__)
    common.refuse_unless_isolated()
    domain = common.domain_from_env()
    lines = common.Lines()

    def on_data_available(reader):
        for s in reader.take(N=64):
            if isinstance(s, NodeStatusImpl):  # not a dispose / unregister
                t = s.task_id
                lines.status(
                    s.node_name, s.node_status.name, s.task_status.name, t.problem_id, t.iteration_id
                )

    participant = DomainParticipant(domain)
    topic = Topic(participant, "/sustainml/status", NodeStatusImpl, qos=QOS)
    reader = DataReader(participant, topic, qos=QOS, listener=Listener(on_data_available=on_data_available))
    code = common.run(args, lines)
    del reader
    sys.exit(code)


if __name__ == "__main__":
    main()
