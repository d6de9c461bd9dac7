"""Docstrings that overrides inherit: a contract is written once, on its base class.

The layers, losses and optimizers override the methods of their base class
(``forward``, ``backward``, ``loss_and_grad``, ``update_params``...). An
override without a docstring of its own takes the one of the nearest base
class that has one, so ``help()``, the API reference and numpydoc's
validation see the contract (what the arguments are, their shapes, what is
returned) on every subclass. Python's ``inspect.getdoc`` does the same at
read time; this makes it the object's own ``__doc__``.
"""


def _function(value):
    if isinstance(value, property):
        return value.fget
    if isinstance(value, (staticmethod, classmethod)):
        return value.__func__
    return value if callable(value) else None


def inherit_docstrings(cls):
    """Give each public method or property of ``cls`` that has no docstring
    the docstring of the nearest base class that has one (``cls`` is changed
    in place and returned)."""
    for name, value in list(vars(cls).items()):
        func = _function(value)
        if name.startswith("_") or func is None or getattr(func, "__doc__", None):
            continue
        for base in cls.__mro__[1:]:
            inherited = _function(vars(base).get(name))
            doc = getattr(inherited, "__doc__", None)
            if doc:
                func.__doc__ = doc
                if isinstance(value, property):
                    setattr(cls, name, property(value.fget, value.fset, value.fdel, doc))
                break
    return cls
