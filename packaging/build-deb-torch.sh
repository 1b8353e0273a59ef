#!/usr/bin/env bash
# `make deb-torch`: dist/codenook-torch_VERSION_amd64.deb, the PyTorch part of codenook (the
# torch extra: torch==2.13.0's CPU wheel, transformers, peft, accelerate, the embedding model)
# as wheels in /opt/codenook/torch-wheels; installing it remakes /opt/codenook/venv with them.
# Run after packaging/build-deb.sh (it reuses its build environment and wheels). torch is the
# +cpu build (pip's find-links must offer it, as on the build machines): never a CUDA one.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
PY=/usr/bin/python3
upstream=$($PY -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
version=${DEB_VERSION:-$upstream-1}
cache=${DEB_CACHE:-$top/build/deb-cache}
out=${DEB_OUT:-$top/dist}
core=$top/build/deb/wheels
stage=$top/build/deb-torch/root
[ -d "$core" ] || { echo "run packaging/build-deb.sh first" >&2; exit 1; }
PIP=("$cache/venv/bin/python" -m pip --disable-pip-version-check)
rm -rf "$top/build/deb-torch" && mkdir -p "$stage/opt/codenook/torch-wheels" \
    "$stage/usr/share/doc/codenook-torch" "$stage/DEBIAN"
rm -f "$cache/torch-wheelhouse"/codenook-*.whl
"${PIP[@]}" wheel -q -w "$cache/torch-wheelhouse" --find-links "$core" \
    --find-links "$cache/torch-wheelhouse" -c "$top/build/deb/constraints.txt" "torch==2.13.0+cpu" \
    "${top}[torch]"
"${PIP[@]}" download -q --no-index --find-links "$core" --find-links "$cache/torch-wheelhouse" \
    -c "$top/build/deb/constraints.txt" -d "$top/build/deb-torch/all" "codenook[torch]==$upstream"
# Only what the core package does not already carry.
for w in "$top/build/deb-torch/all"/*.whl; do
    [ -e "$core/$(basename "$w")" ] || cp "$w" "$stage/opt/codenook/torch-wheels/"
done
install -m 0644 packaging/debian/copyright "$stage/usr/share/doc/codenook-torch/copyright"
{
    echo "codenook-torch ($version) bookworm; urgency=medium"
    echo
    echo "  * The PyTorch part of codenook $upstream."
    echo
    echo " -- codenook maintainers <codenook@localhost>  $(date -R)"
} | gzip -9n > "$stage/usr/share/doc/codenook-torch/changelog.Debian.gz"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: codenook-torch
Version: $version
Architecture: amd64
Maintainer: codenook maintainers <codenook@localhost>
Installed-Size: $(du -sk "$stage" | cut -f1)
Depends: codenook (= $version)
Section: devel
Priority: optional
Description: PyTorch part of codenook (transformers runtime, fine-tuning)
 PyTorch (CPU build), transformers, peft and accelerate for codenook: the
 transformers runtime, fine-tuning LoRA adapters on your code, converting
 Hugging Face folders and Meta checkpoints, and semantic project search.
CONTROL
for f in postinst postrm; do
    install -m 0755 "packaging/debian-torch/$f" "$stage/DEBIAN/$f"
done
deb=$out/codenook-torch_${version}_amd64.deb
mkdir -p "$out"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$stage" "$deb" >/dev/null
ls -l "$deb"
