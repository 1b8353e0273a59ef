#!/usr/bin/env bash
# Install the Debian packages named as arguments, only those that are missing.
# apt-get runs as root directly, or through sudo; otherwise we say what to run.
set -euo pipefail

missing=()
for pkg in "$@"; do
  case "$pkg" in
    # A Python built outside Debian (pyenv, python.org) brings its own venv and Tk:
    # ask the interpreter, not dpkg.
    python3-venv) "${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null && continue ;;
    python3-tk) "${PYTHON:-python3}" -c 'import tkinter' 2>/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "Missing Debian packages: ${missing[*]}. Install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
