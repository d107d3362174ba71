#!/bin/sh
# Stops the workers started by cluster/local/workers.sh (SIGTERM: each says BYE and its task is requeued).
set -eu
[ -f cluster-local.pids ] || { echo "no cluster-local.pids here"; exit 1; }
while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done < cluster-local.pids
rm -f cluster-local.pids
