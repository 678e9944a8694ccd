#!/usr/bin/env bash
# Runs ON a lent GPU machine, in one device call (at most 10 minutes): dataset on all cores, ODIN training on the GPU,
# evaluation, an fp16 checkpoint and logs in $OUT/gpu_odin.tar (perception/gpu_recipe.py says what each stage does).
#
# Here, first:  bash scripts/gpu_prepare.sh
# Then, with the device tool:
#   run(command="bash scripts/gpu_odin.sh", carry=[".whl", ".gl", ".gpu"], timeout_s=600)
# Back here:    tar -xf <files_at>/gpu_odin.tar -C runs/gpu_odin   (weights, config, hash, recipe, losses, evaluation)
# Knobs (environment): GPU_MINUTES (9.4 less the setup), GPU_RESOLUTION (256), GPU_VARIANTS (2), GPU_INIT (a checkpoint to fine-tune;
# default: the shipped one), GPU_EXTRA (more perception.gpu_recipe arguments).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu_recipe.log") 2>&1

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "gpu_odin: installing the carried wheels failed (run scripts/gpu_prepare.sh here and carry .whl)"; exit 3; }
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1 MUJOCO_GL=egl ODIN_TEXT_CACHE="$PWD/.gpu/text_cache"
vendor=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$vendor" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$vendor"
nvidia-smi -L || true
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -c "import mujoco; from envs import make_env; e = make_env(width=64, height=64); e.reset(scene='FloorPlan1'); print('render ok', e.last_event.frame.shape)" \
  || { echo "gpu_odin: headless MuJoCo rendering does not start (see the device README on EGL)"; exit 4; }

INIT=${GPU_INIT:-perception/checkpoints/small.safetensors}
# the recipe's budget is what is left of 9.4 minutes after the setup above (the call may last 10)
minutes=${GPU_MINUTES:-$(python3 -c "print(round(9.4 - $SECONDS / 60, 2))")}
python3 -m perception.gpu_recipe --out "$OUT" --minutes "$minutes" --resolution "${GPU_RESOLUTION:-256}" \
  --variants "${GPU_VARIANTS:-2}" --init "$INIT" ${GPU_EXTRA:-}
