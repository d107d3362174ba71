#!/bin/sh
# Starts one `smaller worker` per line of HOSTS (`host [threads] [key-name]`) over ssh, detached with nohup,
# connecting to ENDPOINT with CURVE keys copied from KEYDIR (coordinator.pub and the host's worker key).
# Stop them with cluster/ssh/stop.sh HOSTS (or let the coordinator's BYE end them when the grid finishes).
set -eu
HOSTS=${1:?usage: start.sh HOSTS ENDPOINT KEYDIR}
ENDPOINT=${2:?usage: start.sh HOSTS ENDPOINT KEYDIR}
KEYDIR=${3:?usage: start.sh HOSTS ENDPOINT KEYDIR}
n=0
while read -r host threads key; do
    [ -z "$host" ] && continue
    case "$host" in \#*) continue;; esac
    n=$((n + 1))
    threads=${threads:-1}
    key=${key:-worker-$n}
    # -n and </dev/null: ssh and scp must not read the rest of HOSTS from this loop's stdin.
    ssh -n "$host" "mkdir -p ~/.smaller/keys"
    scp -q "$KEYDIR/coordinator.pub" "$KEYDIR/$key.key" "$host:.smaller/keys/" < /dev/null
    ssh -n "$host" "nohup smaller worker --connect '$ENDPOINT' --keys ~/.smaller/keys --key-name '$key' --threads $threads --dir ~/.smaller/work > ~/.smaller/worker.log 2>&1 & echo \$! > ~/.smaller/worker.pid"
    echo "started a worker on $host ($threads threads, key $key)"
done < "$HOSTS"
