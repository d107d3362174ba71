#!/bin/sh
# Starts one `smaller worker` per line of HOSTS (`host [threads] [key-name]`) over ssh, detached with nohup,
# connecting to ENDPOINT with CURVE keys copied from KEYDIR (coordinator.pub and the host's worker key).
# With `--install DEB` (a package from `make dist`) it first installs DEB on each host whose `smaller --version`
# is not the package's (copied to ~/.smaller, then `apt-get install ./DEB`, which fetches its Depends; as root
# or through `sudo -n`); hosts that already run that build are left alone, so running it twice installs once.
# Stop them with cluster/ssh/stop.sh HOSTS (or let the coordinator's BYE end them when the grid finishes).
set -eu
usage="usage: start.sh [--install DEB] HOSTS ENDPOINT KEYDIR"
DEB=
if [ "${1:-}" = "--install" ]; then
    DEB=${2:?$usage}
    shift 2
    [ -f "$DEB" ] || { echo "start.sh: no package at $DEB (make dist writes dist/smaller_<version>_amd64.deb)" >&2; exit 64; }
    # The build the package holds, as `smaller --version` prints it (a field .ci/dist writes).
    want=$(dpkg-deb -f "$DEB" Smaller-Version)
    [ -n "$want" ] || { echo "start.sh: $DEB has no Smaller-Version field; is it from make dist?" >&2; exit 64; }
    deb_name=$(basename "$DEB")
fi
HOSTS=${1:?$usage}
ENDPOINT=${2:?$usage}
KEYDIR=${3:?$usage}

# Installs DEB on $1 unless it already runs that build.
install_on() {
    have=$(ssh -n "$1" "smaller --version 2>/dev/null" || true)
    if [ "$have" = "$want" ]; then
        echo "$1: smaller $want is installed already"
        return 0
    fi
    ssh -n "$1" "mkdir -p ~/.smaller"
    scp -q "$DEB" "$1:.smaller/$deb_name" < /dev/null
    ssh -n "$1" "cd ~/.smaller && if [ \"\$(id -u)\" -eq 0 ]; then s=; else s='sudo -n'; fi && \$s env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends './$deb_name' && rm -f './$deb_name'"
    have=$(ssh -n "$1" "smaller --version 2>/dev/null" || true)
    if [ "$have" != "$want" ]; then
        echo "start.sh: $1 runs '$have' after installing $deb_name, not '$want'" >&2
        exit 1
    fi
    echo "$1: installed smaller $want"
}

n=0
while read -r host threads key; do
    [ -z "$host" ] && continue
    case "$host" in \#*) continue;; esac
    n=$((n + 1))
    threads=${threads:-1}
    key=${key:-worker-$n}
    [ -n "$DEB" ] && install_on "$host"
    # -n and </dev/null: ssh and scp must not read the rest of HOSTS from this loop's stdin.
    ssh -n "$host" "mkdir -p ~/.smaller/keys"
    scp -q "$KEYDIR/coordinator.pub" "$KEYDIR/$key.key" "$host:.smaller/keys/" < /dev/null
    ssh -n "$host" "nohup smaller worker --connect '$ENDPOINT' --keys ~/.smaller/keys --key-name '$key' --threads $threads --dir ~/.smaller/work > ~/.smaller/worker.log 2>&1 & echo \$! > ~/.smaller/worker.pid"
    echo "started a worker on $host ($threads threads, key $key)"
done < "$HOSTS"
