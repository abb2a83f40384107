#!/bin/sh
# The compose stack's API tokens, made once into the `tokens` volume (mounted at /tokens):
#   prometheus    a global administrator's token: the monitors' and rollouts' metrics routes
#                 serve no one else. Readable by Prometheus' user (nobody, 65534) only.
#   model-server  a token bound to the default workspace, for `gnomon serve --deployment`.
#                 Readable by gnomon's user (10001) only.
# Logs in as admin with GNOMON_ADMIN_PASSWORD (from .env); the session stays in this
# container's /tmp. Delete the volume (docker compose down -v) to make new ones.
set -eu
umask 077
dir=${TOKENS_DIR:-/tokens}

token() {  # NAME FILE OWNER [gnomon tokens create options...]
    name=$1 file=$2 owner=$3
    shift 3
    if [ -s "$file" ]; then
        echo "$file: kept"
        return
    fi
    gnomon tokens create "$name" "$@" | grep -E '^gnm_' > "$file.new"
    chown "$owner:$owner" "$file.new"
    chmod 0400 "$file.new"
    mv "$file.new" "$file"
    echo "$file: made"
}

printf '%s' "$GNOMON_ADMIN_PASSWORD" | gnomon login --username admin --password-stdin
token "prometheus-$(date +%s)" "$dir/prometheus" 65534
token "model-server-$(date +%s)" "$dir/model-server" 10001 --workspace default
