"""The per-epoch table printed while training with ``verbose`` (skorch's style).

One row per epoch: epoch, train loss, validation loss and score (with a
validation split), learning rate and seconds. A value that is the best so far
(lowest loss, highest score) is marked with ``+``; the header, with a legend
that says what the columns and ``+`` mean, is written with the first row.
``verbose=1`` prints every epoch of a fit of up to 20 epochs; for longer
fits the first 10, then one row per stretch of ``ceil((max_iter - 10) / 12)``
epochs (its last epoch, preceded by the stretch's last new best validation
score when that is another epoch) and the last epoch: at most 36 rows for
any ``max_iter``; ``verbose>=2`` prints every epoch. Every row is ONE ``write`` call
followed by ``flush``, so rows printed by parallel fits
(``GridSearchCV(n_jobs=...)``) do not interleave inside a line.
"""

import math
import sys

#: history keys shown, with their column title and number format.
_COLUMNS = (
    ("epoch", "epoch", "d"),
    ("train_loss", "train_loss", ".4f"),
    ("valid_loss", "valid_loss", ".4f"),
    ("valid_score", "valid_score", ".4f"),
    ("learning_rate", "lr", ".3g"),
    ("dur", "dur", ".4f"),
)

#: history keys of the flags that mark the best value of a column.
BEST_FLAGS = {
    "train_loss": "train_loss_best",
    "valid_loss": "valid_loss_best",
    "valid_score": "valid_score_best",
}


def _write(text, stream=None):
    stream = sys.stdout if stream is None else stream
    stream.write(text)
    stream.flush()


#: legend lines written above the header (the ones whose column is shown).
_LEGEND = (
    ("train_loss", "train_loss: the loss on the training data (with the L2 penalty), "
                   "averaged over the epoch's mini-batches"),
    ("valid_score", "valid_loss, valid_score: on the held-out validation_fraction "
                    "(score: accuracy, R^2 for regressors)"),
    ("learning_rate", "lr: the step size of the epoch; for Adam, as in scikit-learn, "
                      "learning_rate_init x sqrt(1 - beta_2^t) / (1 - beta_1^t) after t "
                      "steps, which starts lower and rises toward learning_rate_init"),
    ("epoch", "+: the best value so far; dur: seconds"),
)

#: the perceptron's legend: its loss is the perceptron criterion, its lr eta0.
_PERCEPTRON_LEGEND = (
    ("train_loss", "train_loss: the perceptron criterion max(0, -y z) per sample (0 when "
                   "the logit z has the sign of y in {-1, +1}, else |z|), averaged over the "
                   "epoch's samples as they were seen (plus the penalty), summed over the "
                   "one-vs-rest problems"),
    ("valid_score", "valid_loss, valid_score: the criterion and the accuracy on the "
                    "held-out validation_fraction"),
    ("learning_rate", "lr: eta0, the constant step of the perceptron rule "
                      "w += lr * y * x on each mistake"),
    ("epoch", "+: the best value so far; dur: seconds"),
)

#: the rows of a long fit (verbose=1): the first ``FIRST_ROWS`` epochs, then
#: at most ``STRETCHES`` stretches of equal length.
FIRST_ROWS = 10
STRETCHES = 12

#: fits of up to this many epochs print every row with verbose=1.
SHORT_FIT = 20


