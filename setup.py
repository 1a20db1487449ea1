"""Builds the compiled core (twin/_core/*.pyx); everything declarative lives in pyproject.toml.

OpenMP is used when the compiler accepts it (set TWIN_NO_OPENMP=1 to build without); the serial
build is correct, only slower. A C compiler is required: there is no pure-Python fallback.
"""
import os
import sys
import tempfile
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DIRECTIVES = {"language_level": 3, "boundscheck": False, "wraparound": False, "cdivision": True}
COMPILE_ARGS = ["-O3"] if sys.platform != "win32" else ["/O2"]


def _compiler_has_openmp(compiler) -> bool:
    """Compile and link a tiny OpenMP program; False if anything fails."""
    flag = "/openmp" if compiler.compiler_type == "msvc" else "-fopenmp"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "omp_test.c")
        src.write_text("#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
        try:
            objects = compiler.compile([str(src)], output_dir=tmp, extra_postargs=[flag])
            compiler.link_executable(objects, str(Path(tmp, "omp_test")), extra_postargs=[flag])
        except Exception:
            return False
    return True


class BuildExt(build_ext):
    def build_extensions(self):
        use_openmp = os.environ.get("TWIN_NO_OPENMP", "") in ("", "0") and _compiler_has_openmp(self.compiler)
        flag = "/openmp" if self.compiler.compiler_type == "msvc" else "-fopenmp"
        for ext in self.extensions:
            ext.extra_compile_args = COMPILE_ARGS + ([flag] if use_openmp else [])
            ext.extra_link_args = [flag] if use_openmp and self.compiler.compiler_type != "msvc" else []
        print(f"twin: building the core {'with' if use_openmp else 'without'} OpenMP")
        super().build_extensions()


extensions = [
    Extension(f"twin._core.{name}", [f"twin/_core/{name}.pyx"])
    for name in ("props", "pot", "precip")
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES),
    cmdclass={"build_ext": BuildExt},
)
