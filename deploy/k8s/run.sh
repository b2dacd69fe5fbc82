#!/usr/bin/env bash
# Runs tlsbench from several load pods against TARGET, all starting at one computed time, then
# merges their results into one, and prints its Markdown report.
#
#   deploy/k8s/run.sh TARGET [LEAD_SECONDS]        e.g. deploy/k8s/run.sh my-tls-service:443 180
#
# Needs kubectl with a namespace where the image tlsbench:0.1.0 (this repository's Dockerfile)
# can run, and a storage class that offers ReadWriteMany volumes (pvc.yaml).
# LEAD_SECONDS (default 120) is how far ahead the shared start is: long enough for every pod to
# be scheduled, pull the image and start (a pod that starts later fails: backoffLimit 0).
set -euo pipefail

target="${1:?usage: run.sh TARGET [LEAD_SECONDS]}"
lead="${2:-120}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The start time is computed now, not written in a file: a hard-coded one is in the past by the
# next run. Whole seconds, UTC, ISO 8601, as --start-at takes it.
start_at="$(date -u -d "@$(( $(date +%s) + lead ))" +%Y-%m-%dT%H:%M:%SZ)"
run_id="run-$(date -u +%Y%m%dT%H%M%SZ)"

# Waits until Job $1 has completed (exit 0) or failed (exit 1, with its pods' logs), at most $2 seconds.
wait_job() {
  local job="$1" deadline=$(( $(date +%s) + $2 )) state
  while (( $(date +%s) < deadline )); do
    state="$(kubectl get job "$job" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')"
    case " $state " in
      *" Complete "*) return 0 ;;
      *" Failed "*) echo "run.sh: job $job failed" >&2; kubectl logs "job/$job" --all-containers --prefix >&2 || true; return 1 ;;
    esac
    sleep 5
  done
  echo "run.sh: job $job still running after $2 s" >&2
  return 1
}

kubectl apply -f "$here/pvc.yaml"
# A finished Job cannot be run again: remove the previous run's.
kubectl delete job tlsbench-load tlsbench-merge --ignore-not-found --wait=true
kubectl create configmap tlsbench-run \
  --from-literal=TARGET="$target" --from-literal=START_AT="$start_at" --from-literal=RUN_ID="$run_id" \
  --from-file=run.yaml="$here/run.yaml" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f "$here/load-job.yaml"
echo "run.sh: $run_id: the load pods start at $start_at against $target"

# The merge is a step of its own, started only when every load pod has written its part.
wait_job tlsbench-load 1800
kubectl apply -f "$here/merge-job.yaml"
wait_job tlsbench-merge 600
kubectl logs job/tlsbench-merge
echo "run.sh: merged result: /results/$run_id/merged.json on the volume tlsbench-results"