class EpochTable:
    """Prints history records as table rows.

    Parameters
    ----------
    stream : file-like or None, default=None
        Where to write; ``None`` means ``sys.stdout`` at the time of writing
        (so that pytest's ``capsys`` and ``contextlib.redirect_stdout`` work).
    verbose : int, default=2
        The estimator's ``verbose``: 1 prints a cadence of rows for fits of
        more than ``SHORT_FIT`` epochs, 2 or more every row.
    max_epochs : int or None, default=None
        Epochs the fit may run (``max_iter``); None prints every row.
    loss : str or None, default=None
        The name of the loss class (``"PerceptronCriterion"`` selects the
        perceptron's legend).
    columns, legend, best_flags : tuple, tuple, dict, default: the networks'
        ``(history key, title, format)`` of each possible column, the
        ``(key, text)`` legend lines, and the flags that mark a column's
        best value; another estimator (the GAN) passes its own.
    """

    def __init__(self, stream=None, verbose=2, max_epochs=None, loss=None, columns=_COLUMNS,
                 legend=None, best_flags=None):
        self.stream = stream
        self._all_columns = columns
        self._best_flags = BEST_FLAGS if best_flags is None else best_flags
        valid = [flag for key, flag in self._best_flags.items() if key.startswith("valid_")]
        self._best_flag = valid[-1] if valid else None   # a new best of it gets a row
        self._columns = None
        self._seen = 0
        self._pending = None       # the last record, if not printed (printed at the end)
        self._stretch_best = None  # the stretch's last new best, if not printed yet
        self._header_written = False
        self._every = None
        if legend is None:
            legend = _PERCEPTRON_LEGEND if loss == "PerceptronCriterion" else _LEGEND
        self._legend = legend
        if int(verbose) < 2 and max_epochs is not None and max_epochs > SHORT_FIT:
            self._every = math.ceil((max_epochs - FIRST_ROWS) / STRETCHES)

    def _widths(self):
        return [max(len(title), 8) + 1 for _, title, _ in self._columns]

    def format_row(self, record):
        """One table row (without newline) for a history ``record`` (dict)."""
        cells = []
        for (key, _, fmt), width in zip(self._columns, self._widths()):
            text = format(record[key], fmt)
            flag = self._best_flags.get(key)
            text += "+" if flag and record.get(flag) else " "
            cells.append(text.rjust(width + 1))
        return "  ".join(cells)

    def legend(self):
        """The lines above the header: what the columns, ``+`` and the rows mean."""
        keys = {key for key, _, _ in self._columns}
        lines = [text for key, text in self._legend if key in keys]
        if self._every is not None:
            key = next((k for k, f in self._best_flags.items() if f == self._best_flag), None)
            best = (f" (after the stretch's last new best {key}, if another epoch)"
                    if key in keys else "")
            lines.append(f"rows: epochs 1-{FIRST_ROWS}, then one every {self._every} "
                         f"epochs{best}, and the last (verbose=2: every epoch)")
        return "\n".join(lines)

    def header(self):
        titles = [title.rjust(w) + " " for (_, title, _), w in zip(self._columns, self._widths())]
        rules = ["-" * w + " " for w in self._widths()]
        return "  ".join(titles) + "\n" + "  ".join(rules)

    def print_epoch(self, record):
        """Write the row of ``record`` (with the legend and header before the
        first one), or keep it for later when the cadence skips it."""
        self._seen += 1
        n = self._seen
        if self._columns is None:
            self._columns = [c for c in self._all_columns if c[0] in record]
        if self._every is None or n <= FIRST_ROWS:
            _write(self._row_text(record), self.stream)
            return
        if self._best_flag and record.get(self._best_flag):
            self._stretch_best = record
        if (n - FIRST_ROWS) % self._every:
            self._pending = record
            return
        _write(self._flush_text(record), self.stream)

    def _flush_text(self, record):
        """The rows kept back (the stretch's best, then ``record``), and forget them."""
        best, self._stretch_best, self._pending = self._stretch_best, None, None
        text = "" if best is None or best is record else self._row_text(best)
        return text + ("" if record is None else self._row_text(record))

    def _row_text(self, record):
        text = ""
        if not self._header_written:
            self._header_written = True
            text = self.legend() + "\n" + self.header() + "\n"
        return text + self.format_row(record) + "\n"

    def print_message(self, message):
        """Write a free-text line (stop reason, restored weights), after the
        last epoch's row if the cadence skipped it."""
        _write(self._flush_text(self._pending) + message + "\n", self.stream)


def mark_best(record, history, best_flags=None):
    """Add the ``*_best`` flags to ``record``: is each value the best so far?

    The best value so far is that of the last record flagged best (found by
    scanning back from the end, so an epoch costs O(epochs since the best)).

    Parameters
    ----------
    record : dict
        The new epoch's history record (modified in place).
    history : list of dict
        The records of the previous epochs.
    best_flags : dict or None, default=None
        ``{key: flag}`` of the values to flag (default :data:`BEST_FLAGS`);
        keys ending in ``score`` are best when highest, the others when
        lowest.
    """
    for key, flag in (BEST_FLAGS if best_flags is None else best_flags).items():
        if key not in record:
            continue
        best = next((h[key] for h in reversed(history) if h.get(flag) and key in h), None)
        if best is None:   # no flagged record: compare with all (first epoch: none)
            previous = [h[key] for h in history if key in h]
            if previous:
                best = max(previous) if key.endswith("score") else min(previous)
        if key.endswith("score"):
            record[flag] = best is None or record[key] > best
        else:
            record[flag] = best is None or record[key] < best
