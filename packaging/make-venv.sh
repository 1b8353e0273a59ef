#!/bin/sh
# /opt/codenook/make-venv: (re)make /opt/codenook/venv from the packaged wheels, offline, with
# Debian's python3. Run by the maintainer scripts of codenook and codenook-torch; the torch
# extra goes in when codenook-torch's wheels are there.
set -e
OPT=/opt/codenook
rm -rf "$OPT/venv"
python3 -m venv "$OPT/venv"
want=codenook
links="--find-links $OPT/wheels"
if [ -d "$OPT/torch-wheels" ]; then
    want="codenook[torch]"
    links="$links --find-links $OPT/torch-wheels"
fi
# shellcheck disable=SC2086  # $links is two options
"$OPT/venv/bin/python" -m pip --disable-pip-version-check --no-cache-dir install --quiet \
    --no-index $links "$want"
