"""HardwareResourcesNode: HW_RESOURCES: (MLModel, AppRequirements, HWConstraints) -> HWResource."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["HardwareResourcesNode"]


class HardwareResourcesNode(_Node):
    """HW_RESOURCES: (MLModel, AppRequirements, HWConstraints) -> HWResource.

    HardwareResourcesNode(callback=f, service_callback=g); f(ml_model, app_requirements, hw_constraints, node_status, output),
    g(req, res). name= renames the node (default HW_RESOURCES_NODE).
    """

    def __new__(cls, callback=None, service_callback=None, **kwargs):
        return _Node.__new__(cls, "hw_resources", callback, service_callback, **kwargs)
