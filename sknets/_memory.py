"""The memory a fit will need, estimated before anything is allocated.

A fit holds, besides its data:

- the **weights** (``params`` and ``state`` of every layer);
- their **gradients** (one array per trainable weight);
- the **optimizer state**: Adam two arrays per weight, SGD one (velocity),
  and on NumPy and CuPy two work arrays per weight for in-place updates;
  L-BFGS (SciPy's L-BFGS-B, float64) ``2 m + 5`` vectors of all the weights
  for ``m = 10`` correction pairs, plus about four more (the flat weights,
  the gradient, the last accepted iterate, the float64 cast);
- **weight snapshots**: the stochastic solvers copy the weights at each
  epoch's start (to restore them on divergence), and early stopping keeps the
  best ones;
- the **activations** of the largest batch: what each layer keeps from the
  forward pass to the backward pass (outputs, caches, work arrays; see
  :meth:`~sknets.layers.Layer.activation_shapes`), plus the gradients in
  flight during the backward pass (at most one layer's input and output at a
  time). L-BFGS computes on the whole training set at once.

:func:`estimate_fit_memory` adds these up from the layers' plans
(:meth:`~sknets.layers.Layer.plan`: shapes only, nothing allocated), in
microseconds; :func:`check_fit_memory` compares the sum with
:func:`available_memory` and raises a ``ValueError`` naming the layer (and
the hyper-parameter) that needs the most, with the estimate in GiB. It is
an estimate: the arrays of NumPy's own temporaries and of the Python objects
are not counted, so a fit may use somewhat more.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ._config import get_config

__all__ = ["MemoryEstimate", "estimate_fit_memory", "check_fit_memory",
           "check_estimator_fit", "check_weights_memory", "available_memory", "format_bytes"]

GIB = 2 ** 30

#: Below this many bytes no fit or layer is refused (no memory query at all).
NEVER_REFUSED_BELOW = 64 * 2 ** 20

#: Correction pairs SciPy's L-BFGS-B keeps (``maxcor``, default 10).
LBFGS_CORRECTIONS = 10

_PART_NAMES = {"weights": "weights", "gradients": "gradients", "optimizer": "{solver} state",
               "snapshots": "weight snapshots", "activations": "activations of {rows:,}-row "
               "batches", "input": "input data"}


def format_bytes(n):
    """``n`` bytes in GiB (``"19.4 GiB"``), or MiB below one GiB."""
    if n >= GIB / 10:
        return f"{n / GIB:,.1f} GiB"
    return f"{n / 2 ** 20:,.1f} MiB"


@dataclass
class MemoryEstimate:
    """Bytes a fit needs, by part and by layer.

    Attributes
    ----------
    parts : dict of str to int
        ``weights``, ``gradients``, ``optimizer``, ``snapshots``,
        ``activations`` and ``input``.
    per_layer : list of int
        Each layer's share (its weights with their gradients, optimizer state
        and snapshots, and its activations).
    plans : list of LayerPlan
    solver : str
    batch_rows : int
        Rows of the largest batch.
    """

    parts: dict
    per_layer: list
    plans: list
    solver: str
    batch_rows: int
    names: list = field(default_factory=list)

    @property
    def total(self):
        """Bytes in all."""
        return int(sum(self.parts.values()))

    @property
    def culprit(self):
        """Index of the layer with the largest share."""
        return int(np.argmax(self.per_layer)) if self.per_layer else None

    def describe_parts(self):
        """``"weights 4.5 GiB, gradients 4.5 GiB, ..."`` (non-zero parts)."""
        words = []
        for key, n in self.parts.items():
            if n:
                name = _PART_NAMES[key].format(solver=self.solver, rows=self.batch_rows)
                words.append(f"{name} {format_bytes(n)}")
        return ", ".join(words)

    def blame(self, limit=None):
        """A sentence naming the layer with the largest share and what sets it
        (and, given the ``limit`` in bytes, whether smaller batches would fit)."""
        i = self.culprit
        if i is None:
            return ""
        plan = self.plans[i]
        what = plan.layer.size_parameter(plan.input_shape)
        given = self.names[i] if i < len(self.names) else None
        text = (f"Most of it is layer {i + 1}, {plan.description}, on inputs of shape "
                f"{plan.input_shape} ({format_bytes(self.per_layer[i])}: "
                f"{plan.n_params + plan.n_state:,} weights, {plan.activation_size:,} "
                f"activation values per sample)")
        if what:
            text += f"; its {what}"
        if given:
            text += f", set by {given}"
        text += "."
        act, rows = self.parts["activations"], self.batch_rows
        if (limit is not None and self.solver != "lbfgs" and rows > 1
                and self.total - act + act / rows < limit):
            text += " Smaller batches (batch_size) would fit."
        return text


def layer_plans(layers, input_shape):
    """The plans of ``layers`` in order (see :meth:`~sknets.network.Sequential.plan`)."""
    plans, shape = [], tuple(int(s) for s in input_shape)
    for layer in layers:
        plans.append(layer.plan(shape))
        shape = plans[-1].output_shape
    return plans


def _optimizer_bytes(solver, n_trainable, itemsize):
    if solver == "adam":   # first and second moments, two work arrays
        return 4 * n_trainable * itemsize
    if solver == "sgd":    # velocity, two work arrays
        return 3 * n_trainable * itemsize
    if solver == "lbfgs":
        return (2 * LBFGS_CORRECTIONS + 5 + 4) * n_trainable * 8
    return 0


def estimate_fit_memory(layers, input_shape, dtype, batch_size, solver="adam", *,
                        n_samples=None, early_stopping=False, input_bytes=0,
                        sparse_density=None, names=None):
    """Estimate the bytes a fit of ``layers`` needs, allocating nothing.

    Parameters
    ----------
    layers : list of Layer
        The network's layers, built or not (their plans are computed).
    input_shape : tuple of int
        One sample's input shape.
    dtype : numpy dtype or str
        The compute dtype.
    batch_size : int
        Rows per mini-batch (the largest batch); ignored for L-BFGS, which
        computes on ``n_samples`` rows at once.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
    n_samples : int or None, default=None
        Training rows (needed for L-BFGS).
    early_stopping : bool, default=False
        Whether the best weights are kept too.
    input_bytes : int, default=0
        Bytes of the copy of the training data the fit makes (e.g. the input
        cast to the compute dtype on the device); 0 when it uses ``X`` as is.
    sparse_density : float or None, default=None
        Fraction of non-zeros of a sparse input (its batches stay sparse for
        the first layer); None for dense input.
    names : list of (str or None) or None, default=None
        For each layer, the estimator parameter that made it (e.g.
        ``"hidden_layer_sizes[2]=20000"``), named in messages.

    Returns
    -------
    MemoryEstimate

    Raises
    ------
    ValueError
        If a layer's hyper-parameters or input shape are invalid.
    """
    itemsize = np.dtype(dtype).itemsize
    plans = layer_plans(layers, input_shape)
    rows = int(n_samples) if solver == "lbfgs" and n_samples else int(batch_size)
    snapshots = 0 if solver == "lbfgs" else 1 + bool(early_stopping)
    per_layer, parts = [], dict.fromkeys(_PART_NAMES, 0)
    transient = 0
    for i, plan in enumerate(plans):
        weights = (plan.n_params + plan.n_state) * itemsize
        trained = plan.n_trainable
        opt = _optimizer_bytes(solver, trained, itemsize)
        snap = snapshots * (trained + (plan.n_state if plan.layer.trainable else 0)) * itemsize
        act = rows * plan.activation_size * itemsize
        parts["weights"] += weights
        parts["gradients"] += trained * itemsize
        parts["optimizer"] += opt
        parts["snapshots"] += snap
        parts["activations"] += act
        per_layer.append(weights + trained * itemsize + opt + snap + act)
        # no layer computes the gradient of the network's input
        flow = (math.prod(plan.input_shape) if i else 0) + math.prod(plan.output_shape)
        transient = max(transient, rows * flow * itemsize)
    parts["activations"] += transient
    width = math.prod(tuple(input_shape))
    if sparse_density is None:
        batch = rows * width * itemsize
    else:   # CSR: values and column indices, plus row pointers
        batch = int(rows * width * float(sparse_density) * (itemsize + 4)) + 8 * (rows + 1)
    parts["input"] = int(input_bytes) + batch
    return MemoryEstimate(parts, per_layer, plans, solver, rows,
                          list(names) if names is not None else [])


def check_fit_memory(layers, input_shape, dtype, batch_size, solver="adam", *,
                     backend=None, **kwargs):
    """:func:`estimate_fit_memory`, refused beyond :func:`available_memory`.

    Parameters
    ----------
    layers, input_shape, dtype, batch_size, solver
        As :func:`estimate_fit_memory`.
    backend : Backend or None, default=None
        Where the fit computes (a GPU's free memory for CuPy).
    **kwargs
        Passed to :func:`estimate_fit_memory`.

    Returns
    -------
    MemoryEstimate

    Raises
    ------
    ValueError
        When the estimate exceeds the memory available: the message gives
        the estimate in GiB, its parts, the memory available and the layer
        (and hyper-parameter) that needs the most.
    """
    estimate = estimate_fit_memory(layers, input_shape, dtype, batch_size, solver, **kwargs)
    total = estimate.total
    if total < NEVER_REFUSED_BELOW:
        return estimate
    limit = available_memory(backend)
    if total > limit:
        raise ValueError(
            f"This fit would need about {format_bytes(total)} ({estimate.describe_parts()}; "
            f"{np.dtype(dtype).name}), more than the {format_bytes(limit)} of "
            f"{_where(backend)} available. {estimate.blame(limit)} "
            f"(sknets.set_config(memory_limit=...) sets the limit.)"
        )
    return estimate


def check_estimator_fit(est, X, layers, input_shape, dtype, backend=None):
    """:func:`check_fit_memory` for estimator ``est`` about to fit ``layers``
    on validated ``X``: the one call a fit makes before building its network.

    Reads from ``est``: ``solver`` (an estimator without one, the perceptron,
    keeps no optimizer state), ``batch_size`` (``"auto"``: 200 rows),
    ``early_stopping`` and, to name the parameter that made each layer in
    the message, ``hidden_layer_sizes``. From ``X``: its rows, its density
    when sparse, and whether the fit copies it (a cast to ``dtype``, another
    device, or the split of early stopping).

    Parameters
    ----------
    est : estimator
    X : {ndarray, sparse matrix, array-API array} of shape (n_samples, n_features)
    layers : list of Layer
        The network's layers (unbuilt).
    input_shape : tuple of int
        One sample's shape as the first layer sees it.
    dtype : numpy dtype
        The compute dtype.
    backend : Backend or None, default=None

    Returns
    -------
    MemoryEstimate

    Raises
    ------
    ValueError
        When the estimate exceeds the memory available (see :func:`check_fit_memory`).
    """
    import scipy.sparse as sp

    from ._dispatch import float_dtype_name

    n_samples = int(X.shape[0])
    batch_size = getattr(est, "batch_size", "auto")
    batch_size = min(200 if batch_size == "auto" else int(batch_size), max(n_samples, 1))
    early_stopping = bool(getattr(est, "early_stopping", False))
    density, input_bytes = None, 0
    itemsize = np.dtype(dtype).itemsize
    if sp.issparse(X):
        density = X.nnz / max(X.shape[0] * X.shape[1], 1)
    else:
        same = float_dtype_name(X) == np.dtype(dtype).name
        on_host = backend is None or backend.is_numpy
        if early_stopping or not (same and on_host):
            input_bytes = n_samples * math.prod(X.shape[1:]) * itemsize
    return check_fit_memory(
        layers, input_shape, dtype, batch_size, getattr(est, "solver", "none"),
        backend=backend, n_samples=n_samples, early_stopping=early_stopping,
        input_bytes=input_bytes, sparse_density=density, names=_layer_names(est, layers))


def _layer_names(est, layers):
    """The estimator parameter that made each hidden Dense layer, if known."""
    sizes = getattr(est, "hidden_layer_sizes", None)
    names, k = [], 0
    dense = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Dense"]
    for i, _ in enumerate(layers):
        name = None
        if sizes is not None and i in dense[:-1]:
            name = f"hidden_layer_sizes[{k}]={layers[i].units}"
            k += 1
        names.append(name)
    return names


def check_weights_memory(plan, dtype, backend=None):
    """Refuse a layer whose weights alone exceed the memory available.

    Called by :meth:`~sknets.layers.Layer.build` before drawing any weight,
    so that e.g. ``Dense(10**9)`` fails at once with a message naming its
    hyper-parameter rather than in NumPy's allocator.

    Raises
    ------
    ValueError
        Naming the layer, the hyper-parameter that sets its size, the
        weights' size in GiB and the memory available.
    """
    nbytes = (plan.n_params + plan.n_state) * np.dtype(dtype).itemsize
    if nbytes < NEVER_REFUSED_BELOW:
        return
    limit = available_memory(backend)
    if nbytes > limit:
        what = plan.layer.size_parameter(plan.input_shape)
        what = f" ({what})" if what else ""
        raise ValueError(
            f"{plan.description}{what} on inputs of shape {plan.input_shape} has "
            f"{plan.n_params + plan.n_state:,} weights: {format_bytes(nbytes)} in "
            f"{np.dtype(dtype).name}, more than the {format_bytes(limit)} of "
            f"{_where(backend)} available (sknets.set_config(memory_limit=...) sets the limit)."
        )


def _where(backend):
    return "GPU memory" if backend is not None and backend.name == "cupy" else "memory"


def available_memory(backend=None):
    """Bytes a fit may use: ``sknets.get_config()["memory_limit"]`` when set,
    else the memory available now.

    On the host: ``psutil.virtual_memory().available`` (memory that can be
    given without swapping), and no more than what the control group (a
    container's limit, cgroup v1 or v2) has left; for the CuPy backend: the
    GPU's free memory plus what CuPy's memory pool holds unused.

    Returns
    -------
    float
        Bytes (``inf`` when nothing can be read).
    """
    limit = get_config().get("memory_limit", "auto")
    if limit != "auto":
        return float(limit)
    if backend is not None and backend.name == "cupy":   # pragma: no cover - needs a GPU
        import cupy

        free, _ = cupy.cuda.runtime.memGetInfo()
        pool = cupy.get_default_memory_pool()
        return float(free + pool.free_bytes())
    return float(min(_host_available(), _cgroup_available()))


def _host_available():
    try:
        import psutil
    except ImportError:   # pragma: no cover - psutil is a dependency
        try:
            return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return math.inf
    return psutil.virtual_memory().available


def _read_int(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_available():
    """Bytes the process's control group may still take (inf without a limit)."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit = _read_int(limit_file)
        if limit is not None and limit < 2 ** 60:
            usage = _read_int(usage_file) or 0
            return max(limit - usage, 0)
    return math.inf
