#!/usr/bin/env bash
# `make deb`: dist/codenook_VERSION_amd64.deb from this clone (see README, "Install as a package").
#
# The package carries wheels, not a virtual environment: its postinst makes
# /opt/codenook/venv with Debian's own python3 and installs the wheels offline
# (pip --no-index), so no interpreter path is baked in at build time and nothing is
# downloaded on the user's machine. Wheels for Debian 12's Python (3.11) are built here with
# /usr/bin/python3; llama-cpp-python is compiled once for any x86-64 CPU
# (packaging/llama-wheel.sh) and cached.
#
# Environment: DEB_VERSION (the Debian version; default pyproject's version + "-1"),
# DEB_CACHE (wheels and builds kept between runs; default build/deb-cache),
# DEB_OUT (default dist), DEB_FLAVOUR=cuda (llama.cpp with CUDA: see README; never in CI),
# LLAMA_VERSION (the llama-cpp-python release compiled; default 0.3.36).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
PY=/usr/bin/python3
pyver=$($PY -c 'import sys; print("%d.%d" % sys.version_info[:2])')
upstream=$($PY -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
version=${DEB_VERSION:-$upstream-1}
cache=${DEB_CACHE:-$top/build/deb-cache}
out=${DEB_OUT:-$top/dist}
flavour=${DEB_FLAVOUR:-cpu}
llama=${LLAMA_VERSION:-0.3.36}
build=$top/build/deb
stage=$build/root
opt=/opt/codenook
site=$opt/venv/lib/python$pyver/site-packages
mkdir -p "$cache" "$out"
say() { echo "== deb: $*"; }

# -- a Python of the target's minor version, for building wheels -------------------------
if [ ! -x "$cache/venv/bin/pip" ]; then
    say "build environment ($PY $pyver)"
    $PY -m venv "$cache/venv"
fi
PIP=("$cache/venv/bin/python" -m pip --disable-pip-version-check)

# -- llama.cpp: compiled once per llama-cpp-python release and flavour ----------------------
llama_dir=$cache/llama-$llama-$flavour
if ! ls "$llama_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    sdist=$cache/sdist/llama_cpp_python-$llama.tar.gz
    [ -f "$sdist" ] || "${PIP[@]}" download -q --no-deps --no-binary :all: \
        "llama-cpp-python==$llama" -d "$cache/sdist"
    say "compiling llama.cpp ($flavour) for any x86-64 CPU; minutes"
    PATH=$cache/venv/bin:$PATH packaging/llama-wheel.sh "$sdist" "$llama_dir.tmp" \
        "$site/llama_cpp/lib" "$flavour"
    rm -rf "$llama_dir" && mv "$llama_dir.tmp" "$llama_dir"
fi

# -- the wheelhouse: codenook (without the torch extra) and everything it needs -------------
wheels=$build/wheels
rm -rf "$build" && mkdir -p "$wheels"
echo "llama-cpp-python==$llama" > "$build/constraints.txt"
say "wheels for Python $pyver"
rm -f "$cache/wheelhouse"/codenook-*.whl
"${PIP[@]}" wheel -q -w "$cache/wheelhouse" --find-links "$llama_dir" \
    --find-links "$cache/wheelhouse" -c "$build/constraints.txt" "$top"
# Only what this codenook needs (the cache may hold older versions too), resolved offline.
"${PIP[@]}" download -q --no-index --find-links "$cache/wheelhouse" --find-links "$llama_dir" \
    -c "$build/constraints.txt" -d "$wheels" "codenook==$upstream"
if compgen -G "$wheels/torch-*" >/dev/null; then
    echo "PyTorch is in the core package's wheels; it belongs to the torch extra" >&2
    exit 1
fi

# -- check that the wheels install offline, and use that install for the manual ------------
say "offline install check"
check=$build/check-venv
$PY -m venv "$check"
"$check/bin/python" -m pip --disable-pip-version-check install -q --no-index \
    --find-links "$wheels" codenook

# -- the file tree ----------------------------------------------------------------------
say "file tree"
mkdir -p "$stage$opt/wheels" "$stage/usr/bin" "$stage/usr/share/applications" \
    "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/man/man1" \
    "$stage/usr/share/doc/codenook" "$stage/usr/share/lintian/overrides" "$stage/DEBIAN"
cp "$wheels"/*.whl "$stage$opt/wheels/"
# llama.cpp's converters, as `make convert-tools` fetches them (codenook models import).
conv=$stage$opt/share/llama.cpp-convert
mkdir -p "$conv"
sdist=$cache/sdist/llama_cpp_python-$llama.tar.gz
[ -f "$sdist" ] || "${PIP[@]}" download -q --no-deps --no-binary :all: \
    "llama-cpp-python==$llama" -d "$cache/sdist"
src=llama_cpp_python-$llama/vendor/llama.cpp
tar xzf "$sdist" -C "$conv" --strip-components=3 --no-same-owner \
    --exclude "$src/gguf-py/tests" --exclude "$src/gguf-py/examples" \
    "$src/convert_hf_to_gguf.py" "$src/convert_lora_to_gguf.py" "$src/conversion" "$src/gguf-py"
echo "$llama" > "$conv/VERSION"
find "$conv" -type f -exec chmod 0644 {} +
# Scripts (a #! line) are executable, as lintian expects.
grep -rlZ --include='*.py' -m1 '^#!' "$conv" | xargs -0 -r chmod 0755
install -m 0755 packaging/codenook.sh "$stage/usr/bin/codenook"
install -m 0755 packaging/make-venv.sh "$stage$opt/make-venv"
# The menu entry: the text `codenook install-desktop` writes, for the installed command.
"$check/bin/python" -c 'import sys; from pathlib import Path
from codenook.cli.desktop import desktop_entry
sys.stdout.write(desktop_entry("/usr/bin/codenook", Path("codenook")))' \
    > "$stage/usr/share/applications/codenook.desktop"
desktop-file-validate "$stage/usr/share/applications/codenook.desktop"
install -m 0644 src/codenook/data/codenook.svg "$stage/usr/share/icons/hicolor/scalable/apps/"
# The manual, from the command's own --help and --version.
help2man --no-info --no-discard-stderr --name "a private coding assistant on local models" \
    --section 1 --include packaging/codenook.h2m "$check/bin/codenook" \
    | sed "s|$check/bin/||g" | gzip -9n > "$stage/usr/share/man/man1/codenook.1.gz"
install -m 0644 packaging/debian/copyright "$stage/usr/share/doc/codenook/copyright"
{
    echo "codenook ($version) bookworm; urgency=medium"
    echo
    echo "  * Built from $(git log -1 --format='%h: %s' 2>/dev/null | cut -c1-60 || echo 'a source tree')."
    echo
    echo " -- codenook maintainers <codenook@localhost>  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$stage/usr/share/doc/codenook/changelog.Debian.gz"
# The upstream changelog: the history of this program.
(git log --date=short --format='%ad %h %s' 2>/dev/null || echo "No history in this tree.") \
    | gzip -9n > "$stage/usr/share/doc/codenook/changelog.gz"
install -m 0644 packaging/debian/lintian-overrides "$stage/usr/share/lintian/overrides/codenook"

# -- control files ------------------------------------------------------------------------
next=$($PY -c "import sys; print('3.%d' % (sys.version_info[1] + 1))")
sed -e "s/@VERSION@/$version/" -e "s/@PY@/$pyver/g" -e "s/@NEXTPY@/$next/" \
    -e "s/@SIZE@/$(du -sk --exclude=DEBIAN "$stage" | cut -f1)/" \
    packaging/debian/control > "$stage/DEBIAN/control"
for f in config postinst prerm postrm; do
    install -m 0755 "packaging/debian/$f" "$stage/DEBIAN/$f"
done
install -m 0644 packaging/debian/templates "$stage/DEBIAN/templates"
(cd "$stage" && \
    find usr opt -type f -exec md5sum {} + > DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums"

deb=$out/codenook_${version}_amd64.deb
say "building $deb"
# gzip, quickly: the wheels inside are compressed already (xz saves ~1% here and takes minutes).
dpkg-deb --root-owner-group -Zgzip -z1 --build "$stage" "$deb" >/dev/null
ls -l "$deb"
