"""The per-epoch table printed while training with ``verbose`` (skorch's style).

One row per epoch: epoch, train loss, validation loss and score (with a
validation split), learning rate and seconds. A value that is the best so far
(lowest loss, highest score) is marked with ``+``; the header, with a legend
that says what the columns and ``+`` mean, is written with the first row.
``verbose=1`` prints every epoch of a fit of up to 20 epochs; for longer
fits the first 10, then every ``ceil(max_iter / 20)``-th, every new best
validation score and the last (so a 200-epoch fit prints about 30 rows, not
200); ``verbose>=2`` prints every epoch. Every row is ONE ``write`` call
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
    ("valid_score", "valid_loss, valid_score: on the held-out validation_fraction "
                    "(score: accuracy, R^2 for regressors)"),
    ("learning_rate", "lr: the step size of the epoch; for Adam, as in scikit-learn, "
                      "learning_rate_init x sqrt(1 - beta_2^t) / (1 - beta_1^t) after t "
                      "steps, which starts lower and rises toward learning_rate_init"),
    ("epoch", "+: the best value so far; dur: seconds"),
)

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
    columns, legend, best_flags : tuple, tuple, dict, default: the networks'
        ``(history key, title, format)`` of each possible column, the
        ``(key, text)`` legend lines, and the flags that mark a column's
        best value; another estimator (the GAN) passes its own.
    """

    def __init__(self, stream=None, verbose=2, max_epochs=None, columns=_COLUMNS,
                 legend=_LEGEND, best_flags=None):
        self.stream = stream
        self._all_columns = columns
        self._legend = legend
        self._best_flags = BEST_FLAGS if best_flags is None else best_flags
        self._columns = None
        self._seen = 0
        self._pending = None   # the last record, if not printed (printed at the end)
        self._header_written = False
        self._every = None
        if int(verbose) < 2 and max_epochs is not None and max_epochs > SHORT_FIT:
            self._every = math.ceil(max_epochs / SHORT_FIT)

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
            valid = [key for key in self._best_flags if key.startswith("valid_") and key in keys]
            best = f", each new best {valid[-1]}" if valid else ""
            lines.append(f"rows: epochs 1-10, then one every {self._every} epochs{best} and "
                         "the last (verbose=2: every epoch)")
        return "\n".join(lines)

    def header(self):
        titles = [title.rjust(w) + " " for (_, title, _), w in zip(self._columns, self._widths())]
        rules = ["-" * w + " " for w in self._widths()]
        return "  ".join(titles) + "\n" + "  ".join(rules)

    def _shows(self, record):
        n = self._seen
        valid = [flag for key, flag in self._best_flags.items() if key.startswith("valid_")]
        return (self._every is None or n <= 10 or n % self._every == 0
                or bool(valid and record.get(valid[-1])))

    def print_epoch(self, record):
        """Write the row of ``record`` (with the legend and header before the
        first one), or keep it for the end when the cadence skips it."""
        self._seen += 1
        if self._columns is None:
            self._columns = [c for c in self._all_columns if c[0] in record]
        if not self._shows(record):
            self._pending = record
            return
        self._pending = None
        _write(self._row_text(record), self.stream)

    def _row_text(self, record):
        text = ""
        if not self._header_written:
            self._header_written = True
            text = self.legend() + "\n" + self.header() + "\n"
        return text + self.format_row(record) + "\n"

    def print_message(self, message):
        """Write a free-text line (stop reason, restored weights), after the
        last epoch's row if the cadence skipped it."""
        text = "" if self._pending is None else self._row_text(self._pending)
        self._pending = None
        _write(text + message + "\n", self.stream)


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
