#!/bin/sh
# Stops the workers cluster/ssh/start.sh started on each host of HOSTS (SIGTERM: they say BYE first).
set -eu
HOSTS=${1:?usage: stop.sh HOSTS}
while read -r host _; do
    [ -z "$host" ] && continue
    case "$host" in \#*) continue;; esac
    ssh -n "$host" 'kill -TERM $(cat ~/.smaller/worker.pid) 2>/dev/null; rm -f ~/.smaller/worker.pid' || true
done < "$HOSTS"
