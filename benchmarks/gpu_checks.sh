#!/usr/bin/env bash
# Every check that needs a CUDA GPU, in one run, with its logs in one folder:
#
#   1. versions.txt       Python, numpy, SciPy, scikit-learn, CuPy, PyTorch, the GPU;
#   2. test_gpu.log       tests/test_gpu.py (every estimator trains, predicts,
#                         pickles and moves on the GPU; CPU/GPU agreement);
#   3. array_api_cupy.log scikit-learn's array-API checks with CuPy arrays
#                         (check_array_api_input on the "cupy" namespace);
#   4. bench_gpu.txt      benchmarks/bench_gpu.py: sknets-CuPy vs sknets-NumPy
#                         vs PyTorch CUDA, seconds per epoch and their ratios.
#
# Usage (from anywhere):
#
#   bash benchmarks/gpu_checks.sh [MNIST_NPZ] [OUT_DIR]
#
# MNIST_NPZ defaults to $SKNETS_MNIST (else bench_gpu.py uses load_digits);
# OUT_DIR to $OUT, else ./gpu-checks. sknets is imported from this checkout
# (no install needed). On a machine without network access, put the wheels
# of what is missing there (array-api-compat, array-api-strict, a
# scikit-learn >= 1.9; `pip download --no-deps ...` on a machine with it) in
# a folder and name it in $SKNETS_WHEELS: they are installed into a
# temporary folder first. Each step has its own time limit (together under
# 10 minutes); a failing step does not stop the next, and the exit status is
# that of the first failure.
set -uo pipefail
cd "$(dirname "$0")/.."
MNIST=${1:-${SKNETS_MNIST:-}}
OUT_DIR=${2:-${OUT:-gpu-checks}}
PY=${PYTHON:-python3}
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1 SCIPY_ARRAY_API=1
if [ -n "${SKNETS_WHEELS:-}" ]; then
    site=$(mktemp -d)
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target "$site" \
        "$SKNETS_WHEELS"/*.whl || exit 1
    export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
status=0
step() {  # step NAME SECONDS COMMAND...: run, log to OUT_DIR/NAME, keep the first failure
    local name=$1 limit=$2
    shift 2
    echo "== $name"
    timeout "$limit" "$@" 2>&1 | tee "$OUT_DIR/$name"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit status $rc"
    [ "$status" -ne 0 ] || status=$rc
}

step versions.txt 60 "$PY" -c '
import sys
sys.path.insert(0, "benchmarks")
from bench_gpu import _versions
from sknets.backend import gpu_available
print(_versions())
print("sknets gpu_available():", gpu_available())
sys.exit(0 if gpu_available() else "no usable GPU: the checks below will skip")
'
step test_gpu.log 210 "$PY" -m pytest -q -p no:cacheprovider -m gpu -rs tests/test_gpu.py
step array_api_cupy.log 90 "$PY" -m pytest -q -p no:cacheprovider -rs -k cupy \
    tests/test_common.py tests/test_array_api.py
step bench_gpu.txt 230 "$PY" benchmarks/bench_gpu.py ${MNIST:+"$MNIST"}
exit "$status"
