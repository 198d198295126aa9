#!/usr/bin/env bash
# A real single-node Slurm cluster (../shared/docs/environment.md, Finding 5) for `sweep submit`:
# munged, slurmctld and slurmd run as root from a temporary folder (their own munge key and
# socket, loopback ports), then
#   1. a 4-task array of a small plan on stories260K, merged by the dependent job, must equal a
#      single-process `sweep run` of the same plan, number for number (timings left out);
#   2. one task is cancelled mid-way (the merge job is then cancelled by Slurm), the sweep is
#      submitted again: only the missing cells are computed (counted), and the merge is again
#      identical;
#   3. every daemon is stopped by its PID and nothing is left running.
# It fails, saying why, when the daemons cannot start: it never passes without having run.
# Usage: slurm_sweep_test.sh KVSTUDIO_CLI MODELS_DIR SOURCE_DIR
set -euo pipefail
cli="$1" models="$2" src="$3"

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "[slurm test $(date +%T)] $*"; }

[ "$(id -u)" = 0 ] || fail "the test starts slurmctld, slurmd and munged as root; run it as root"
for p in munged slurmctld slurmd sbatch squeue scancel sinfo; do
  command -v "$p" >/dev/null || fail "$p is not installed: run .ci/setup.sh (Debian slurm-wlm munge)"
done
[ -f "$models/stories260K.bin" ] || fail "no $models/stories260K.bin: run .ci/setup.sh"
command -v python3 >/dev/null || fail "python3 is needed to compare the merged results"

tmp="$(mktemp -d /tmp/kvs-slurm-XXXXXX)"
chmod 700 "$tmp"
declare -A stopped_pid
declare -A daemon_pid  # name -> PID, read from its pid file once it is up; stopped by PID

