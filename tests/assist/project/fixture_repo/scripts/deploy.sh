#!/usr/bin/env bash
# Usage: deploy.sh HOST
# Ships the service to HOST with rsync, restarts it, and waits until it answers.
set -euo pipefail

# Poll the health endpoint until it answers, at most 30 times.
check_health() {
    local host="$1"
    for _ in $(seq 1 30); do
        if curl -fsS "http://$host:8420/health" >/dev/null; then
            return 0
        fi
        sleep 1
    done
    return 1
}

function sync_release {
    rsync -az --delete ./stockroom/ "$1:/opt/stockroom/"
    ssh "$1" systemctl restart stockroom
}

sync_release "$1"
check_health "$1"
