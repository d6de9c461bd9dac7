"""The per-epoch table printed while training with ``verbose`` (skorch's style).

One row per epoch: epoch, train loss, validation loss and score (with a
validation split), learning rate and seconds. A value that is the best so far
(lowest loss, highest score) is marked with ``+``; the header is written with
the first row. Every row is ONE ``write`` call followed by ``flush``, so rows
printed by parallel fits (``GridSearchCV(n_jobs=...)``) do not interleave
inside a line.
"""

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


class EpochTable:
    """Prints history records as table rows.

    Parameters
    ----------
    stream : file-like or None, default=None
        Where to write; ``None`` means ``sys.stdout`` at the time of writing
        (so that pytest's ``capsys`` and ``contextlib.redirect_stdout`` work).
    """

    def __init__(self, stream=None):
        self.stream = stream
        self._columns = None

    def _widths(self):
        return [max(len(title), 8) + 1 for _, title, _ in self._columns]

    def format_row(self, record):
        """One table row (without newline) for a history ``record`` (dict)."""
        cells = []
        for (key, _, fmt), width in zip(self._columns, self._widths()):
            text = format(record[key], fmt)
            flag = BEST_FLAGS.get(key)
            text += "+" if flag and record.get(flag) else " "
            cells.append(text.rjust(width + 1))
        return "  ".join(cells)

    def header(self):
        titles = [title.rjust(w) + " " for (_, title, _), w in zip(self._columns, self._widths())]
        rules = ["-" * w + " " for w in self._widths()]
        return "  ".join(titles) + "\n" + "  ".join(rules)

    def print_epoch(self, record):
        """Write the row of ``record`` (with the header before the first one)."""
        text = ""
        if self._columns is None:
            self._columns = [c for c in _COLUMNS if c[0] in record]
            text = self.header() + "\n"
        _write(text + self.format_row(record) + "\n", self.stream)

    def print_message(self, message):
        """Write a free-text line (stop reason, restored weights)."""
        _write(message + "\n", self.stream)


def mark_best(record, history):
    """Add the ``*_best`` flags to ``record``: is each value the best so far?

    The best value so far is that of the last record flagged best (found by
    scanning back from the end, so an epoch costs O(epochs since the best)).

    Parameters
    ----------
    record : dict
        The new epoch's history record (modified in place).
    history : list of dict
        The records of the previous epochs.
    """
    for key, flag in BEST_FLAGS.items():
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
