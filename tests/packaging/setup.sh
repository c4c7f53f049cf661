# Sourced by each language's check.sh (check.sh BUILD_DIR MODEL): sets build, model, repo, and
# work, a fresh folder NAME under the build folder.
#   . "$(dirname "$0")/../setup.sh" NAME "$@"
set -euo pipefail
build=$(realpath "$2")
model=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
work=$build/$1
rm -rf "$work"
