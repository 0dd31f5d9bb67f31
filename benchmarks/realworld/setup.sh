#!/bin/sh
# Recreates the torch environment the real-world corpus is labelled in (outside the repository).
#   sh benchmarks/realworld/setup.sh [VENV]        (default: /work/rwenv)
# torch is pinned first (a constraints file keeps every later install from replacing it with
# another build); then the ten packages and their pure-Python dependencies, all pinned.
set -eu
VENV=${1:-/work/rwenv}
HERE=$(cd "$(dirname "$0")" && pwd)
python3 -m venv "$VENV"
"$VENV/bin/pip" install torch==2.14.1 torchvision==0.29.1
printf 'torch==2.14.1\ntorchvision==0.29.1\n' > "$VENV/constraints.txt"
"$VENV/bin/pip" install -c "$VENV/constraints.txt" -r "$HERE/requirements.txt"
"$VENV/bin/python" -c "import torch; assert torch.__version__.startswith('2.14.1'), torch.__version__"
