"""GenericNode: a node the reference does not have, on topics the script chooses."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["GenericNode", "generic"]


class GenericNode(_Node):
    """A node of any input topics to any output topic, like the Rust runtime's ``generic``.

    GenericNode(name, inputs, output, callback=f, service_callback=g, node_id=None)

    - ``name``: the participant and status name, e.g. ``"RANKER_NODE"``.
    - ``inputs``: the input topics in callback order. Each is a SustainML topic's name
      (``"/sustainml/user_input"``) or ``(name, type_name)`` for a topic of your own,
      e.g. ``("/myorg/ranking", "MLModelImpl")``.
    - ``output``: the output topic, given the same way.
    - ``f(*inputs, node_status, output)`` runs once every input of a task has arrived;
      each input comes as the data class of its topic's type.
    - ``service_callback`` answers configuration requests addressed to ``node_id`` (a
      ``NodeID``), so it needs one.

    Bad definitions (an unknown topic, a type that is not task data, the same topic
    twice) raise ValueError naming what was wrong.
    """

    def __new__(cls, name, inputs, output, callback=None, service_callback=None, node_id=None):
        return _Node.__new__(
            cls,
            "generic",
            callback,
            service_callback,
            name=name,
            inputs=list(inputs),
            output=output,
            node_id=None if node_id is None else int(node_id),
        )


def generic(name, inputs, output, callback=None, service_callback=None, node_id=None):
    """A GenericNode: ``generic(name, inputs, output, callback=f)``."""
    return GenericNode(name, inputs, output, callback, service_callback, node_id)
