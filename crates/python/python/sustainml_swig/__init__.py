"""The names reference scripts import from the reference's SWIG module
(``from sustainml_swig import ErrorCode``), served by sustainml_py."""

from sustainml_py import *  # noqa: F401,F403
from sustainml_py import __all__  # noqa: F401
