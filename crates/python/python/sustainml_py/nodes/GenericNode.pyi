from typing import Any, Callable, Iterable, Optional

from sustainml_py._sustainml import Node, RequestType, ResponseType, Topic

class GenericNode(Node):
    """A node of any input topics to any output topic (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        inputs: Iterable[Topic],
        output: Topic,
        callback: Optional[Callable[..., Any]] = None,
        service_callback: Optional[Callable[[RequestType, ResponseType], Any]] = None,
        node_id: Optional[int] = None,
    ) -> None: ...

def generic(
    name: str,
    inputs: Iterable[Topic],
    output: Topic,
    callback: Optional[Callable[..., Any]] = None,
    service_callback: Optional[Callable[[RequestType, ResponseType], Any]] = None,
    node_id: Optional[int] = None,
) -> GenericNode: ...
