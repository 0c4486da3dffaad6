#!/bin/sh
# test_examples.sh: every commented example in etc/tocsin.conf, uncommented
# at once, passes `tocsind --check-config` (with its env: secrets set and
# its file: secrets present): the examples a sysadmin copies work. Run by
# `make check` (TOCSIND, TOCSIN_PLUGIN_DIR, TOCSIN_SRCDIR, TOCSIN_TMPDIR).
set -eu
: "${TOCSIND:?}" "${TOCSIN_PLUGIN_DIR:?}" "${TOCSIN_SRCDIR:?}" "${TOCSIN_TMPDIR:?}"
mkdir -p "$TOCSIN_TMPDIR"
dir=$(mktemp -d "$TOCSIN_TMPDIR/examples.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# Inside inputs, policies and sinks: "  # { ...", "  # , { ..." and "  #   ..." lines
# are examples; so is the bearer_token line of the prom input.
awk '
/^(inputs|policies|sinks) = \(/ { sec = 1 }
/^\);/ { sec = 0 }
{
    if (sec && ($0 ~ /^  # (, )?\{/ || $0 ~ /^  #   /)) $0 = "  " substr($0, 5)
    if (sec && $0 ~ /^    # bearer_token/) $0 = "    " substr($0, 7)
    print
}' "$TOCSIN_SRCDIR/etc/tocsin.conf" |
    sed -e "s|/var/lib/tocsin|$dir/state|" -e "s|file:/etc/tocsin/|file:$dir/|" >"$dir/tocsin.conf"

# Secrets as their plugins check them: URLs where the name says so, else
# a key of 32 hex digits (PagerDuty's length; long enough for tokens).
key=0123456789abcdef0123456789abcdef
for f in $(grep -o "file:$dir/[A-Za-z0-9_.-]*" "$dir/tocsin.conf" | sed 's/^file://' | sort -u); do
    case "$f" in
    *.url) echo "https://hooks.example.org/services/T0/B0/$key" >"$f" ;;
    *) echo "$key" >"$f" ;;
    esac
done
for v in $(grep -o 'env:[A-Z0-9_]*' "$dir/tocsin.conf" | sed 's/^env://' | sort -u); do
    case "$v" in
    *_URL) export "$v=https://hooks.example.org/$key" ;;
    *) export "$v=$key" ;;
    esac
done

examples=$(grep -c '^  , { id\|^  { id' "$dir/tocsin.conf" || true)
if [ "$examples" -lt 12 ]; then
    echo "only $examples instances after uncommenting: the example syntax changed?" >&2
    exit 1
fi
out=$("$TOCSIND" --check-config -c "$dir/tocsin.conf" --plugin-dir "$TOCSIN_PLUGIN_DIR" 2>&1) || {
    echo "$out" >&2
    exit 1
}
echo "$out"
