#!/usr/bin/env bash
# Every include between seqrec's folders points down the layer order below (the folder order is
# the dependency order): a header may include its own folder and the folders before it, never a
# later one. Usage: check_includes.sh INCLUDE_DIR (the folder that holds seqrec/). Prints each
# upward include as FILE:LINE and exits 1 when there is one.
#   check_includes.sh --self-test INCLUDE_DIR: copies the tree, adds an upward include to
#   seqrec/core/types.hpp (core including runtime), and checks that it is caught.
set -euo pipefail
order=(core data kernels layers losses optim models eval train io serve runtime)

if [[ ${1:-} == --self-test ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$2/seqrec" "$tmp/"
  "$0" "$tmp" >/dev/null || { echo "self-test: the clean tree must pass"; exit 1; }
  printf '#include "seqrec/runtime/registry.hpp"\n' >>"$tmp/seqrec/core/types.hpp"
  if out=$("$0" "$tmp"); then
    echo "self-test: an upward include (core/types.hpp -> runtime) was not caught"; exit 1
  fi
  grep -q "core/types.hpp:.*runtime" <<<"$out" || { echo "self-test: wrong report: $out"; exit 1; }
  echo "self-test: the upward include core/types.hpp -> runtime/registry.hpp is caught"
  exit 0
fi

root=${1:?usage: check_includes.sh INCLUDE_DIR}
rank() {
  local i
  for i in "${!order[@]}"; do [[ ${order[$i]} == "$1" ]] && { echo "$i"; return; }; done
  echo -1
}
bad=0
for dir in "$root"/seqrec/*/; do
  layer=$(basename "$dir")
  me=$(rank "$layer")
  if [[ $me -lt 0 ]]; then echo "seqrec/$layer: a folder missing from the layer order in $0"; bad=1; continue; fi
  while IFS=: read -r file line text; do
    other=$(sed -E 's|.*"seqrec/([a-z_]+)/.*|\1|' <<<"$text")
    them=$(rank "$other")
    if [[ $them -lt 0 || $them -gt $me ]]; then
      echo "${file#"$root"/}:$line: $layer includes $other (${text#\#include })"
      bad=1
    fi
  done < <(grep -Hn '^#include "seqrec/[a-z_]*/' "$dir"*.hpp || true)
done
if [[ $bad -ne 0 ]]; then
  echo "upward includes found; the order is: ${order[*]}"
  exit 1
fi
echo "every include points down: ${order[*]}"
