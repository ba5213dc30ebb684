"""HardwareConstraintsNode: HW_CONSTRAINTS: (UserInput) -> HWConstraints."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["HardwareConstraintsNode"]


class HardwareConstraintsNode(_Node):
    """HW_CONSTRAINTS: (UserInput) -> HWConstraints.

    HardwareConstraintsNode(callback=f, service_callback=g); f(user_input, node_status, output),
    g(req, res). name= renames the node (default HW_CONSTRAINTS_NODE).
    """

    def __new__(cls, callback=None, service_callback=None, **kwargs):
        return _Node.__new__(cls, "hw_constraints", callback, service_callback, **kwargs)
