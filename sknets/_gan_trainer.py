"""The alternating training of a generative adversarial network.

:class:`GANTrainer` trains a generator and a discriminator
(:class:`~sknets.network.Sequential` networks already built on the backend)
against each other, epoch by epoch, in named steps:

- :meth:`GANTrainer.discriminator_step`: one Adam step of the discriminator
  on a batch of real samples (target ``1 - label_smoothing``) and a batch of
  generated ones (target 0), the two passes' gradients summed;
- :meth:`GANTrainer.generator_step`: one Adam step of the generator on the
  non-saturating loss, back-propagated through the discriminator (whose
  weights stay as they are);
- :meth:`GANTrainer.record_epoch`: the epoch's mean losses and
  discriminator outputs (read back to the host once), the quality figure on
  the validation split, the history record and its table row;
- :meth:`GANTrainer.should_stop`: divergence (non-finite or exploding
  losses or weights), a collapsed game (the discriminator rejects every
  generated sample for ``COLLAPSE_EPOCHS`` epochs in a row) or ``max_iter``.

An epoch is one pass of the discriminator over the shuffled training rows;
after every ``discriminator_steps`` discriminator steps the generator takes
``generator_steps`` steps. The trainer works on a :class:`GANFitState` (the
engine's :class:`~sknets.training.FitState` with a second network) built
apart from the estimator; :class:`~sknets.GenerativeAdversarialNetwork`
validates and scales the data, builds the state, runs the trainer and
commits the state in one step. Ctrl-C stops the trainer after the current
batch with a consistent state (``run`` returns True); any exception leaves
the state to be dropped.

References
----------
.. [1] I. Goodfellow et al., "Generative adversarial nets", NeurIPS 2014
   (Algorithm 1: k discriminator steps per generator step).
.. [2] T. Salimans et al., "Improved techniques for training GANs",
   NeurIPS 2016 (one-sided label smoothing).
"""

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from ._display import EpochTable, mark_best
from ._interrupt import INTERRUPTED, DeferredInterrupt, TrainingInterrupted
from .backend import read_back
from .callbacks import FitTasks
from .exceptions import DivergenceError
from .losses import DiscriminatorLoss, GeneratorLoss
from .optimizers import Adam
from .training import FitState
from .training._common import EpochLog, TrainerConfig

#: a mean loss above this has exploded (a logit of -1000 on every sample).
LOSS_BOUND = 1e3
#: the discriminator's mean output on generated samples below which it
#: rejects them all (the generator's gradient vanishes)...
COLLAPSE_PROBABILITY = 1e-3
#: ...for this many epochs in a row: the game has collapsed.
COLLAPSE_EPOCHS = 10

_COLUMNS = (
    ("epoch", "epoch", "d"),
    ("d_loss", "d_loss", ".4f"),
    ("g_loss", "g_loss", ".4f"),
    ("d_real", "D(real)", ".3f"),
    ("d_fake", "D(fake)", ".3f"),
    ("valid_c2st", "valid_c2st", ".4f"),
    ("dur", "dur", ".4f"),
)
_LEGEND = (
    ("d_loss", "d_loss: discriminator loss (real + generated batches); g_loss: generator "
               "loss -log D(G(z)); D(real), D(fake): the discriminator's mean output"),
    ("valid_c2st", "valid_c2st: classifier two-sample test of generated samples against the "
                   "held-out validation_fraction (0.5: indistinguishable, 1.0: always told "
                   "apart)"),
    ("epoch", "+: the best value so far; dur: seconds"),
)
_BEST_FLAGS = {"valid_c2st": "valid_c2st_best"}


@dataclass
class GANConfig(TrainerConfig):
    """The training parameters of a GAN fit (the estimator's names).

    ``random_state`` is the ``RandomState`` of this fit: the sample order
    and the noise draw from it.
    """

    label_smoothing: float = 0.1
    discriminator_steps: int = 1
    generator_steps: int = 1
    learning_rate_init: float = 2e-4
    discriminator_learning_rate: Any = None
    beta_1: float = 0.5
    beta_2: float = 0.999
    epsilon: float = 1e-8
    batch_size: int = 64
    max_iter: int = 200
    verbose: Any = False
    random_state: Any = None


