#!/usr/bin/env bash
# Proves the README's first command on a fresh machine: makes a minimal Debian root (mmdebstrap,
# from the Debian sources this machine is configured with), puts a clean clone of this repository
# inside, and there, as root with nothing else installed:
#   1. runs `bash scripts/run.sh -p MESSAGE` (install the dependencies, build, one chat message to
#      the fetched or bundled model) with no terminal and no standard input;
#   2. installs the build (`cmake --install`) and builds the consumer programs against the
#      installed tree (tests/consumer/check.sh: find_package and pkg-config, shared and static);
#   3. makes the .deb packages (cpack), installs them with apt (their Depends resolved from
#      Debian) and builds the consumer programs against /usr.
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
if ! bash scripts/run.sh -p "$message" -n 48 --temp 0 < /dev/null > /root/run.out 2> /root/run.err; then
  tail -n 40 /root/run.out /root/run.err
  exit 1
fi
# The chat is what follows the build's last line on standard output.
awk '/^\[[0-9]+\/[0-9]+\] |^-- |^ninja: /{chat=""; next} {chat=chat \$0 "\n"} END{printf "%s", chat}' /root/run.out > /root/chat.out
cat /root/chat.out
tail -n 2 /root/run.err
if grep -q "could not be fetched" /root/run.err; then  # offline: the bundled story model continues
  [[ \$(wc -w < /root/chat.out) -ge 8 ]] || { echo "fresh root: ember-chat gave no text" >&2; exit 1; }
else  # SmolLM2-135M-Instruct knows this one
  grep -q Paris /root/chat.out || { echo "fresh root: ember-chat's answer does not name Paris" >&2; exit 1; }
fi
echo "=== fresh root: cmake --install, then the consumer programs against /usr/local"
cmake --install build/release > /dev/null
ldconfig
bash tests/consumer/check.sh /usr/local models/stories260K.gguf /root/consumer
echo "=== fresh root: the .deb packages (cpack), installed with apt, then the consumer programs against /usr"
apt-get install -y -qq --no-install-recommends file > /dev/null
(cd build/release && cpack -G DEB -B /root/debs > /dev/null)
apt-get install -y -qq --no-install-recommends /root/debs/*.deb > /dev/null
ember-generate -m models/stories260K.gguf -p "Once upon a time" -n 8 --temp 0
bash tests/consumer/check.sh /usr models/stories260K.gguf /root/consumer-deb
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
echo "check-fresh-machine.sh: passed in $((SECONDS - start)) s (a fresh $suite root: run.sh, install, .deb, consumers)"
