"""Ctrl-C during ``fit``: finish the current step, commit, then stop the caller.

While a trainer runs in the main thread, the first SIGINT only sets a flag
that the trainer reads after each mini-batch (an L-BFGS iteration, a chunk of
the perceptron's samples); it then raises :class:`TrainingInterrupted`
itself, at a point where every parameter is updated, and returns with a
consistent state. The estimator commits that usable model, warns, and raises
``KeyboardInterrupt`` again, so that a grid search, a cross-validation or a
``partial_fit`` loop around the fit stops too. A second Ctrl-C raises
``KeyboardInterrupt`` at once, as usual (it may come mid-update: nothing is
committed and the estimator stays as it was). Outside the main thread
(joblib threads) or when another SIGINT handler is installed, nothing is
changed.
"""

import signal
import threading


#: ``stop_reason_`` of a fit stopped by Ctrl-C.
INTERRUPTED = "interrupted by the user (KeyboardInterrupt)."


class TrainingInterrupted(Exception):
    """Raised by a training loop at a safe point after a deferred Ctrl-C."""


class DeferredInterrupt:
    """Context manager turning the first SIGINT into :attr:`requested`."""

    def __init__(self):
        self.requested = False
        self._previous = None
        self._handler = self._on_sigint  # one bound method, to compare by identity

    def _on_sigint(self, signum, frame):
        self.requested = True
        # The next Ctrl-C raises KeyboardInterrupt at once.
        signal.signal(signal.SIGINT, self._previous)

    def install(self):
        """Catch SIGINT (main thread, default handler only); returns self."""
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def uninstall(self):
        """Put the previous SIGINT handler back (if this one is still set)."""
        if self._previous is not None and signal.getsignal(signal.SIGINT) is self._handler:
            signal.signal(signal.SIGINT, self._previous)

    def check(self):
        """Raise :class:`TrainingInterrupted` if Ctrl-C was pressed."""
        if self.requested:
            raise TrainingInterrupted

    def __enter__(self):
        return self.install()

    def __exit__(self, *exc):
        self.uninstall()
        return False
