#!/usr/bin/env bash
# Prepare, on this (CPU) machine, what scripts/gpu_odin.sh needs on a lent GPU machine that reaches no network:
#   .whl/  Python 3.12 wheels the GPU image lacks (MuJoCo and its GL binding, pycocotools)
#   .gl/   the GL vendor-neutral loader libraries (EGL for headless MuJoCo on the NVIDIA driver)
#   .gpu/text_cache/  the class-name embeddings (all-MiniLM-L6-v2), so the GPU box needs no text model
# All three are ignored by git (.git/info/exclude) and travel with the device call's `carry`.
# Then, with the device tool:  run(command="bash scripts/gpu_odin.sh", carry=[".whl", ".gl", ".gpu"], timeout_s=600)
set -euo pipefail
cd "$(dirname "$0")/.."
for ignored in /.whl/ /.gl/ /.gpu/; do
  grep -qx "$ignored" .git/info/exclude 2>/dev/null || echo "$ignored" >> .git/info/exclude
done

mkdir -p .whl
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 any; do
  platforms+=(--platform "$p")
done
mujoco_version=$(python -c "import importlib.metadata as m; print(m.version('mujoco'))")
python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
  -d .whl "mujoco==$mujoco_version" "mujoco-core==$mujoco_version" "mujoco-studio==$mujoco_version" pyopengl glfw \
  pycocotools

mkdir -p .gl /tmp/amd64/partial
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${apt_opts[@]}" update -qq
(cd .gl && apt-get "${apt_opts[@]}" download libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 2>/dev/null)

ODIN_TEXT_CACHE="$PWD/.gpu/text_cache" python - <<'EOF'
from perception.dataset.vocabulary import class_vocabulary
from perception.odin.text_head import TextEmbedder, readable_class_name

names = sorted({readable_class_name(n) for n in class_vocabulary()})
TextEmbedder("minilm").embed(names)
print(f"text cache: {len(names)} class names")
EOF
du -sh .whl .gl .gpu
echo "ready: carry .whl .gl .gpu (with the repository: under 64 MiB in all)"
