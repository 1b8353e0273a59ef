#!/usr/bin/env bash
# Build the llama-cpp-python wheel that the .deb ships: llama.cpp for any x86-64 CPU, with the
# CPU kernels picked at run time (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS), never -march=native.
#
#   packaging/llama-wheel.sh SDIST OUTDIR BACKEND_DIR [cuda]
#
# SDIST: llama_cpp_python-X.tar.gz; OUTDIR: where the wheel goes; BACKEND_DIR: the folder the
# installed wheel's llama_cpp/lib will be (compiled in as GGML_BACKEND_DIR, so the CPU variants
# are found there and nowhere else). "cuda" adds the CUDA backend (see README: not built in CI).
set -euo pipefail
sdist=$1 out=$2 backend_dir=$3 flavour=${4:-cpu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$sdist" -C "$work"
src=$(echo "$work"/llama_cpp_python-*)
ggml=$src/vendor/llama.cpp/ggml/src

# Only the variants the target machines need, plus a baseline for every other x86-64 CPU:
# x64 (SSE2 only), haswell (AVX2/FMA/F16C/BMI2: the Xeon E5-2690 v3) and alderlake (AVX2 +
# AVX-VNNI: the i7-12700KF). Building all thirteen would compile the CPU backend thirteen times,
# and the sapphirerapids variant is the AMX one that dies with SIGILL on some virtual machines
# (see NO_AMX in the Makefile).
python3 - "$ggml/CMakeLists.txt" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
keep = ("x64", "haswell", "alderlake")
def drop(m):
    return m.group(0) if m.group(2) in keep else m.group(1) + "# dropped: " + m.group(2) + "\n"
text, n = re.subn(r"^(\s*)ggml_add_cpu_backend_variant\((\w+)[^\n]*\n", drop, text, flags=re.M)
assert n > 10, "variant list not found"
open(path, "w").write(text)
PY

# The loader also searches the current directory for libggml-cpu-*.so: codenook runs inside the
# person's projects, so a library lying there would be loaded. With a fixed GGML_BACKEND_DIR the
# current directory is not searched.
python3 - "$ggml/ggml-backend-reg.cpp" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = "        search_paths.push_back(get_executable_path());\n"
assert text.count(old) == 1, "search path code changed"
text = text.replace(old, "#ifndef GGML_BACKEND_DIR\n" + old, 1)
old2 = "            search_paths.push_back(cwd);\n        }\n"
assert text.count(old2) == 1, "cwd search code changed"
text = text.replace(old2, old2 + "#endif\n", 1)
open(path, "w").write(text)
PY

# llama-cpp-python installs only a target named ggml-cpu; the variants are ggml-cpu-<tag>.
python3 - "$src/CMakeLists.txt" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = "    llama_cpp_python_install_target(ggml-cpu)\n"
assert old in text
new = old + "".join(
    f"    llama_cpp_python_install_target(ggml-cpu-{v})\n" for v in ("x64", "haswell", "alderlake")
)
open(path, "w").write(text.replace(old, new, 1))
PY

no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
args="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
args+=" -DGGML_BACKEND_DIR=$backend_dir -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'"
if [ "$flavour" = cuda ]; then
    # sm_89: RTX 4060. sm_61: GTX 1050 Ti, which only CUDA 12.x and older can still compile for.
    archs=${CUDA_ARCHS:-61;89}
    args+=" -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES='$archs'"
fi
mkdir -p "$out"
CMAKE_ARGS="$args" CMAKE_BUILD_PARALLEL_LEVEL=${JOBS:-$(nproc)} \
    python3 -m pip --disable-pip-version-check wheel -q --no-deps -w "$out" "$src"
