"""MLModelMetadataNode: ML_MODEL_METADATA: (UserInput) -> MLModelMetadata."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["MLModelMetadataNode"]


class MLModelMetadataNode(_Node):
    """ML_MODEL_METADATA: (UserInput) -> MLModelMetadata.

    MLModelMetadataNode(callback=f, service_callback=g); f(user_input, node_status, output),
    g(req, res). name= renames the node (default ML_MODEL_METADATA_NODE).
    """

    def __new__(cls, callback=None, service_callback=None, **kwargs):
        return _Node.__new__(cls, "ml_model_metadata", callback, service_callback, **kwargs)
