# scripts/check_layers.sh on this tree (the order must hold) and on a small tree with
# one upward include (it must name that include and exit 1). Usage: check_layers_test.sh REPO
set -euo pipefail
repo=${1:?usage: $0 REPO}
fail() { echo "FAIL: $*" >&2; exit 1; }
bash "$repo/scripts/check_layers.sh" "$repo" || fail "the layer order does not hold in $repo/lib (lines above)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/lib/net" "$T/lib/swarm"
printf '#include "format/meta.hpp"\n#include "net/http_types.hpp"\n' >"$T/lib/net/ok.cpp"
printf '#include "base/error.hpp"\n#include "swarm/session.hpp"\n' >"$T/lib/net/bad.cpp"
printf '#include "net/http_types.hpp"\n' >"$T/lib/swarm/fine.cpp"
if out=$(bash "$repo/scripts/check_layers.sh" "$T"); then fail "an upward include (net -> swarm) passed the check"; fi
grep -q 'lib/net/bad.cpp:2: net may not include swarm' <<<"$out" || { echo "$out" >&2; fail "the upward include was not named"; }
[ "$(wc -l <<<"$out")" -eq 1 ] || { echo "$out" >&2; fail "allowed includes were reported too"; }
echo "ok: layer order holds; an upward include is named (${out%% (*})"
