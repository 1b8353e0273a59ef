#!/usr/bin/env bash
# Usage: backup.sh DB_FILE BACKUP_DIR
# Copies the stockroom database into BACKUP_DIR with a timestamp and keeps the last 7.
set -euo pipefail

# Copy the database safely with sqlite3's online backup command.
backup_database() {
    local db="$1" dir="$2"
    local stamp
    stamp="$(date +%Y%m%d-%H%M%S)"
    mkdir -p "$dir"
    sqlite3 "$db" ".backup '$dir/stock-$stamp.db'"
}

# Delete all but the newest KEEP backups.
rotate_backups() {
    local dir="$1" keep="${2:-7}"
    find "$dir" -name 'stock-*.db' -printf '%T@ %p\n' | sort -rn | tail -n +"$((keep + 1))" |
        cut -d' ' -f2- | xargs -r rm --
}

backup_database "$1" "$2"
rotate_backups "$2"
