#!/bin/sh
# /usr/bin/codenook: the program lives in /opt/codenook/venv, made by the package's postinst.
# llama.cpp's GGUF converters ship beside it (codenook models import).
CODENOOK_LLAMA_CONVERT=${CODENOOK_LLAMA_CONVERT:-/opt/codenook/share/llama.cpp-convert}
export CODENOOK_LLAMA_CONVERT
exec /opt/codenook/venv/bin/codenook "$@"
