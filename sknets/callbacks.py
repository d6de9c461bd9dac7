"""scikit-learn's callback framework (``sklearn.callback``) in the training loop.

scikit-learn 1.9 added callbacks to its estimators: ``est.set_callbacks(cb)``
with, for example, :class:`sklearn.callback.ProgressBar` (needs ``rich``) or
:class:`sklearn.callback.ScoringMonitor`. sknets' estimators support it
through :class:`sklearn.callback.CallbackSupportMixin`, with this task tree::

    fit                       (one task, max_iter epochs as subtasks)
    +-- epoch #k              (n_batches mini-batches as subtasks)
        +-- batch #j          (leaf)

So a ``ProgressBar`` shows epoch and mini-batch progress, and a
``ScoringMonitor`` scores a snapshot of the model after every epoch (and at
the end of fit). A callback whose ``on_fit_task_end`` returns True at the end
of an epoch stops training (``stop_reason_`` says so). Callbacks set on a
``Pipeline`` or ``GridSearchCV`` propagate down to the sknets estimator as
they do to scikit-learn's own. ``L-BFGS`` reports its iterations as leaves.

On a scikit-learn without ``sklearn.callback`` the estimators work as before,
without ``set_callbacks``.

Examples
--------
>>> from sklearn.callback import ScoringMonitor          # doctest: +SKIP
>>> monitor = ScoringMonitor(scoring="accuracy")          # doctest: +SKIP
>>> clf = MLPClassifierScratch(max_iter=5).set_callbacks(monitor).fit(X, y)  # doctest: +SKIP
>>> monitor.get_logs().data_as_pandas                     # doctest: +SKIP
"""

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    HAS_SKLEARN_CALLBACKS = True
except ImportError:  # pragma: no cover - older scikit-learn
    HAS_SKLEARN_CALLBACKS = False

    class CallbackSupportMixin:  # noqa: D101 - a stand-in that adds nothing
        """Stand-in for scikit-learn < 1.9: no callback support."""

    def with_callbacks(method):
        return method


__all__ = ["HAS_SKLEARN_CALLBACKS", "CallbackSupportMixin", "FitTasks", "with_callbacks"]


class FitTasks:
    """The callback hooks of one ``fit`` call (does nothing without callbacks).

    Parameters
    ----------
    estimator : BaseNetwork
        The estimator being fitted.
    X, y : array-like
        The data given to ``fit`` (passed to the hooks, e.g. for scoring).
    sample_weight : array-like or None
        Passed to the hooks as ``metadata``.
    max_subtasks : int or None
        Number of epochs (``None`` if unknown, as with L-BFGS).
    snapshot : callable or None, default=None
        Returns the fitted attributes of the model as it is now (a frozen
        copy); scikit-learn builds the callbacks' ``fitted_estimator`` from
        them. None: the estimator's own attributes.
    """

    def __init__(self, estimator, X, y, sample_weight, max_subtasks, snapshot=None):
        self.estimator = estimator
        self.snapshot = snapshot
        self.enabled = HAS_SKLEARN_CALLBACKS and bool(getattr(estimator, "_skl_callbacks", None))
        if not self.enabled:
            return
        self._kw = {
            "X": X, "y": y,
            "metadata": None if sample_weight is None else {"sample_weight": sample_weight},
        }
        self.root = estimator._init_callback_context(max_subtasks=max_subtasks)
        self.root.call_on_fit_task_begin(estimator=estimator, **self._kw)

    def _snapshot(self):
        if self.snapshot is not None:
            return self.snapshot()
        return {k: v for k, v in vars(self.estimator).items() if k.endswith("_")}

    def epoch_begin(self, n_batches):
        """Open the task of one epoch of ``n_batches`` mini-batches."""
        if not self.enabled:
            return None
        ctx = self.root.subcontext(task_name="epoch", max_subtasks=n_batches)
        ctx.call_on_fit_task_begin(estimator=self.estimator, **self._kw)
        return ctx

    def batch_begin(self, epoch_ctx):
        if epoch_ctx is None:
            return None
        ctx = epoch_ctx.subcontext(task_name="batch")
        ctx.call_on_fit_task_begin(estimator=self.estimator)
        return ctx

    def batch_end(self, batch_ctx):
        if batch_ctx is not None:
            batch_ctx.call_on_fit_task_end(estimator=self.estimator)

    def epoch_end(self, epoch_ctx):
        """Close an epoch's task; return True if a callback asks to stop."""
        if epoch_ctx is None:
            return False
        return epoch_ctx.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=self._snapshot, **self._kw
        )

    def iteration(self):
        """One L-BFGS iteration, reported as a leaf task; True asks to stop."""
        if not self.enabled:
            return False
        ctx = self.root.subcontext(task_name="lbfgs-iter")
        ctx.call_on_fit_task_begin(estimator=self.estimator)
        return ctx.call_on_fit_task_end(estimator=self.estimator)

    def end(self):
        """Close the fit task (the callbacks see the final model)."""
        if self.enabled:
            self.root.call_on_fit_task_end(
                estimator=self.estimator, reconstruction_attributes=self._snapshot, **self._kw
            )
