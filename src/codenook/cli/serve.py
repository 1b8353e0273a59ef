"""``codenook serve``: let another machine use this one's model over an OpenAI-compatible API."""

from __future__ import annotations

import argparse
import sys

from codenook.cli.options import settings_from
from codenook.engine import rpc, serve
from codenook.errors import UsageError
from codenook.library.backendkeys import read_key_file

NAME = "serve"
HELP = (
    "serve a model to another machine (OpenAI-compatible API; an API key is required off loopback)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``serve``."""
    parser.add_argument(
        "--rpc",
        action="store_true",
        help="serve this machine's GPU (or CPU) to another machine's pooled model with "
        f"llama.cpp's rpc-server instead (port {rpc.DEFAULT_PORT} unless --port; no "
        "authentication: loopback or a private network only)",
    )
    parser.add_argument(
        "--allow-any-address",
        action="store_true",
        help="with --rpc: listen on a public or every address too (only behind a firewall "
        "that lets the main machine alone in)",
    )
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
        default=None,
        help=f"port (default {serve.DEFAULT_PORT}, with --rpc {rpc.DEFAULT_PORT}; 0: a free one)",
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
    if args.rpc:
        return _serve_rpc(args)
    if args.allow_any_address:
        raise UsageError("--allow-any-address is for --rpc (the API server wants a key instead).")
    port = serve.DEFAULT_PORT if args.port is None else args.port
    key = read_key_file(args.api_key_file) if args.api_key_file else None
    serve.check_listen(args.host, key)  # before the slow load
    settings = settings_from(args)  # --model NAME|PATH resolved as for every command
    sock = serve.bind(args.host, port)
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


def _serve_rpc(args: argparse.Namespace) -> int:
    """``serve --rpc``: llama.cpp's rpc-server on a loopback or private address, until Ctrl-C."""
    port = rpc.DEFAULT_PORT if args.port is None else args.port
    if not 0 < port < 65536:
        raise UsageError(f"--port {port}: rpc-server needs a port from 1 to 65535.")
    if args.api_key_file:
        raise UsageError("rpc-server takes no API key: its protocol has no authentication.")
    rpc.check_listen(args.host, allow_any=args.allow_any_address)
    for line in rpc.warning_lines(args.host, port):
        print(f"codenook serve: {line}", file=sys.stderr, flush=True)
    # rpc-server's own chatter goes to stderr: stdout carries only codenook's two lines,
    # which scripts (and the tests) read, and rpc-server would otherwise race them.
    sys.stdout.flush()
    proc = rpc.start_server(args.host, port, threads=args.threads, output=sys.stderr.fileno())
    shown = rpc.Endpoint(serve.lan_address() if args.host in ("0.0.0.0", "::") else args.host, port)
    print(f"codenook serve: rpc-server listening on {rpc.Endpoint(args.host, port)}", flush=True)
    print(
        f"On the main machine: codenook backends add-pool NAME --rpc {shown} --model FILE",
        flush=True,
    )
    print("codenook serve: Ctrl-C stops.", file=sys.stderr, flush=True)
    try:
        return proc.wait() and 1
    except KeyboardInterrupt:
        return 0
    finally:
        rpc.stop_server(proc)
