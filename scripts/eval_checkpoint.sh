#!/usr/bin/env bash
# Every figure the perception README reports for a checkpoint, in one command: 3D/2D AP on the unseen look-around
# data, 2D AP on the unseen data with object-centric views, and the agent memory's recall / precision (odin and odin-2d
# providers), then one table (scripts/eval_summary.py). Two evaluations run side by side at THREADS threads each.
# The memory evaluations also record their views to OUT/eval/views_LABEL_PROVIDER, for memory settings by replay
# (python -m perception.evaluate_memory --replay DIR --memory FIELD=VALUE; perception/README.md).
#
#   bash scripts/eval_checkpoint.sh WEIGHTS OUT [LABEL]
#
# WEIGHTS: a .safetensors with its .json config beside it; a run's float32 last.safetensors is first exported to
# OUT/LABEL.safetensors in float16 (what would ship), with the run's train_config.json as OUT/LABEL.train.json.
# Environment: DATA_EVAL (default /tmp/odin_data: valid_unseen/test_unseen, --views 24), DATA_EVAL_OBJ (the same
# floorplans with --object-views 12; skipped when absent), THREADS (1), LABEL default: small. Made with:
#   python -m perception.make_dataset --scenes valid_unseen test_unseen --views 24 --out DATA_EVAL
#   python -m perception.make_dataset --scenes valid_unseen test_unseen --views 24 --object-views 12 --out DATA_EVAL_OBJ
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then sed -n 2,15p "$0"; exit 2; fi
WEIGHTS=$1 OUT=$2 LABEL=${3:-small}
DATA_EVAL=${DATA_EVAL:-/tmp/odin_data} THREADS=${THREADS:-1}
[ -f "$WEIGHTS" ] || { echo "eval_checkpoint: WEIGHTS $WEIGHTS: no such file"; exit 2; }
[ -f "$DATA_EVAL/dataset.json" ] || { echo "eval_checkpoint: DATA_EVAL $DATA_EVAL has no dataset.json (make it: see the header)"; exit 2; }
mkdir -p "$OUT"
CKPT=$WEIGHTS
if [ -f "$(dirname "$WEIGHTS")/train_config.json" ]; then   # a run directory: export what would ship
  CKPT=$OUT/$LABEL.safetensors
  python -c "import sys; from pathlib import Path; from perception.gpu_recipe import export_half
export_half(Path(sys.argv[1]), Path(sys.argv[2]))" "$WEIGHTS" "$CKPT"
  cp "$(dirname "$WEIGHTS")/train_config.json" "$OUT/$LABEL.train.json"
fi
EV=$OUT/eval
mkdir -p "$EV"
{
  python -m perception.evaluate --checkpoint "$CKPT" --data "$DATA_EVAL" --threads "$THREADS" --out "$EV" --label "$LABEL" --overwrite
  if [ -n "${DATA_EVAL_OBJ:-}" ] && [ -f "$DATA_EVAL_OBJ/dataset.json" ]; then
    python -m perception.evaluate --checkpoint "$CKPT" --data "$DATA_EVAL_OBJ" --mode 2d --threads "$THREADS" --out "$EV" \
      --label "${LABEL}_object_views" --overwrite
  fi
} > "$EV/ap.log" 2>&1 &
ap=$!
{
  for provider in odin odin-2d; do
    python -m perception.evaluate_memory --provider $provider --checkpoint "$CKPT" --threads "$THREADS" --out "$EV" \
      --label "${LABEL}_$provider" --overwrite --save-views "$EV/views_${LABEL}_$provider"
  done
} > "$EV/memory.log" 2>&1 &
memory=$!
status=0
wait $ap || { echo "eval_checkpoint: AP evaluation failed, see $EV/ap.log"; status=1; }
wait $memory || { echo "eval_checkpoint: memory evaluation failed, see $EV/memory.log"; status=1; }
python scripts/eval_summary.py "$LABEL=$EV"
exit $status
