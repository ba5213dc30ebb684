"""MLModelNode: ML_MODEL: (MLModelMetadata, AppRequirements, HWConstraints, MLModel baseline, HWResource baseline, CO2Footprint baseline) -> MLModel."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["MLModelNode"]


class MLModelNode(_Node):
    """ML_MODEL: (MLModelMetadata, AppRequirements, HWConstraints, MLModel baseline, HWResource baseline, CO2Footprint baseline) -> MLModel.

    MLModelNode(callback=f, service_callback=g); f(ml_model_metadata, app_requirements, hw_constraints, ml_model_baseline, hw_baseline, carbonfootprint_baseline, node_status, output),
    g(req, res). name= renames the node (default ML_MODEL_NODE).
    """

    def __new__(cls, callback=None, service_callback=None, **kwargs):
        return _Node.__new__(cls, "ml_model", callback, service_callback, **kwargs)
