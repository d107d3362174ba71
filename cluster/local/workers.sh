#!/bin/sh
# Starts N `smaller worker` processes on this machine connecting to ENDPOINT, in the background.
# Their pids go to cluster-local.pids; stop them with cluster/local/stop.sh (or let the coordinator's BYE end them).
set -eu
N=${1:?usage: workers.sh N ENDPOINT [WORKDIR]}
ENDPOINT=${2:?usage: workers.sh N ENDPOINT [WORKDIR]}
WORKDIR=${3:-workers}
: > cluster-local.pids
i=0
while [ "$i" -lt "$N" ]; do
    mkdir -p "$WORKDIR/$i"
    smaller worker --connect "$ENDPOINT" --dir "$WORKDIR/$i" --threads 1 > "$WORKDIR/$i/worker.log" 2>&1 &
    echo $! >> cluster-local.pids
    i=$((i + 1))
done
echo "started $N workers; pids in cluster-local.pids"
