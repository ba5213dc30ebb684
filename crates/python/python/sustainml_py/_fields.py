"""Field values that are both the value and its SWIG-style accessor.

``obj.field`` is the value (a str, int, float, list... subclass), and calling it
works as the reference's SWIG proxies do: ``obj.field()`` reads, ``obj.field(v)``
writes. A sequence of strings is a live list, as SWIG's ``std::vector`` proxies are:
``obj.keywords().append(k)`` or ``.clear()`` change the field (reference modules do
this). Each read is a view of its own; the last one changed writes the whole list.
"""

from ._enums import TaskId


def _call(self, *args):
    if not args:
        return self._owner._get(self._name)
    if len(args) == 1:
        self._owner._set(self._name, args[0])
        return None
    raise TypeError(f"{self._name}() takes 0 or 1 argument ({len(args)} given)")


class _Str(str):
    __call__ = _call


class _Int(int):
    __call__ = _call


class _Float(float):
    __call__ = _call


class _List(list):
    """A sequence field that writes every change through to its object."""

    def __call__(self, *args):
        if not args:
            return self
        return _call(self, *args)

    def _sync(self):
        self._owner._set(self._name, list(self))


def _writing(method):
    base = getattr(list, method)

    def wrapper(self, *args, **kwargs):
        result = base(self, *args, **kwargs)
        self._sync()
        return self if method in ("__iadd__", "__imul__") else result

    wrapper.__name__ = method
    return wrapper


for _m in ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
           "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(_List, _m, _writing(_m))
del _m


class _TaskId(TaskId):
    __call__ = _call


class _Flag(int):
    """A bool or enum field (bool and enums cannot be subclassed)."""

    __call__ = _call

    def __repr__(self):
        return repr(self._owner._get(self._name))

    __str__ = __repr__


def wrap(owner, name, value):
    if isinstance(value, bool) or (isinstance(value, int) and type(value) is not int):
        w = _Flag(int(value))
    elif isinstance(value, TaskId):
        w = _TaskId(value[0], value[1])
    elif isinstance(value, str):
        w = _Str(value)
    elif isinstance(value, int):
        w = _Int(value)
    elif isinstance(value, float):
        w = _Float(value)
    elif isinstance(value, list):
        w = _List(value)
    else:
        return value  # Octets views are callable themselves
    w._owner = owner
    w._name = name
    return w
