"""AppRequirementsNode: APP_REQUIREMENTS: (UserInput) -> AppRequirements."""

from sustainml_py._sustainml import Node as _Node

__all__ = ["AppRequirementsNode"]


class AppRequirementsNode(_Node):
    """APP_REQUIREMENTS: (UserInput) -> AppRequirements.

    AppRequirementsNode(callback=f, service_callback=g); f(user_input, node_status, output),
    g(req, res). name= renames the node (default APP_REQUIREMENTS_NODE).
    """

    def __new__(cls, callback=None, service_callback=None, **kwargs):
        return _Node.__new__(cls, "app_requirements", callback, service_callback, **kwargs)
