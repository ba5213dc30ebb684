"""The six module nodes, one module per class as in the reference
(``from sustainml_py.nodes.MLModelNode import MLModelNode``), and GenericNode."""

from sustainml_py.nodes.GenericNode import GenericNode, generic

__all__ = ["GenericNode", "generic"]
