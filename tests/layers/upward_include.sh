# The layers are a rule of the build, not a convention: a target linked to p2p_net
# compiles an include of format/ (below it) and fails to compile one of swarm/ (above
# it) with "No such file" (clang: "file not found") for that header. Usage: upward_include.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$(cmake --build "$build" --target layer_probe_down 2>&1) || { echo "$out" >&2; fail "a net target could not include format/meta.hpp (the control)"; }
if out=$(cmake --build "$build" --target layer_probe_up 2>&1); then
  fail "a net target compiled #include \"swarm/session.hpp\": the layers are not enforced"
fi
# GCC: "swarm/session.hpp: No such file or directory"; clang: "'swarm/session.hpp' file not found".
grep -Eq "swarm/session.hpp: No such file|'swarm/session.hpp' file not found" <<<"$out" \
  || { echo "$out" >&2; fail "the upward include failed, but not for want of the header"; }
echo "ok: net/ may include format/ and may not include swarm/ (No such file)"
