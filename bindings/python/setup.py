"""Builds the `ember-llm` wheel with libember.so inside it, so `import ember` needs no environment
variable. The library comes from, in order: EMBER_BUILD_DIR (a CMake build folder of Ember), the
repository's own build/release (what `scripts/run.sh` makes), or a build of the repository made
here with CMake (the library only: no tests, tools or benchmarks). The wheel is tagged for this
platform (py3-none-linux_x86_64, say): it carries native code."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SONAME = "libember.so.2"


def find_or_build_library() -> str:
    candidates = []
    if os.environ.get("EMBER_BUILD_DIR"):
        candidates.append(os.path.join(os.environ["EMBER_BUILD_DIR"], SONAME))
    candidates.append(os.path.join(REPO, "build", "release", SONAME))
    for path in candidates:
        if os.path.exists(path):
            return path
    if not os.path.exists(os.path.join(REPO, "CMakeLists.txt")):
        raise RuntimeError(f"libember not found ({', '.join(candidates)}) and no Ember source tree at {REPO}: "
                           "build Ember and set EMBER_BUILD_DIR to its build folder")
    build = os.path.join(REPO, "build", "python")
    subprocess.check_call(["cmake", "-S", REPO, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                           "-DEMBER_BUILD_TESTS=OFF", "-DEMBER_BUILD_BENCH=OFF"])
    subprocess.check_call(["cmake", "--build", build, "--target", "ember_shared"])
    return os.path.join(build, SONAME)


class BuildWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        target = os.path.join(self.build_lib, "ember", SONAME)
        shutil.copyfile(os.path.realpath(find_or_build_library()), target)  # the file, not the symlink


class PlatformWheel(bdist_wheel):
    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
