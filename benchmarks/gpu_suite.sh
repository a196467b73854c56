#!/usr/bin/env bash
# Every GPU figure in README in one run (~9 minutes on one H200): WaveGAN at the paper setting on FSDD for a fixed
# wall-clock budget (scored with the offline classifier metrics), then throughput.py for every model (plain eager
# fp32 vs multigan with each switch, FLOPs and MFU), step_profile.py for DCGAN (launches, syncs, host and device
# time per step of both loops) and translation_throughput.py with bf16 + channels_last.
#
#   OUT=gpu_out MULTIGAN_DATA=/data bash benchmarks/gpu_suite.sh      # from the repository root; python3 has torch
#
# Each part has a time limit, and the whole run a deadline (SUITE_SECONDS, default 540), so one slow part cannot
# take the others' time. Everything printed goes to $OUT/gpu_suite.log; the WaveGAN run folder (logs, metrics,
# eval.json, spectrogram previews; no checkpoints) to $OUT/wavegan_paper.tgz. ONLY="dcgan gumbel" runs a subset.
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
LOG="$OUT/gpu_suite.log"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export MULTIGAN_CACHE=${MULTIGAN_CACHE:-/tmp/multigan-cache}
PEAK=${PEAK_TFLOPS:-989}  # dense bf16 TFLOP/s of an H100/H200 SXM (datasheet): the MFU denominator
DEADLINE=$(( $(date +%s) + ${SUITE_SECONDS:-540} ))
WAVEGAN_SECONDS=${WAVEGAN_SECONDS:-180}
RUN=/tmp/runs/wavegan_paper

part() {  # part NAME LIMIT_S COMMAND...: run with min(limit, time to the deadline), output to the log
  local name=$1 limit=$2 left=$(( DEADLINE - $(date +%s) ))
  shift 2
  [[ -n "${ONLY:-}" && " $ONLY " != *" $name "* ]] && return  # ONLY="dcgan seqgan": a subset, e.g. a rerun
  (( left < limit )) && limit=$left
  if (( limit < 10 )); then echo "=== $name skipped: the suite's deadline is reached" | tee -a "$LOG"; return; fi
  echo "=== $name (limit ${limit} s, $(date +%T))" | tee -a "$LOG"
  timeout --signal=INT --kill-after=15 "$limit" "$@" 2>&1 | tee -a "$LOG"
  echo "=== $name: exit ${PIPESTATUS[0]} ($(date +%T))" | tee -a "$LOG"
}

{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())"
} 2>&1 | tee -a "$LOG"

# WaveGAN, the paper's setting (16 kHz, 16,384 samples, d = 64, batch 64, 5 critic updates) with bf16 autocast, for a
# fixed wall-clock budget; stopped with SIGINT, then its latest checkpoint is scored (1,000 clips vs FSDD test).
part wavegan_paper_train "$WAVEGAN_SECONDS" python3 -m multigan train wavegan_digits --out "$RUN" --quiet --set \
  data.sample_rate=16000 data.length=16384 model.model_dim=64 train.batch_size=64 train.steps=100000 \
  train.amp=bf16 train.log_every=50 train.checkpoint_every=250 train.sample_every=500 eval.every=500
part wavegan_paper_eval 90 python3 -m multigan eval "$RUN"
part wavegan_paper_sample 30 python3 -m multigan sample "$RUN" --n 16 --out "$RUN/final.png" --grid
[[ -d "$RUN" ]] && tar czf "$OUT/wavegan_paper.tgz" -C "$(dirname "$RUN")" --exclude checkpoints --exclude tb "$(basename "$RUN")" 2>&1 | tee -a "$LOG"

cd benchmarks
part dcgan 130 python3 throughput.py --model dcgan --device cuda --resolution 64 --channels 3 --batch-size 256 \
  --steps 20 --blocks 3 --warmup 5 --peak-tflops "$PEAK"
# the CPU recipe's DCGAN (28 px, batch 64): launch-bound on a GPU, where CUDA graphs (compile_mode reduce-overhead)
# should pay most; the "all" loop also checks compile + channels_last together
part dcgan_small 150 python3 throughput.py --model dcgan --device cuda --steps 20 --blocks 3 --warmup 5 \
  --peak-tflops "$PEAK"
# why multigan's DCGAN step trailed the plain loop on the H200 (x0.84 at stop 18): launches, syncs, host vs device
part dcgan_profile 60 python3 step_profile.py --model dcgan --device cuda --resolution 64 --channels 3 \
  --batch-size 256 --steps 5 --warmup 5
part pix2pix 45 python3 throughput.py --model pix2pix --device cuda --batch-size 16 --steps 10 --blocks 3 \
  --warmup 3 --skip-compile --peak-tflops "$PEAK"
part cyclegan 50 python3 throughput.py --model cyclegan --device cuda --resolution 256 --batch-size 4 --steps 10 \
  --blocks 3 --warmup 3 --skip-compile --peak-tflops "$PEAK"
part wavegan 45 python3 throughput.py --model wavegan --device cuda --model-dim 64 --length 16384 --batch-size 64 \
  --steps 5 --blocks 3 --warmup 2 --skip-compile --peak-tflops "$PEAK"
part translation 45 python3 translation_throughput.py --device cuda --amp bf16 --channels-last --batch-size 8 \
  --steps 10 --blocks 3
part gumbel 35 python3 throughput.py --model gumbel --device cuda --steps 5 --blocks 3 --warmup 2 --skip-compile \
  --peak-tflops "$PEAK"
part seqgan 45 python3 throughput.py --model seqgan --device cuda --steps 2 --blocks 2 --warmup 1 --skip-compile \
  --peak-tflops "$PEAK"
part seqgan_step 45 python3 seqgan_step.py --device cuda --repeats 3   # shared-prefix rewards vs plain, on a GPU
echo "=== done $(date +%T)" | tee -a "$LOG"
