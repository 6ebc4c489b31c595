#!/usr/bin/env bash
# Every GPU check in one go, for a lent CUDA machine whose python3 has torch and transformers (the device tool's
# H200 image): ImageBind's encoders (gpu_imagebind.py), then the imagebind and t5 backends (gpu_backends.py).
# Bindesk's other imports (pydantic-settings, av, soundfile, ftfy ...) travel as wheels in .whl/ (how to fetch
# them: benchmarks/RESULTS.md, section 3). Results land in OUT_DIR.
#
#     bash benchmarks/gpu_check.sh OUT_DIR
set -uo pipefail
out=${1:?usage: gpu_check.sh OUT_DIR}
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
python3 benchmarks/gpu_imagebind.py --out "$out/gpu_imagebind.json" --case-seconds 2 2>&1 | tee "$out/gpu_imagebind.log"
python3 benchmarks/gpu_backends.py --out "$out/gpu_backends.json" 2>&1 | tee "$out/gpu_backends.log"
