#!/usr/bin/env bash
# `make test-deb`: build the package and try it in a fresh Debian 12 root made with debootstrap
# inside this test's own folder (build/test-deb; TEST_DEB_DIR moves it). Nothing is installed
# into this machine's own system. Checks: lintian; dpkg -i + apt-get -f install; codenook
# --version; codenook ask answered by the embedded model; desktop-file-validate on the
# installed entry; man codenook renders; llama.cpp's first matrix product under qemu's Haswell
# CPU (no AVX-512, no AVX-VNNI) and an objdump scan of the baseline libraries; an upgrade from
# version N to N+1 keeps the account and the conversation; remove keeps people's data and the
# shared models; purge leaves no file of the package (file lists compared).
# Cached between runs under the test folder: the debootstrap root (a tarball), apt's archives.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
T=${TEST_DEB_DIR:-$top/build/test-deb}
cache=$T/cache
root=$T/root
mirror=${DEB_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)
say() { echo "== test-deb ($(($(date +%s) - started))s): $*"; }
fail() { echo "test-deb FAILED: $*" >&2; exit 1; }
mkdir -p "$cache/apt-archives/partial"

unmount_all() {
    # Deepest first; never follow into a mount point when deleting.
    local m
    awk -v r="$root" '$2 ~ "^"r"/" {print $2}' /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" || true
    done
}
cleanup() {
    unmount_all
    [ -n "${KEEP_ROOT:-}" ] || rm -rf --one-file-system "$root"
}
trap cleanup EXIT INT TERM

