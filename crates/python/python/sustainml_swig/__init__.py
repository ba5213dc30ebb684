"""The names reference scripts import from the reference's SWIG module
(``from sustainml_swig import ErrorCode``), served by sustainml_py."""

from sustainml_py import *  # noqa: F401,F403
from sustainml_py import __all__  # noqa: F401


def uint8_t_vector(data=b""):
    """SWIG's octet vector: here the bytes themselves (``obj.extra_data(...)`` takes
    bytes, bytearray or str)."""
    return bytes(data)


def string_vector(items=()):
    """SWIG's string vector: here a list."""
    return [str(i) for i in items]
