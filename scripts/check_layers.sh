#!/usr/bin/env bash
# The layer order of lib/, checked from the source: every `#include "LAYER/..."` in a
# folder of lib/ names that folder or one below it (the folders its CMake target links).
# The build refuses an upward include too (each target sees only its own and its links'
# include roots: lib/CMakeLists.txt); this names every one at once, without compiling.
# Usage: scripts/check_layers.sh [REPO]; exit 0 if the order holds, 1 (and a line per
# include) if not. Run by ctest as layers.include_order.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
# What each folder may include (itself and the layers its target links, docs/ARCHITECTURE.md).
declare -A allowed=(
  [base]="base"
  [format]="format base"
  [storage]="storage format base"
  [net]="net format base"
  [tracker_client]="tracker_client net format base"
  [swarm]="swarm tracker_client storage net format base"
  [tracker]="tracker storage net format base"
  [web]="web swarm tracker_client storage net format base"
  [app]="app web swarm tracker_client storage net format base"
)
bad=0
checked=0
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  text=${rest#*:}
  rel=${file#"$root"/lib/}
  layer=${rel%%/*}
  target=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' <<<"$text")
  [ -n "$target" ] && [ -n "${allowed[$target]+x}" ] || continue
  checked=$((checked + 1))
  if [ -z "${allowed[$layer]+x}" ]; then
    echo "lib/$rel: folder $layer is not in the layer list of scripts/check_layers.sh"
    bad=1
  elif [[ " ${allowed[$layer]} " != *" $target "* ]]; then
    echo "lib/$rel:$line: $layer may not include $target (${text#*#})"
    bad=1
  fi
done < <(grep -rn --include='*.cpp' --include='*.hpp' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/lib")
[ "$checked" -gt 0 ] || { echo "no layer includes found under $root/lib"; exit 1; }
[ "$bad" -eq 0 ] && echo "layer order holds: $checked includes checked"
exit $bad
