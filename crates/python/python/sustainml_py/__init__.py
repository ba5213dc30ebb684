"""sustainml_py: SustainML nodes in Python, on the sustainml-rs runtime.

The reference's API (``sustainml_py.nodes.XNode(callback=f, service_callback=g)``,
``spin()``, static ``terminate()``, SWIG-style accessors) with a Rust runtime under it:
join by task id, status per task, NodeControl, the configuration service and a clean
shutdown. See README "Python nodes".
"""

from ._enums import CmdNode, CmdTask, ErrorCode, NodeID, Status, TaskId, TaskStatus
from ._sustainml import (
    AppRequirements,
    CO2Footprint,
    HWConstraints,
    HWResource,
    MLModel,
    MLModelMetadata,
    Node,
    NodeStatus,
    Octets,
    RequestType,
    ResponseType,
    UserInput,
)

__all__ = [
    "AppRequirements", "CO2Footprint", "CmdNode", "CmdTask", "ErrorCode", "HWConstraints",
    "HWResource", "MLModel", "MLModelMetadata", "Node", "NodeID", "NodeStatus", "Octets",
    "RequestType", "ResponseType", "Status", "TaskId", "TaskStatus", "UserInput",
]

__version__ = "0.1.0"