stop_all() {
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -n "${daemon_pid[slurmctld]:-}" ]; then
    scancel --quiet --user root 2>/dev/null  # this cluster's jobs only (SLURM_CONF)
    sleep 1
  fi
  for f in slurmd slurmctld munged; do
    local pid="${daemon_pid[$f]:-}"
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "$f ($pid) did not stop; killing it" >&2; kill -9 "$pid"; }
    stopped_pid[$f]="$pid"
    unset "daemon_pid[$f]"
  done
  # Job steps left by a failed run: their command lines name this folder.
  for pid in $(pgrep -f "$tmp" 2>/dev/null); do
    [ "$pid" = "$$" ] || kill -9 "$pid" 2>/dev/null
  done
}
cleanup() {
  local rc=$?
  stop_all
  if [ $rc -ne 0 ]; then
    for log in munged.log slurmctld.log slurmd.log; do
      [ -f "$tmp/$log" ] && { echo "--- tail of $log" >&2; tail -n 15 "$tmp/$log" >&2; }
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit="$1" what="$2"
  shift 2
  for _ in $(seq $((limit * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "$what (waited ${limit} s)"
}

# ------------------------------------------------------------------ daemons
note "starting munged, slurmctld and slurmd in $tmp"
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge.key"
munged --force --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munge.seed" ||
  fail "munged did not start (see munged.log below)"
wait_for 10 "munged wrote no pid file" test -s "$tmp/munged.pid"
daemon_pid[munged]="$(cat "$tmp/munged.pid")"
munge --socket="$tmp/munge.sock" -n | unmunge --socket="$tmp/munge.sock" >/dev/null ||
  fail "munge cannot encode and decode a credential through $tmp/munge.sock"

read -r ctld_port slurmd_port < <(python3 -c '
import socket
s=[socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cpus="$(nproc)"
mkdir -p "$tmp/state" "$tmp/spool"
cat > "$tmp/slurm.conf" <<EOF
ClusterName=kvstest
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge.sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
KillWait=2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
NodeName=localhost CPUs=$cpus RealMemory=2000
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start (see slurmctld.log below)"
wait_for 10 "slurmctld wrote no pid file" test -s "$tmp/slurmctld.pid"
daemon_pid[slurmctld]="$(cat "$tmp/slurmctld.pid")"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start (see slurmd.log below)"
wait_for 10 "slurmd wrote no pid file" test -s "$tmp/slurmd.pid"
daemon_pid[slurmd]="$(cat "$tmp/slurmd.pid")"
wait_for 30 "the node did not come up idle in sinfo" bash -c 'sinfo -h -o %T | grep -q idle'
note "cluster up: $cpus CPUs, ports $ctld_port/$slurmd_port"

# ------------------------------------------------------------------ the plan
plan_dir="$tmp/plan dir"
mkdir -p "$plan_dir"
grep -v '^#' "$src/data/prompts/tinystories_prompts.txt" | grep . | head -n 3 > "$plan_dir/prompts.txt"
python3 "$src/data/longbench/make_story_tasks.py" "$plan_dir/longbench" 4 >/dev/null
cat > "$plan_dir/plan.json" <<EOF
{
  "name": "slurm-test",
  "models": ["$models/stories260K.bin"],
  "tasks": [
    {"kind": "compare", "prompts": "prompts.txt", "new_tokens": 16},
    {"kind": "needle", "lengths": [64, 128], "depths": [0, 1]},
    {"kind": "perplexity", "text": "prompts.txt", "max_tokens": 192, "cache_sizes": [32, 64]},
    {"kind": "longbench", "data": "longbench", "tasks": ["passage_count"], "limit": 2}
  ],
  "settings": [
    {"method": "full"},
    {"method": ["h2o", "kvmerger"], "sweep": ["budget=0.3,0.6"]}
  ]
}
EOF
plan="$plan_dir/plan.json"
cells=32  # compare 3 x 5 + needle 2 x 5 + perplexity 2 + longbench 5

same_results() {  # same_results A B: results.json equal but for timings
  python3 - "$1" "$2" <<'PY'
import json, sys
def strip(j):
    if isinstance(j, dict):
        return {k: strip(v) for k, v in j.items() if not (k.endswith("seconds") or k.endswith("_s"))}
    if isinstance(j, list):
        return [strip(v) for v in j]
    return j
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
if a != b:
    sys.exit("the merged results differ")
if len(a["cells"]) != int(sys.argv[3] if len(sys.argv) > 3 else len(a["cells"])):
    sys.exit("wrong cell count")
print(len(a["cells"]), "cells equal")
PY
}

note "reference: one process, no Slurm"
"$cli" --threads 1 sweep run "$plan" --out "$tmp/single" | tail -n 1
"$cli" sweep merge "$tmp/single" > "$tmp/single.merge"
digest="$(sed -n 's/^results digest (timings left out): //p' "$tmp/single.merge")"
[ "$(ls "$tmp/single/cells" | wc -l)" = "$cells" ] || fail "the plan did not give $cells cells"

submit() {  # submit OUT: sets array_job, merge_job
  "$cli" sweep submit "$plan" --out "$1" --array 4 --time 10:00 > "$tmp/submit.out" ||
    fail "sweep submit failed: $(cat "$tmp/submit.out")"
  array_job="$(sed -n 's/^array job \([0-9]*\) .*/\1/p' "$tmp/submit.out")"
  merge_job="$(sed -n 's/^merge job \([0-9]*\) .*/\1/p' "$tmp/submit.out")"
  [ -n "$array_job" ] && [ -n "$merge_job" ] || fail "no job ids in: $(cat "$tmp/submit.out")"
  note "submitted array $array_job and merge $merge_job"
}
gone() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
merged_digest() {
  local log="$1/logs/merge_$merge_job.log" d
  d="$(sed -n 's/^results digest (timings left out): //p' "$log" 2>/dev/null)"
  [ -n "$d" ] || { echo "the merge job $merge_job printed no digest: $(cat "$log" 2>&1)" >&2; echo none; }
  echo "$d"
}

# ------------------------------------------------------------------ 1. the array and its merge
out="$tmp/out dir"
submit "$out"
wait_for 120 "the merge job $merge_job did not finish" gone "$merge_job"
[ -f "$out/logs/merge_$merge_job.log" ] || fail "the merge job left no log (it did not run)"
[ "$(ls "$out"/logs/task_"$array_job"_*.log | wc -l)" = 4 ] || fail "not 4 task logs"
[ "$(merged_digest "$out")" = "$digest" ] || fail "merged digest $(merged_digest "$out") != $digest"
same_results "$tmp/single/merged/results.json" "$out/merged/results.json" "$cells"
grep -h "^shard" "$out"/logs/task_"$array_job"_*.log

# ------------------------------------------------------------------ 2. a task killed mid-way
out2="$tmp/out two"
export KVS_SWEEP_CELL_PAUSE=0.5  # each task pauses after a cell: a window to kill it in
submit "$out2"
first_of_task1() { grep -l "\"slurm_array_task_id\":\"1\"" "$out2"/cells/*.json; }
wait_for 60 "task 1 finished no cell" first_of_task1
scancel --signal=KILL "${array_job}_1"
note "killed task ${array_job}_1"
wait_for 60 "the first array did not end" gone "$array_job"
wait_for 30 "the merge job was not cancelled after a task failed" gone "$merge_job"
[ ! -f "$out2/logs/merge_$merge_job.log" ] || fail "the merge ran although a task was killed"
unset KVS_SWEEP_CELL_PAUSE
done_before="$(ls "$out2/cells" | grep -c '\.json$')"
missing=$((cells - done_before))
[ "$missing" -gt 0 ] || fail "the kill came too late: no cell was missing"
"$cli" sweep status "$out2"
if "$cli" sweep merge "$out2" > /dev/null 2>&1; then fail "merge accepted missing cells"; fi
note "$missing of $cells cells missing; submitting again"
submit "$out2"
wait_for 120 "the second merge job $merge_job did not finish" gone "$merge_job"
computed="$(grep -l "\"slurm_array_job_id\":\"$array_job\"" "$out2"/cells/*.json | wc -l)"
logged="$(sed -n 's/^shard .*: computed \([0-9]*\),.*/\1/p' "$out2"/logs/task_"$array_job"_*.log |
  awk "{s+=\$1} END {print s+0}")"
[ "$computed" = "$missing" ] || fail "the resubmission computed $computed cells, not the $missing missing"
[ "$logged" = "$missing" ] || fail "the tasks' logs say $logged cells computed, not $missing"
[ "$(merged_digest "$out2")" = "$digest" ] || fail "merged digest after the kill differs"
same_results "$tmp/single/merged/results.json" "$out2/merged/results.json" "$cells"
note "the resubmission computed exactly the $missing missing cells"

# ------------------------------------------------------------------ 3. nothing left running
stop_all
set -e
for f in slurmd slurmctld munged; do
  pid="${stopped_pid[$f]:-}"
  [ -n "$pid" ] || fail "$f was never stopped"
  if kill -0 "$pid" 2>/dev/null; then fail "$f ($pid) is still running"; fi
done
[ -z "$(pgrep -f "$tmp")" ] || fail "processes left running: $(pgrep -af "$tmp")"
note "passed; every daemon stopped"
