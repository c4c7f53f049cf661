#!/usr/bin/env bash
# Proves the README's first command on a fresh machine: makes a minimal Debian root (mmdebstrap,
# from the Debian sources this machine is configured with), puts a clean clone of this repository
# inside, and there, as root with nothing else installed:
#   1. runs `bash scripts/run.sh -p MESSAGE` (install the dependencies, build, one chat message to
#      the fetched or bundled model) with no terminal and no standard input;
#   2. installs the build (`cmake --install`) and builds the consumer programs against the
#      installed tree (tests/consumer/check.sh: find_package and pkg-config, shared and static).
# Needs root. The root is made anew each run; only downloaded .deb files are kept between runs
# (EMBER_FRESH_CACHE, default ~/.cache/ember/fresh-root-debs), as apt itself would keep them.
#   check-fresh-machine.sh [--keep]    --keep leaves the root in build/fresh-root to look into
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
keep=0
[[ ${1:-} == --keep ]] && keep=1
if [[ $(id -u) -ne 0 ]]; then
  echo "check-fresh-machine.sh: needs root (it makes a Debian root with mmdebstrap)" >&2
  exit 2
fi
command -v mmdebstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap; }
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
root=$repo/build/fresh-root
cache=${EMBER_FRESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember/fresh-root-debs}
mkdir -p "$cache" "$repo/build"
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  if ((keep == 0)); then rm -rf "$root"; fi
}
trap cleanup EXIT
rm -rf "$root"

# The machine's own package sources and the apt settings that reach them (a proxy, say), as they
# are: no mirror is named here.
sources=()
[[ -s /etc/apt/sources.list ]] && sources+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [[ -s $f ]] && sources+=("$f")
done
((${#sources[@]})) || { echo "check-fresh-machine.sh: no apt sources configured on this machine" >&2; exit 1; }
apt-config dump | grep '^Acquire::' > "$work/acquire.conf" || true
# Certificate authorities this machine adds to Debian's (a network that inspects TLS), so that pip
# inside the root reaches PyPI the way this machine does (ca-certificates, which install-deps.sh
# installs there, takes them in).
local_cas=/usr/local/share/ca-certificates

git clone -q --no-hardlinks "$repo" "$work/ember"
rm -rf "$work/ember/.git"

message="What is the capital of France?"
cat > "$work/inside.sh" <<INSIDE
set -euo pipefail
export HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
cd /root/ember
echo "=== fresh root: bash scripts/run.sh -p \"$message\""
bash scripts/run.sh -p "$message" -n 48 --temp 0 < /dev/null > /root/chat.out
cat /root/chat.out
# The reply: whatever follows the prompt line, at least a few words of text.
[[ \$(wc -w < /root/chat.out) -ge 4 ]] || { echo "fresh root: ember-chat gave no reply" >&2; exit 1; }
echo "=== fresh root: cmake --install, then the consumer programs against /usr/local"
cmake --install build/release > /dev/null
ldconfig
bash tests/consumer/check.sh /usr/local models/stories260K.gguf /root/consumer
INSIDE

start=$SECONDS
mmdebstrap --variant=minbase --mode=root --format=directory \
  --aptopt="$work/acquire.conf" \
  --skip=download/empty --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
  --setup-hook="sync-in '$cache' /var/cache/apt/archives/" \
  --customize-hook="copy-in '$work/ember' /root" \
  --customize-hook="[ -d '$local_cas' ] && mkdir -p \"\$1$local_cas\" && cp '$local_cas'/*.crt \"\$1$local_cas\"/ 2>/dev/null || true" \
  --customize-hook="copy-in '$work/inside.sh' /root" \
  --customize-hook='chroot "$1" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash /root/inside.sh' \
  --customize-hook="sync-out /var/cache/apt/archives '$cache'" \
  "$suite" "$root" "${sources[@]}"
echo "check-fresh-machine.sh: passed in $((SECONDS - start)) s (a fresh $suite root: run.sh, install, consumers)"
