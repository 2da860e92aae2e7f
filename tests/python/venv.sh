#!/usr/bin/env bash
# Makes (once) the build's Python venv: torch==2.13.0 (CPU), numpy, safetensors, pytest.
# Usage: tests/python/venv.sh VENV_DIR. Idempotent: a venv whose marker matches the requirements
# is reused as it is. pip uses the machine's configured package sources; --retries 0 makes a
# source that cannot be reached fail at once instead of after minutes of retries.
set -euo pipefail
venv=${1:?usage: venv.sh VENV_DIR}
here=$(cd "$(dirname "$0")" && pwd)
req="$here/requirements.txt"
marker="$venv/.ckpt4j-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$marker" ] && cmp -s "$req" "$marker"; then
  exit 0
fi
python=${PYTHON:-python3}
echo "ckpt4j: creating the Python venv $venv (torch==2.13.0 CPU, numpy, safetensors, pytest)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --retries 0 --quiet --disable-pip-version-check -r "$req" \
  2> >(grep -v "is neither a file nor a directory" >&2)
"$venv/bin/python" -c "import torch, numpy, safetensors; assert torch.__version__.startswith('2.13.0'), torch.__version__"
cp "$req" "$marker"
