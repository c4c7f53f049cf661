#!/usr/bin/env bash
# Installs the Python bindings as a user does (pip install bindings/python, into a new venv; the
# wheel carries libember.so from BUILD_DIR) and runs a program outside the repository's folders
# with no EMBER_LIBRARY: the package must find its own library.
#   check.sh BUILD_DIR MODEL
. "$(dirname "$0")/../setup.sh" test-python-package "$@"
python3 -m venv "$work/venv"
# From a copy, as from an unpacked source archive: the build leaves nothing in the repository.
cp -r "$repo/bindings/python" "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info
EMBER_BUILD_DIR=$build "$work/venv/bin/pip" install -q --disable-pip-version-check "$work/src"
wheel_lib=$("$work/venv/bin/python" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("ember").origin))')/libember.so.2
[[ -f $wheel_lib ]] || { echo "python package: libember.so.2 is not inside the installed package" >&2; exit 1; }
mkdir -p "$work/elsewhere"
cp "$here/use_ember.py" "$work/elsewhere/"
cd "$work/elsewhere"
env -u EMBER_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH "$work/venv/bin/python" use_ember.py "$model"