# -- two packages from this tree: version N, and N+1 by a version override ---------------
upstream=$(/usr/bin/python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
v1=$upstream-1 v2=$upstream-2
deb1=$T/debs/codenook_${v1}_amd64.deb
deb2=$T/debs/codenook_${v2}_amd64.deb
# TEST_DEB_REUSE=1: use the packages the last run built (for working on this script).
if [ -z "${TEST_DEB_REUSE:-}" ] || [ ! -f "$deb1" ] || [ ! -f "$deb2" ]; then
    say "building codenook $v1"
    DEB_OUT=$T/debs DEB_VERSION=$v1 packaging/build-deb.sh
    say "building codenook $v2 (the same tree, another version)"
    DEB_OUT=$T/debs DEB_VERSION=$v2 packaging/build-deb.sh
fi
say "package size: $(du -h "$deb1" | cut -f1) ($(stat -c %s "$deb1") bytes)"

# -- the baseline llama.cpp libraries: no AVX-512 and no AVX-VNNI instruction --------------
scan=$T/scan
rm -rf "$scan" && mkdir -p "$scan"
whl=$(dpkg-deb --fsys-tarfile "$deb1" | tar -t | grep 'wheels/llama_cpp_python-.*\.whl$')
dpkg-deb --fsys-tarfile "$deb1" | tar -x -C "$scan" "$whl"
(cd "$scan" && /usr/bin/python3 -m zipfile -e "$whl" unpacked)
for lib in "$scan"/unpacked/llama_cpp/lib/*.so; do
    name=$(basename "$lib")
    case "$name" in
        libggml-cpu-alderlake.so) continue ;;  # AVX-VNNI on purpose; chosen only where present
    esac
    # zmm registers: AVX-512. vpdpbusd/vpdpwssd without EVEX: AVX-VNNI (with EVEX: AVX-512).
    n=$(objdump -d --no-show-raw-insn "$lib" | grep -cE '%zmm|%k[0-7]\b|vpdpbusds?|vpdpwssds?' || true)
    echo "   $name: $n AVX-512/AVX-VNNI instructions"
    [ "$n" = 0 ] || fail "$name uses AVX-512 or AVX-VNNI"
done

# -- a Debian 12 root ---------------------------------------------------------------------
base=$cache/bookworm-minbase.tar
if [ ! -f "$base" ]; then
    say "debootstrap (once; kept in $base)"
    rm -rf --one-file-system "$T/base"
    debootstrap --variant=minbase --cache-dir="$cache/apt-archives" bookworm "$T/base" "$mirror"
    tar -C "$T/base" -cf "$base.tmp" . && mv "$base.tmp" "$base"
    rm -rf --one-file-system "$T/base"
fi
unmount_all
rm -rf --one-file-system "$root" && mkdir -p "$root"
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
# HOME is the test person's folder, which the file lists leave out: what codenook writes
# for a person (caches included) is theirs, not the package's.
mkdir -p "$root/home/tester"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/home/tester \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
cp "$deb1" "$deb2" "$root/tmp/"
cp packaging/llama-check.py "$root/tmp/"
cp "$(command -v qemu-x86_64-static)" "$root/usr/bin/"

say "apt-get update; the tools the checks use"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends man-db desktop-file-utils >/dev/null

# What the package depends on, installed first, so that the file lists before and after
# differ only by what codenook itself did.
mapfile -t deps < <(dpkg-deb -f "$deb1" Pre-Depends Depends | sed 's/^[A-Za-z-]*: //' \
    | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | sort -u)
say "dependencies: ${deps[*]}"
in_root apt-get install -y -qq --no-install-recommends "${deps[@]}" >/dev/null
files() {
    in_root find / -xdev \( -path /proc -o -path /tmp -o -path /var/cache/apt -o -path \
        /var/lib/apt/lists -o -path /var/lib/dpkg -o -path /var/cache/debconf -o -path /var/log \
        -o -path /var/cache/man -o -path /home/tester -o -path /var/cache/ldconfig \
        -o -path '/etc/*shadow-' -o -path /etc/group- -o -path /etc/passwd- -o -path /run \) \
        -prune \
        -o -print | sort
}
files > "$T/files-before"

# -- install N: dpkg -i, then apt-get -f install -----------------------------------------
say "installing codenook $v1"
echo "codenook codenook/purge-models boolean true" | in_root debconf-set-selections
in_root dpkg -i "/tmp/$(basename "$deb1")" || true
in_root apt-get -f install -y -qq --no-install-recommends
in_root dpkg -s codenook | grep -qx "Status: install ok installed" || fail "not installed"
[ "$(in_root dpkg-query -W -f "\${Version}" codenook)" = "$v1" ] || fail "version"

as_tester() { in_root env CODENOOK_HOME=/home/tester/codenook CODENOOK_USER=tester \
    CODENOOK_PASSWORD=correct-horse-battery "$@"; }
got=$(in_root codenook --version)
echo "   $got"
[ "$got" = "codenook $upstream" ] || fail "codenook --version said: $got"
say "an account, and codenook ask answered by the embedded model"
echo correct-horse-battery | as_tester codenook users add tester --password-stdin >/dev/null
answer=$(as_tester codenook ask --max-tokens 16 --temperature 0 \
    "Write a Python function that adds two numbers") || fail "codenook ask"
echo "   answer: ${answer:0:120}"
[ -n "$answer" ] || fail "codenook ask gave no answer"
conversations() { as_tester codenook history list --json | /usr/bin/python3 -c \
    'import json, sys; print(" ".join(str(c["id"]) for c in json.load(sys.stdin)))'; }
before_upgrade=$(conversations)
[ -n "$before_upgrade" ] || fail "the conversation was not kept"

say "desktop entry, icon and manual"
in_root desktop-file-validate /usr/share/applications/codenook.desktop
grep -qx "Exec=/usr/bin/codenook gui" "$root/usr/share/applications/codenook.desktop"
[ -f "$root/usr/share/icons/hicolor/scalable/apps/codenook.svg" ] || fail "icon"
man_text=$(in_root env MANWIDTH=80 man -P cat codenook 2>&1)
echo "$man_text" | grep -q "usage: codenook \[-h\]" || fail "man codenook: $man_text"
echo "$man_text" | grep -q "/etc/codenook/config.toml" || fail "man codenook lacks FILES"
echo "   man codenook: $(echo "$man_text" | wc -l) lines"
grep -q '^shared_folder = "/var/lib/codenook/models"$' "$root/etc/codenook/config.toml"
# stat inside the root: the group codenook exists there, not here.
[ "$(in_root stat -c %G:%a /var/lib/codenook/models)" = codenook:2775 ] || fail "models folder"
as_tester codenook models list | grep -q "; shared /var/lib/codenook/models$" \
    || fail "codenook models list does not offer the shared folder"

say "llama.cpp natively, then on a Haswell CPU (qemu)"
in_root /opt/codenook/venv/bin/python /tmp/llama-check.py
in_root qemu-x86_64-static -cpu Haswell /opt/codenook/venv/bin/python /tmp/llama-check.py \
    2>&1 | grep -v "TCG doesn't support requested feature" | tee "$T/haswell.txt"
grep -qE "variant: libggml-cpu-(haswell|x64)\.so" "$T/haswell.txt" || fail "Haswell run"

# -- upgrade to N+1: the account and the conversation stay --------------------------------
say "upgrading to codenook $v2"
in_root dpkg -i "/tmp/$(basename "$deb2")"
[ "$(in_root dpkg-query -W -f "\${Version}" codenook)" = "$v2" ] || fail "upgrade"
[ "$(conversations)" = "$before_upgrade" ] || fail "the conversation was lost in the upgrade"
as_tester codenook history show "${before_upgrade%% *}" >/dev/null

# -- remove keeps people's data and the shared models; purge leaves nothing -----------------
say "remove"
touch "$root/var/lib/codenook/models/kept.gguf"
in_root dpkg --remove codenook
[ -f "$root/home/tester/codenook/data/codenook.db" ] || fail "remove deleted a person's data"
[ -f "$root/var/lib/codenook/models/kept.gguf" ] || fail "remove deleted the shared models"
[ -f "$root/etc/codenook/config.toml" ] || fail "remove deleted /etc/codenook"
[ ! -e "$root/opt/codenook" ] || fail "remove left /opt/codenook: $(find "$root/opt/codenook" | head)"
say "purge (answering yes to deleting the shared models)"
in_root dpkg --purge codenook
[ -f "$root/home/tester/codenook/data/codenook.db" ] || fail "purge deleted a person's data"
files > "$T/files-after"
if ! diff -u "$T/files-before" "$T/files-after"; then
    fail "the file lists differ before installing and after purging (above)"
fi
echo "   $(wc -l < "$T/files-after") paths compared: none left, none missing"

say "lintian"
lintian --fail-on error,warning --display-info "$deb1" || fail "lintian"
say "passed in $(($(date +%s) - started))s"
