"""The IDL enums (REFERENCE.md section 6) as IntEnums, so that both the names and the
reference's plain ints (0/1) work; and TaskId."""

from enum import IntEnum

__all__ = ["ErrorCode", "Status", "TaskStatus", "CmdNode", "CmdTask", "NodeID", "TaskId"]


class ErrorCode(IntEnum):
    NO_ERROR = 0
    INTERNAL_ERROR = 1


class Status(IntEnum):
    NODE_INACTIVE = 0
    NODE_ERROR = 1
    NODE_IDLE = 2
    NODE_INITIALIZING = 3
    NODE_RUNNING = 4
    NODE_TERMINATING = 5


class TaskStatus(IntEnum):
    TASK_WAITING = 0
    TASK_ERROR = 1
    TASK_RUNNING = 2
    TASK_SUCCEEDED = 3


class CmdNode(IntEnum):
    NO_CMD_NODE = 0
    START_NODE = 1
    STOP_NODE = 2
    RESET_NODE = 3
    TERMINATE_NODE = 4


class CmdTask(IntEnum):
    NO_CMD_TASK = 0
    STOP_TASK = 1
    RESET_TASK = 2
    PREEMPT_TASK = 3
    TERMINATE_TASK = 4


class NodeID(IntEnum):
    """The reference's node ids (configuration requests, REST node_id)."""

    ID_APP_REQUIREMENTS = 0
    ID_CARBON_FOOTPRINT = 1
    ID_HW_CONSTRAINTS = 2
    ID_HW_RESOURCES = 3
    ID_ML_MODEL_METADATA = 4
    ID_ML_MODEL = 5
    ID_ORCHESTRATOR = 7


class TaskId(tuple):
    """A task id: ``(problem_id, iteration_id)``, also readable SWIG-style
    (``task_id.problem_id()``)."""

    def __new__(cls, problem_id=0, iteration_id=0):
        return super().__new__(cls, (int(problem_id), int(iteration_id)))

    def problem_id(self):
        return self[0]

    def iteration_id(self):
        return self[1]

    def __repr__(self):
        return f"TaskId(problem_id={self[0]}, iteration_id={self[1]})"

    def __str__(self):
        return f"{self[0]}.{self[1]}"
