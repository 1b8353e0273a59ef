"""``codenook serve``: let another machine use this one's model over an OpenAI-compatible API."""

from __future__ import annotations

import argparse
import sys

from codenook.cli.options import settings_from
from codenook.engine import serve
from codenook.library.backendkeys import read_key_file

NAME = "serve"
HELP = (
    "serve a model to another machine (OpenAI-compatible API; an API key is required off loopback)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``serve``."""
    parser.add_argument(
        "--model",
        metavar="NAME|PATH",
        help="a GGUF file, or a model's name from 'codenook models list' "
        "(default: settings, else the embedded SmolLM2-135M-Instruct)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every network, with a key)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=serve.DEFAULT_PORT,
        help=f"port (default {serve.DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--api-key-file",
        metavar="F",
        help="a file holding the key clients must send (required unless on loopback)",
    )
    parser.add_argument(
        "--format", metavar="NAME", dest="chat_format", help="chat prompt format (as for ask)"
    )
    parser.add_argument("--context", type=int, metavar="N", dest="context_length")
    parser.add_argument("--threads", type=int, metavar="N")
    parser.add_argument("--gpu-layers", type=int, metavar="N")
    parser.add_argument(
        "--cors-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="a web origin (e.g. http://localhost:3000) whose pages may call the server; "
        "repeat for more (default: none, browsers' cross-origin calls are refused)",
    )
    parser.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        default=[],
        help="another name clients reach this machine by (the Host header must name the "
        "server; default: its addresses, its host name and localhost)",
    )


def run(args: argparse.Namespace) -> int:
    """Load the model, print the URL and the line to paste, then serve until Ctrl-C."""
    key = read_key_file(args.api_key_file) if args.api_key_file else None
    serve.check_listen(args.host, key)  # before the slow load
    settings = settings_from(args)  # --model NAME|PATH resolved as for every command
    sock = serve.bind(args.host, args.port)
    try:
        served = serve.build_app(
            settings.model,
            api_key=key,
            host=args.host,
            cors_origins=args.cors_origin,
            allowed_hosts=args.allow_host,
        )
    except BaseException:
        sock.close()
        raise
    port = sock.getsockname()[1]
    url = serve.url_for(args.host, port)
    for line in serve.lines(served):
        print(f"codenook serve: {line}", file=sys.stderr)
    print(f"codenook serve: listening on {url}", flush=True)
    add = f"codenook backends add NAME {url}"
    if key:
        add += " --api-key-file FILE-WITH-THE-SAME-KEY"
    print(f"On the other machine: {add}", flush=True)
    print("codenook serve: Ctrl-C stops.", file=sys.stderr, flush=True)
    serve.run(served, sock)
    return 0