class GANFitState(FitState):
    """A GAN's fitted state: the generator (``network``), the discriminator,
    the data's encoding and the training record (see
    :class:`~sknets.training.FitState`)."""

    def __init__(self, generator, discriminator, dtype, encoding, attribute_backend=None):
        super().__init__(generator, GeneratorLoss(), dtype, encoding, architecture={},
                         attribute_backend=attribute_backend)
        self.discriminator = discriminator

    @property
    def generator(self):
        return self.network

    def continued(self, backend):
        twin = super().continued(backend)
        twin.discriminator = self.discriminator.copied(backend)
        return twin


class _GANEpochLog(EpochLog):
    """The engine's epoch log with the GAN's columns and best-value flags."""

    def __init__(self, state, verbose, max_epochs):
        self.state = state
        self.display = (EpochTable(verbose=verbose, max_epochs=max_epochs, columns=_COLUMNS,
                                   legend=_LEGEND, best_flags=_BEST_FLAGS)
                        if verbose else None)

    def record(self, record):
        mark_best(record, self.state.history, _BEST_FLAGS)
        self.state.history.append(record)
        if self.display is not None:
            self.display.print_epoch(record)


class GANTrainer:
    """Alternating discriminator and generator steps over epochs.

    Parameters
    ----------
    state : GANFitState
        Its generator and discriminator are built on the training backend;
        every discriminator layer returns its input gradient (the generator
        learns through it). The trainer changes this state only.
    config : GANConfig
    io : GANInputs
        Builds the networks' inputs: noise and labels for the generator,
        samples and labels for the discriminator (:mod:`sknets._gan_io`).
    tasks : FitTasks or None
        The callbacks' hooks (epochs and batches as tasks; a callback may
        stop training at the end of an epoch).
    quality : callable or None
        ``quality(generator)`` returns the validation figure (lower is
        better); None without a validation split.
    """

    def __init__(self, state, config, io, tasks=None, quality=None):
        self.state = state
        self.generator, self.discriminator = state.generator, state.discriminator
        self.config = config
        self.io = io
        self.rng = config.random_state
        self.tasks = FitTasks(None, None, None, None, 0) if tasks is None else tasks
        self.quality = quality
        self.backend = self.generator.backend
        self.xp = self.backend.xp
        self.d_loss = DiscriminatorLoss(config.label_smoothing)
        self.g_loss = state.loss
        lr_d = config.discriminator_learning_rate or config.learning_rate_init
        adam = {"beta_1": config.beta_1, "beta_2": config.beta_2, "epsilon": config.epsilon}
        self.g_opt = Adam(self.generator.params, config.learning_rate_init, **adam)
        self.d_opt = Adam(self.discriminator.params, lr_d, **adam)
        self._best = None          # (generator, discriminator) weights of the best epoch
        self._collapse_streak = 0
        self._before_collapse = None
        self.log = _GANEpochLog(state, config.verbose, config.max_iter)

    # ------------------------------------------------------------- the steps
    def discriminator_step(self, X_real, C):
        """One discriminator update on real rows ``X_real`` (scaled, on the
        backend) with labels ``C`` (one-hot or None) and as many generated rows.
        Returns the generated rows (the generator's training forward stays
        cached for a generator step on them)."""
        xp, D = self.xp, self.discriminator
        n = X_real.shape[0]
        fake = self.io.generate(self.generator, n, C, training=True)
        z_real = D.forward(self.io.d_input(X_real, C), training=True)
        loss_real, dz = self.d_loss.loss_and_grad(xp, z_real, xp.ones_like(z_real))
        D.backward(dz)
        real_grads = [xp.asarray(g, copy=True) for g in D.grads]
        z_fake = D.forward(self.io.d_input(fake, C), training=True)
        loss_fake, dz = self.d_loss.loss_and_grad(xp, z_fake, xp.zeros_like(z_fake))
        D.backward(dz)
        grads = D.grads
        for g, g_real in zip(grads, real_grads):
            g += g_real
        self.d_opt.update_params(D.params, grads)
        sums = self._sums
        sums[0] = sums[0] + (loss_real + loss_fake) * n
        sums[2] = sums[2] + xp.sum(self.d_loss.output(xp, z_real))
        sums[3] = sums[3] + xp.sum(self.d_loss.output(xp, z_fake))
        self._counts[0] += n
        return fake

    def generator_step(self, n, C, fake=None):
        """One generator update on ``n`` generated rows for labels ``C``
        (``fake``: rows just generated in training mode, else new ones),
        judged by the discriminator; the loss's gradient flows back through it."""
        xp, D, G = self.xp, self.discriminator, self.generator
        if fake is None:
            fake = self.io.generate(G, n, C, training=True)
        z = D.forward(self.io.d_input(fake, C), training=True)
        loss, dz = self.g_loss.loss_and_grad(xp, z)
        d_input = D.backward(dz)
        G.backward(self.io.fake_gradient(d_input))
        self.g_opt.update_params(G.params, G.grads)
        self._sums[1] = self._sums[1] + loss * n
        self._counts[1] += n

    def record_epoch(self, epoch, tic):
        """The epoch's history record (and table row), or None when the epoch
        left a loss or a weight non-finite or past :data:`LOSS_BOUND`."""
        xp, state = self.xp, self.state
        flag = xp.logical_and(self.generator.finite_flag(), self.discriminator.finite_flag())
        sums = xp.stack(self._sums)
        host, finite = read_back(xp, sums, flag)
        nd, ng = self._counts
        record = {"epoch": epoch, "d_loss": host[0] / nd, "g_loss": host[1] / max(ng, 1),
                  "d_real": host[2] / nd, "d_fake": host[3] / nd}
        if not (finite and np.all(np.isfinite(host))
                and max(record["d_loss"], record["g_loss"]) <= LOSS_BOUND):
            return None
        if self.quality is not None:
            record["valid_c2st"] = float(self.quality(self.generator))
        record["dur"] = time.perf_counter() - tic
        self.log.record(record)
        state.n_iter = epoch
        state.loss_value = record["g_loss"]
        if record.get("valid_c2st_best"):
            state.best_epoch = epoch
            self._best = self._snapshot()
        return record

    def should_stop(self, record, snapshot):
        """The reason to stop after ``record`` (None: go on); ``snapshot``:
        the weights the epoch started from."""
        if record["d_fake"] < COLLAPSE_PROBABILITY:
            if self._collapse_streak == 0:
                self._before_collapse = (snapshot, record["epoch"] - 1)
            self._collapse_streak += 1
            if self._collapse_streak >= COLLAPSE_EPOCHS:
                return (f"Collapsed at epoch {record['epoch']}: the discriminator rejected "
                        f"every generated sample (mean D(fake) < {COLLAPSE_PROBABILITY:g}) "
                        f"for {COLLAPSE_EPOCHS} epochs in a row, so the generator's gradient "
                        "vanished.")
        else:
            self._collapse_streak = 0
        if record["epoch"] >= self.config.max_iter:
            return f"max_iter={self.config.max_iter} epochs reached."
        return None

    # ------------------------------------------------------------- the loop
    def _snapshot(self):
        return self.generator.get_weights(), self.discriminator.get_weights()

    def _restore(self, weights):
        self.generator.set_weights(weights[0])
        self.discriminator.set_weights(weights[1])

    def run_epoch(self, X, C, interrupt):
        """One pass of the discriminator over the shuffled rows, with the
        generator's steps in between; Ctrl-C stops it after the current batch."""
        tasks, config = self.tasks, self.config
        zero = self.backend.asarray(np.zeros((), dtype=self.io.dtype))
        self._sums = [zero] * 4   # d_loss, g_loss, D(real), D(fake): on the backend
        self._counts = [0, 0]               # discriminator and generator samples
        idx = self.backend.asarray(self.rng.permutation(X.shape[0]))
        k_d, k_g = config.discriminator_steps, config.generator_steps
        batches = list(gen_batches(X.shape[0], min(config.batch_size, X.shape[0])))
        self.epoch_ctx = tasks.epoch_begin(len(batches))
        for j, s in enumerate(batches):
            batch_ctx = tasks.batch_begin(self.epoch_ctx)
            rows = idx[s]
            Cb = None if C is None else self.xp.take(C, rows, axis=0)
            fake = self.discriminator_step(self.xp.take(X, rows, axis=0), Cb)
            if (j + 1) % k_d == 0 or j == len(batches) - 1:
                for i in range(k_g):
                    self.generator_step(s.stop - s.start, Cb, fake if i == 0 else None)
            tasks.batch_end(batch_ctx)
            interrupt.check()

    def run(self, X, C):
        """Train on scaled rows ``X`` with one-hot labels ``C`` (None:
        unconditional), both on the backend.

        Returns
        -------
        interrupted : bool
            True when Ctrl-C stopped training (after a completed batch: the
            state is consistent and usable).

        Raises
        ------
        DivergenceError
            If the first epoch already diverges (no usable generator).
        """
        state = self.state
        interrupt = DeferredInterrupt().install()
        warn, interrupted = None, False
        state.stop_reason = None
        try:
            for epoch in range(1, self.config.max_iter + 1):
                tic = time.perf_counter()
                snapshot = self._snapshot()
                self.run_epoch(X, C, interrupt)
                record = self.record_epoch(epoch, tic)
                if record is None:
                    self._restore(snapshot)
                    what = (f"Diverged at epoch {epoch}: a loss or a weight became non-finite "
                            f"or a mean loss exceeded {LOSS_BOUND:g}.")
                    if not state.history:
                        raise DivergenceError(
                            what + " No epoch completed; the estimator was left as it was. "
                            "Try a smaller learning_rate_init or more label_smoothing.")
                    state.stop_reason = warn = what
                    break
                if self.tasks.epoch_end(self.epoch_ctx):
                    state.stop_reason = "a callback asked to stop."
                    break
                state.stop_reason = self.should_stop(record, snapshot)
                if state.stop_reason is not None:
                    if state.stop_reason.startswith("Collapsed"):
                        warn = state.stop_reason
                    break
        except TrainingInterrupted:
            interrupted = True
            state.stop_reason = INTERRUPTED
        finally:
            interrupt.uninstall()
            self.generator.release_work()
            self.discriminator.release_work()
        self.finish(warn)
        return interrupted

    def finish(self, warn):
        """The weights to commit (best, or before a divergence or a collapse);
        the closing line; the warning of an early stop."""
        state = self.state
        kept = None
        if self._best is not None:
            self._restore(self._best)
            kept = f"Kept the best generator by valid_c2st, from epoch {state.best_epoch}."
        elif warn is not None and warn.startswith("Collapsed") and self._before_collapse:
            weights, epoch = self._before_collapse
            if epoch >= 1:
                self._restore(weights)
                state.best_epoch = epoch
                kept = f"Kept the generator of epoch {epoch}, before the collapse."
        elif warn is not None and warn.startswith("Diverged"):
            state.best_epoch = len(state.history)
            kept = f"Kept the weights of epoch {state.best_epoch}, before the divergence."
        message = f"Stopped after epoch {len(state.history)}: {state.stop_reason}"
        if kept:
            message += " " + kept
        self.log.message(message)
        state.closing_message = message
        if warn is not None:
            warnings.warn(f"GAN training stopped early. {warn} {kept or ''}".rstrip(),
                          ConvergenceWarning, stacklevel=5)
