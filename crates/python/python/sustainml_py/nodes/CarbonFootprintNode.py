"""CarbonFootprintNode: CARBON_FOOTPRINT: (MLModel, UserInput, HWResource) -> CO2Footprint."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["CarbonFootprintNode"]


class CarbonFootprintNode(_Node):
    """CARBON_FOOTPRINT: (MLModel, UserInput, HWResource) -> CO2Footprint.

    CarbonFootprintNode(callback=f, service_callback=g); f(ml_model, user_input, hw_resources, node_status, output),
    g(req, res). name= renames the node (default CARBON_FOOTPRINT_NODE).
    """

    def __new__(cls, callback=None, service_callback=None, **kwargs):
        return _Node.__new__(cls, "carbon_footprint", callback, service_callback, **kwargs)
