"""``codenook backends``: named remote servers, the job routes to them, and failover."""

from __future__ import annotations

import argparse

from codenook import config
from codenook.engine.remote import display_url
from codenook.errors import UsageError
from codenook.library import backendkeys, routing

NAME = "backends"
HELP = "add, list, test and remove remote backends; route jobs to them; allow failover"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands of ``backends``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add (or change) a named backend")
    add.add_argument("name", help="a short name, e.g. xeon")
    add.add_argument(
        "url",
        help="the server, e.g. http://192.168.1.20:8642 (a user:password@ in it is kept with "
        "the keys, not in the settings)",
    )
    add.add_argument("--api-key-file", metavar="F", help="a file with the server's API key")
    add.add_argument("--remote-model", metavar="NAME", default="", help="the server's model")
    add.add_argument("--timeout", type=float, metavar="S", help="read timeout in seconds")
    add.add_argument("--context", type=int, metavar="N", help="the server's context length")
    add.add_argument(
        "--fill",
        metavar="MODE",
        help='fill-in-the-middle: "chat" (default), "suffix", or a FIM format name',
    )
    pool = sub.add_parser(
        "add-pool",
        help="add (or change) a pooled model: one GGUF split over this machine and "
        "rpc-servers ('codenook serve --rpc' on the others)",
    )
    pool.add_argument("name", help="a short name, e.g. both")
    pool.add_argument(
        "--rpc",
        metavar="HOST:PORT",
        action="append",
        required=True,
        help="an rpc-server to put layers on; repeat for more",
    )
    pool.add_argument("--model", metavar="FILE", required=True, help="the GGUF file to load")
    pool.add_argument("--context", type=int, metavar="N", help="context length (default 4096)")
    pool.add_argument(
        "--gpu-layers",
        type=int,
        metavar="N",
        help="layers to put on the devices (default: as many as fit; the rest on the CPU)",
    )
    pool.add_argument("--timeout", type=float, metavar="S", help="read timeout in seconds")
    sub.add_parser("list", help="list the backends and the job routes")
    test = sub.add_parser("test", help="connect; report latency and the server's models")
    test.add_argument("name", help="a backend's name, or a URL")
    test.add_argument("--api-key-file", metavar="F", help="a file with the server's API key")
    remove = sub.add_parser("remove", help="forget a backend and its key")
    remove.add_argument("name")
    route = sub.add_parser("route", help="send a job (or all) to a backend, or back to local")
    route.add_argument("job", choices=[*_routable(), "all"])
    route.add_argument("target", help="a backend's name, or local")
    failover = sub.add_parser("failover", help="answer locally when a remote backend is down")
    failover.add_argument("state", choices=["on", "off"])


def _routable() -> tuple[str, ...]:
    """The jobs a route may send elsewhere, read from the job registry at the call."""
    from codenook.assist.jobs import registry

    return registry.routable()


def _list() -> None:
    settings = config.load_settings()
    if not settings.backends:
        print("No remote backends. Add one: codenook backends add NAME http://HOST:PORT")
    for name, b in settings.backends.items():
        if b.rpc:
            layers = "layers as fit" if b.gpu_layers is None else f"{b.gpu_layers} layers"
            print(
                f"{name}: pool of {b.gguf} over rpc-servers {', '.join(b.rpc)} "
                f"({layers}; context {b.context_length:,})"
            )
            continue
        key = "key stored" if backendkeys.load_key(name) else "no key"
        model = b.model or "the server's first model"
        print(f"{name}: {display_url(b.url)} ({model}; {key}; read timeout {b.read_timeout:g} s)")
    r = settings.routing
    routes = ", ".join(f"{job} -> {r.for_job(job)}" for job in _routable())
    print(f"routes: {routes}")
    print(f"failover to local: {'on' if r.failover else 'off'}")


def _test(name: str, key_file: str | None) -> int:
    settings = config.load_settings()
    backend = routing.open_remote(settings, name, api_key_file=key_file)
    with backend:
        latency = (backend.latency or 0.0) * 1000
        print(f"{backend.url}: answered in {latency:.0f} ms")
        models = backend.server_models
        print(f"models: {', '.join(models) if models else 'none listed'}")
        print(f"uses: {backend.model}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Carry out the chosen action."""
    if args.action == "add":
        said = routing.add_backend(
            args.name,
            args.url,
            model=args.remote_model,
            api_key_file=args.api_key_file,
            read_timeout=args.timeout,
            context_length=args.context,
            fill=args.fill,
        )
        # The address without any user and password written in it.
        print(f"Added backend {args.name}: {display_url(args.url)}")
        for line in said:
            print(line)
        print(f"Check it: codenook backends test {args.name}")
        return 0
    if args.action == "add-pool":
        entry = routing.add_pool(
            args.name,
            args.rpc,
            args.model,
            context_length=args.context,
            gpu_layers=args.gpu_layers,
            read_timeout=args.timeout,
        )
        print(f"Added pool {args.name}: {entry.gguf} over {', '.join(entry.rpc)}")
        print(f"See its plan: codenook models info {entry.gguf} --pool {args.name}")
        print(f"Route a job to it: codenook backends route ask {args.name}")
        return 0
    if args.action == "list":
        _list()
        return 0
    if args.action == "test":
        return _test(args.name, args.api_key_file)
    if args.action == "remove":
        routing.remove_backend(args.name)
        print(f"Removed backend {args.name}; its jobs run locally again.")
        return 0
    if args.action == "route":
        routing.set_route(args.job, args.target, jobs=_routable())
        print(f"{args.job} -> {args.target}")
        return 0
    if args.action == "failover":
        routing.set_failover(args.state == "on")
        print(f"failover to local: {args.state}")
        return 0
    raise UsageError(f"Unknown action {args.action!r}.")
