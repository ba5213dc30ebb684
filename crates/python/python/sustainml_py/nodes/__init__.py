"""The six module nodes, one module per class as in the reference
(``from sustainml_py.nodes.MLModelNode import MLModelNode``), and GenericNode."""
