"""The main job: train an sknets estimator on a dataset and report on it.

Run ``python -m sknets`` (or the ``sknets`` console script) to train
:class:`~sknets.MLPClassifierScratch` on scikit-learn's bundled digits and
print the model summary, a table of epochs (train loss, validation score,
seconds; ``verbose=1``'s cadence: the first 10, then at most 12 stretches,
each shown by its last epoch and its last new best, and the last: at most
36 rows for any ``--epochs``), the test accuracy and the total time.
The features are passed as float32 (``--dtype``), so the estimator computes
in float32.
``python -m sknets --help`` lists the options: the estimator, the dataset (a
bundled one, ``xor``, ``mnist`` from OpenML, or a CSV/NPZ file such as
``path/to/mnist10k.npz``, loaded by :mod:`sknets._main_data`),
epochs, backend, hidden layers and saving the fitted model.

Exit codes: 0 on success; 2 on a bad argument, an unusable backend or an
unreadable dataset (one line on stderr, no traceback, before any other
output); 1 when training fails (e.g. it diverges); 130 on Ctrl-C (during
training the first Ctrl-C stops it and the job still reports on the model
trained so far; a second one quits at once).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from ._interrupt import INTERRUPTED
from ._main_data import UsageError, load_dataset

MODELS = {  # --model -> (class name in sknets, its regression counterpart or None)
    "mlp": ("MLPClassifierScratch", "MLPRegressorScratch"),
    "perceptron": ("PerceptronClassifier", None),
    "convnet": ("ConvNetClassifier", None),
}


def make_estimator(model, task, *, epochs=None, patience=None, hidden_layer_sizes=None,
                   backend=None, random_state=0, verbose=1):
    """The sknets estimator for ``model`` and ``task``, set up for the main job.

    Training holds out a validation split (``early_stopping=True``) so each
    epoch reports a validation score; the network estimators keep the weights
    of the epoch with the best one (the perceptron, like scikit-learn's, those
    of the last epoch). It stops after ``patience`` epochs without improvement
    (``n_iter_no_change``); ``patience=None`` runs all ``epochs``.

    Raises
    ------
    UsageError
        When the estimator does not exist (yet) or does not fit the task.
    """
    import sknets

    cls_name, reg_name = MODELS[model]
    if task == "regression":
        if reg_name is None:
            raise UsageError(f"--model {model} is a classifier; the dataset has continuous "
                             "targets (use --model mlp for regression)")
        cls_name = reg_name
    cls = getattr(sknets, cls_name, None)
    if cls is None:
        raise UsageError(f"--model {model}: sknets.{cls_name} is not available in this "
                         f"version of sknets ({sknets.__version__})")
    est = cls()
    accepted = est.get_params()
    epochs = epochs or accepted.get("max_iter")
    params = {"random_state": random_state, "verbose": verbose, "early_stopping": True,
              "max_iter": epochs, "n_iter_no_change": patience or epochs,
              "hidden_layer_sizes": hidden_layer_sizes, "backend": backend}
    for key in ("max_iter", "hidden_layer_sizes", "backend"):
        if params[key] is not None and key not in accepted:
            raise UsageError(f"{cls_name} has no parameter {key!r}")
    est.set_params(**{k: v for k, v in params.items() if v is not None and k in accepted})
    return est


def _parse_hidden(text):
    try:
        sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive layer sizes, got {text!r}")
    return sizes


def _summary_before_fit(est, X, y, task):
    """The summary table of the network ``est`` will build for ``X, y`` (as
    Keras prints it before training), or None when it cannot be told ahead."""
    if task == "classification":
        k = len(np.unique(y))
        n_outputs = 1 if k == 2 else k   # binary: one logit
    else:
        n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    if est.get_params().get("dtype", "") is None:   # it will follow X's dtype
        est = clone(est).set_params(dtype=np.asarray(X).dtype.name)
    try:
        return est.summary(input_shape=(np.shape(X)[1],), n_outputs=n_outputs, print_fn=None)
    except (ValueError, TypeError):
        return None


def _blas_threads():
    pools = {(p["internal_api"], p["num_threads"])
             for p in threadpool_info() if p.get("user_api") == "blas"}
    return ", ".join(f"{api} {n} threads" for api, n in sorted(pools)) or "none"


# ------------------------------------------------------------------- the job
def run(args, out=None):
    """Load, split, train, report. Returns the fitted model (estimator or Pipeline)."""
    out = sys.stdout if out is None else out
    t_start = time.perf_counter()
    data = load_dataset(args.dataset, args.label_column, args.random_state)
    if args.task is not None:
        data.task = args.task
    if data.task == "regression" and data.y.dtype.kind not in "fiub":
        raise UsageError(f"{data.name}: regression needs numeric targets, got {data.y.dtype}")
    # The estimators compute in their input's dtype: float32 unless asked otherwise.
    data.X = data.X.astype(args.dtype, copy=False)
    est = make_estimator(args.model, data.task, epochs=args.epochs, patience=args.patience,
                         hidden_layer_sizes=args.hidden_layer_sizes, backend=args.backend,
                         random_state=args.random_state, verbose=0 if args.quiet else 1)
    stratify = data.y if data.task == "classification" else None
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            data.X, data.y, test_size=args.test_size, stratify=stratify,
            random_state=args.random_state)
    except ValueError:  # a class too small to stratify: split at random
        X_train, X_test, y_train, y_test = train_test_split(
            data.X, data.y, test_size=args.test_size, random_state=args.random_state)
    scale = args.scale
    if scale == "auto":
        scale = "none" if (data.scaling or data.name == "xor") else "standard"
    model = make_pipeline(StandardScaler(), est) if scale == "standard" else est

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=out))
    prep = ", ".join(filter(None, [data.scaling, "StandardScaler" if scale == "standard" else "",
                                   args.dtype]))
    n_classes = f", {len(np.unique(data.y))} classes" if data.task == "classification" else ""
    say(f"sknets: {type(est).__name__} on {data.name}: {data.X.shape[0]} samples, "
        f"{data.X.shape[1]} features{n_classes}" + (f" (features: {prep})" if prep else ""))
    say(f"train {len(y_train)} rows ({getattr(est, 'validation_fraction', 0.1):.0%} of them "
        f"held out for validation), test {len(y_test)} rows; BLAS: {_blas_threads()}")
    say("")

    summary = _summary_before_fit(est, X_train, y_train, data.task)
    if summary is not None:
        say("Model summary")
        say(summary)
        say("")

    t_fit = time.perf_counter()
    interrupted = _fit(model, X_train, y_train)
    fit_seconds = time.perf_counter() - t_fit
    if interrupted:
        say(f"Interrupted (Ctrl-C) after epoch {getattr(est, 'n_iter_', '?')}: reporting on the "
            "model trained so far (Ctrl-C again to quit at once)")
    say("")
    if summary is None:
        say("Model summary")
        say(est.summary(print_fn=None))
        say("")

    score = model.score(X_test, y_test)
    metric = "R^2" if data.task == "regression" else "accuracy"
    n_epochs = getattr(est, "n_iter_", None)
    print(f"Test {metric}: {score:.4f} ({len(y_test)} samples)", file=out)
    print(f"Total time: {time.perf_counter() - t_start:.2f} s (training {fit_seconds:.2f} s"
          + (f", {n_epochs} epoch{'s' * (n_epochs != 1)})" if n_epochs is not None else ")"),
          file=out)
    if args.save:
        try:
            import joblib
            joblib.dump(model, args.save)
        except OSError as exc:
            raise UsageError(
                f"cannot save the model to {args.save}: {exc.strerror or exc}") from None
        print(f"Saved the fitted {type(model).__name__} to {args.save}", file=out)
    if interrupted:
        raise Interrupted(model)
    return model


class Interrupted(Exception):
    """Training was stopped by Ctrl-C after a usable model was committed and
    reported; the job exits with code 130."""

    def __init__(self, model):
        super().__init__("interrupted")
        self.model = model


def _fit(model, X, y):
    """Fit ``model``; return True when Ctrl-C stopped training with a usable model.

    On Ctrl-C the estimator commits the model of the last completed step,
    warns, and raises KeyboardInterrupt again: the job then reports on that
    model (a second Ctrl-C, or one before anything was committed, ends it).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=r"Training .*the KeyboardInterrupt is raised")
        try:
            model.fit(X, y)
        except KeyboardInterrupt:
            est = model[-1] if hasattr(model, "steps") else model
            if not hasattr(est, "n_iter_") or getattr(est, "stop_reason_", None) != INTERRUPTED:
                raise
            return True
    return False


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    p = _Parser(
        prog="sknets",
        description="Train an sknets estimator on a dataset: model summary, a table of "
                    "epochs (the first 10, then at most 26 more rows: a cadence, new bests "
                    "and the last), test accuracy (R^2 for regression) and total time. Exit "
                    "codes: 0 done, 1 training failed, 2 bad option or dataset, 130 Ctrl-C "
                    "(the first Ctrl-C stops training and still reports).")
    p.add_argument("--model", choices=list(MODELS), default="mlp",
                   help="estimator: MLPClassifierScratch (MLPRegressorScratch for "
                        "continuous targets), PerceptronClassifier or ConvNetClassifier "
                        "(default: %(default)s)")
    p.add_argument("--dataset", default="digits",
                   help="digits, iris, wine, breast_cancer, diabetes (regression), xor, "
                        "mnist (70,000 digits from OpenML, cached in scikit-learn's data "
                        "home), or a path to a .csv or .npz file, e.g. "
                        "path/to/mnist10k.npz (default: %(default)s)")
    p.add_argument("--label-column", default=None,
                   help="CSV: name or index of the label column (default: the last); "
                        "NPZ: key of the labels (default: y; features under X)")
    p.add_argument("--task", choices=["classification", "regression"], default=None,
                   help="default: regression for diabetes and for targets with "
                        "non-integer values, else classification")
    p.add_argument("--epochs", type=int, default=None,
                   help="number of epochs, the estimator's max_iter (default: the "
                        "estimator's); MLP and ConvNet keep the weights of the epoch with "
                        "the best validation score, the perceptron those of the last epoch "
                        "(as scikit-learn's Perceptron)")
    p.add_argument("--patience", type=int, default=None,
                   help="stop after this many epochs without validation improvement "
                        "(n_iter_no_change; default: run all epochs)")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy", "auto"], default=None,
                   help="array backend (default: sknets.get_config()['backend'])")
    p.add_argument("--hidden-layer-sizes", type=_parse_hidden, default=None, metavar="N,N,...",
                   help="hidden layer sizes for --model mlp, e.g. 256,128 (default: 100)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="dtype of the features, and so of the computation (the estimators "
                        "follow their input's dtype; default: %(default)s, the faster)")
    p.add_argument("--scale", choices=["auto", "standard", "none"], default="auto",
                   help="feature scaling: auto = a StandardScaler in a Pipeline unless the "
                        "data is digits (X/16), uint8 (X/255) or xor (default: %(default)s)")
    p.add_argument("--random-state", type=int, default=0,
                   help="seed of the split, the weights and the shuffling (default: 0)")
    p.add_argument("--test-size", type=float, default=0.25,
                   help="share of the samples held out for testing (default: 0.25)")
    p.add_argument("--save", metavar="PATH", default=None,
                   help="save the fitted model (estimator, or Pipeline with its scaler) "
                        "with joblib; load it with joblib.load(PATH)")
    p.add_argument("--quiet", action="store_true",
                   help="print only the test score and the total time")
    return p


def main(argv=None):
    """Run the main job with command-line arguments ``argv``; return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else 2
    for name in ("epochs", "patience"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return _fail(f"--{name} must be >= 1, got {value}", 2)
    if not 0.0 < args.test_size < 1.0:
        return _fail(f"--test-size must be between 0 and 1, got {args.test_size}", 2)
    if args.save and not os.path.isdir(os.path.dirname(os.path.abspath(args.save))):
        return _fail(f"--save: no such directory for {args.save}", 2)
    if args.save and os.path.isdir(args.save):
        return _fail(f"--save: {args.save} is a directory; give a file name", 2)
    if args.backend is not None:
        problem = _backend_problem(args.backend)
        if problem:
            return _fail(f"--backend {args.backend}: {problem}", 2)
    try:
        run(args)
    except Interrupted:
        return 130
    except UsageError as exc:
        return _fail(str(exc), 2)
    except (ImportError, RuntimeError, ValueError, TypeError, ArithmeticError) as exc:
        # e.g. backend="cupy" without a GPU, or training that diverged.
        return _fail(f"{type(exc).__name__}: {exc}".splitlines()[0], 1)
    except KeyboardInterrupt:   # a second Ctrl-C, or one outside training
        return _fail("interrupted", 130)
    except BrokenPipeError:   # the reader went away, e.g. `sknets | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # no second error when Python flushes
        return 0
    return 0


def _backend_problem(name):
    """Why the backend ``name`` cannot be used here (one line), or None."""
    from .backend import get_backend

    try:
        get_backend(name)
    except (ImportError, RuntimeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def _fail(message, code):
    print(f"sknets: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
