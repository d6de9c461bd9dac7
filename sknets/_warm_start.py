"""Warm starts that would change the network are refused.

A fitted state records the parameter values that define its network (its
"architecture": layer sizes, activations, dropout, batch normalization, a
layer list's hyper-parameters, dtype, backend). A ``warm_start=True`` fit or
a ``partial_fit`` trains that network further, so it refuses, before
anything is touched, a change of any of them; parameters that only steer
training (``learning_rate_init``, ``max_iter``, ``alpha``...) may change, as
in scikit-learn.
"""

import numpy as np

__all__ = ["layer_architecture", "changed_parameters", "check_unchanged"]


def layer_architecture(named_layers, prefix="layers"):
    """The architecture entries of a layer list.

    Parameters
    ----------
    named_layers : list of (str, Layer)
    prefix : str, default="layers"
        The estimator parameter holding the list.

    Returns
    -------
    dict
        ``prefix``: the names and classes of the layers, in order; then
        ``<prefix>__<name>__<param>``: each layer's hyper-parameters.
    """
    entries = {prefix: tuple((name, type(layer).__name__) for name, layer in named_layers)}
    for name, layer in named_layers:
        for key, value in layer.get_params(deep=False).items():
            entries[f"{prefix}__{name}__{key}"] = value
    return entries


def _same(a, b):
    """Whether two parameter values are equal (arrays and containers compared
    element by element; a list and a tuple of equal items are the same)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))
                and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b)))
    if hasattr(a, "__array__") or hasattr(b, "__array__"):   # arrays of other namespaces
        from .backend import to_numpy

        return _same(np.asarray(to_numpy(a)), np.asarray(to_numpy(b)))
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def changed_parameters(fitted, current):
    """The names whose values differ between two architectures (dicts), sorted."""
    return sorted(k for k in set(fitted) | set(current)
                  if k not in fitted or k not in current or not _same(fitted[k], current[k]))


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_unchanged(fitted, current, incremental):
    """Raise ``ValueError`` when ``current`` changes the fitted architecture.

    Parameters
    ----------
    fitted, current : dict
        The architecture the model was fitted with, and the one its
        parameters describe now.
    incremental : bool
        True for ``partial_fit``, False for a ``warm_start=True`` fit (the
        message says which and what to do).

    Raises
    ------
    ValueError
        Naming each changed parameter with its fitted and current values.
    """
    changed = changed_parameters(fitted, current)
    if not changed:
        return
    details = "; ".join(f"{k}: fitted with {_short(fitted.get(k, '(absent)'))}, now "
                        f"{_short(current.get(k, '(absent)'))}" for k in changed)
    how = "partial_fit" if incremental else "A warm start (warm_start=True)"
    raise ValueError(
        f"{how} trains the fitted network further, but these parameters changed its shapes, "
        f"layers, dtype or backend since it was fitted: {details}. Refit with "
        "warm_start=False to train a new network, or set them back.")
