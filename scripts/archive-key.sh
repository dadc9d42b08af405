#!/bin/sh
# archive-key.sh FILE: makes the key file of the resident archive
# (docs/archive.md, "Keys"): an index key and sealing key 1, 32 random
# bytes each from openssl, mode 600. Does nothing when FILE exists (a new
# key file would leave every sealed value unreadable).
#
#   scripts/archive-key.sh var/archive.key
#   scripts/archive-key.sh --rotate FILE   # appends the next sealing key
set -eu
rotate=false
if [ "${1:-}" = "--rotate" ]; then
    rotate=true
    shift
fi
file=${1:?usage: archive-key.sh [--rotate] FILE}
umask 077
if $rotate; then
    [ -f "$file" ] || { echo "archive-key: $file does not exist" >&2; exit 1; }
    last=$(awk '$1 ~ /^[0-9]+$/ { if ($1 > m) m = $1 } END { print m + 0 }' "$file")
    next=$((last + 1))
    [ "$next" -le 255 ] || { echo "archive-key: $file has key 255 already" >&2; exit 1; }
    echo "$next $(openssl rand -hex 32)" >>"$file"
    echo "archive-key: $file: sealing key $next added; restart whistled to seal with it" >&2
    exit 0
fi
if [ -e "$file" ]; then
    exit 0
fi
mkdir -p "$(dirname "$file")"
{
    echo "# whistled archive keys (docs/archive.md). Keep a copy apart from the store's backups."
    echo "index $(openssl rand -hex 32)"
    echo "1 $(openssl rand -hex 32)"
} >"$file"
chmod 600 "$file"
