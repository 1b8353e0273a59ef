"""``codenook models``: the catalog, what is installed, what fits here, pull, scan, use, rm,
and the Hugging Face token."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import TYPE_CHECKING

from codenook import config
from codenook.cli.account import interactive, read_stdin_lines
from codenook.errors import UsageError

if TYPE_CHECKING:
    from codenook.engine.catalog import Choice
    from codenook.engine.download import Progress
    from codenook.engine.gguf_meta import GGUFMetadata

# The engine and library modules are imported by the actions that use them: every
# codenook command imports this module, and most never touch models.

NAME = "models"
HELP = "models: list, info, pull, scan, import, use, rm, hardware; login/logout for Hugging Face"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``models``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    p = sub.add_parser("list", help="catalog and installed models, with how each runs here")
    p.add_argument(
        "--context", type=int, metavar="N", help="context to plan for (default: setting)"
    )
    p.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    p = sub.add_parser("info", help="metadata, prompt formats and fit of one model")
    p.add_argument("model", metavar="NAME|PATH")
    p.add_argument(
        "--context", type=int, metavar="N", help="context to plan for (default: setting)"
    )
    p.add_argument(
        "--pool",
        metavar="NAME",
        help="also plan it on pool NAME: which layers go on which machine's device",
    )
    p = sub.add_parser("pull", help="download NAME[:QUANT] from Hugging Face (Q4_K_M by default)")
    p.add_argument("model", metavar="NAME[:QUANT]")
    p.add_argument("--shared", action="store_true", help="into the machine's shared models folder")
    p = sub.add_parser("scan", help="register the GGUF files in FOLDER (they stay where they are)")
    p.add_argument("folder", metavar="FOLDER")
    p = sub.add_parser(
        "import",
        help="make a Hugging Face folder or Meta's checkpoint a GGUF file for llama.cpp "
        "(quantized; registered with its SHA-256)",
    )
    p.add_argument("folder", metavar="DIR")
    p.add_argument(
        "--quant", default="Q4_K_M", metavar="TYPE", help="Q4_K_M (default), Q5_K_M, Q6_K, F16…"
    )
    p.add_argument("--name", metavar="NAME", help="the file's name (default: the folder's)")
    p = sub.add_parser("use", help="make NAME or PATH the model ask and chat load")
    p.add_argument("model", metavar="NAME|PATH")
    p.add_argument("--adapter", metavar="NAME", help="with this LoRA adapter ('codenook tune')")
    p = sub.add_parser("rm", help="remove an installed model (deletes it from the weights folder)")
    p.add_argument("model", metavar="NAME")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sub.add_parser("hardware", help="GPUs, free GPU memory, RAM, cores, and the recommended model")
    p = sub.add_parser("login", help="store a Hugging Face token (for gated models)")
    p.add_argument(
        "--token-stdin", action="store_true", help="read the token from the first line of stdin"
    )
    # Caught to refuse it without echoing it: a token on the command line lands in shell history.
    p.add_argument("token_on_command_line", nargs="?", help=argparse.SUPPRESS)
    sub.add_parser("logout", help="remove the stored Hugging Face token")
    sub.add_parser("token", help="show which Hugging Face token is used (masked)")


def _context(args: argparse.Namespace, settings: config.Settings) -> int:
    context = getattr(args, "context", None) or settings.model.context_length
    if context < 64:
        raise UsageError("--context must be at least 64.")
    return context


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)]
        print("  ".join([*cells, r[-1]]).rstrip())


def _list(args: argparse.Namespace) -> None:
    from codenook.engine import hardware
    from codenook.library import manager

    settings = config.load_settings()
    context = _context(args, settings)
    hw = hardware.detect()
    rows = manager.catalog_rows(hw, context=context)
    current = settings.model.path
    if args.json:
        out = [
            {
                "name": r.name,
                "quant": r.quant,
                "size": r.size,
                "installed": r.installed or None,
                "in_use": bool(r.installed) and r.installed == (current or "embedded"),
                "gpu_layers": r.fit.gpu_layers if r.fit else None,
                "tokens_per_second": list(r.fit.tokens_per_second) if r.fit else None,
                "fit": r.fit.sentence if r.fit else None,
                "good_for": r.good_for,
            }
            for r in rows
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return
    gpu = (
        ", ".join(f"{g.name} ({hardware.gb(g.free_bytes)} free)" for g in hw.usable_gpus)
        or "no usable GPU"
    )
    print(f"This machine: {gpu}, {hw.physical_cores} cores; planned for {context:,} context.")
    folders = manager.weights_folders(settings)
    print("Models folders: " + "; ".join(f"{label} {path}" for label, path in folders))
    if len(folders) > 1:
        print("  ('pull --shared' puts a model in the shared one; 'scan FOLDER' uses its files)")
    table = [["", "NAME", "SIZE", "INSTALLED", "ON THIS MACHINE"]]
    for r in rows:
        mark = "*" if r.installed and r.installed == (current or "embedded") else ""
        installed = r.installed if r.installed in ("", "embedded") else "yes"
        table.append(
            [
                mark,
                r.name,
                hardware.gb(r.size),
                installed or "-",
                r.fit.short if r.fit else "unknown (no layer figures)",
            ]
        )
    _table(table)
    print("* in use. 'codenook models pull NAME[:Q8_0]' downloads; 'models info NAME' explains.")
    _list_adapters(settings.model.adapter)


def _list_adapters(in_use: str | None) -> None:
    """The LoRA adapters from 'codenook tune', each with its base and before/after figures."""
    from codenook.library.registry import load_adapters

    adapters = load_adapters()
    if not adapters:
        return
    print("\nLoRA adapters ('codenook models use BASE --adapter NAME'):")
    for a in adapters:
        figures = a.figures()
        mark = "*" if a.name == in_use else " "
        print(f"{mark} {a.name}  for {a.base_name}{'  ' + figures if figures else ''}")


def _info(args: argparse.Namespace) -> None:
    from codenook.engine import hardware
    from codenook.engine.gguf_meta import read_metadata
    from codenook.library import manager

    settings = config.load_settings()
    context = _context(args, settings)
    found = manager.resolve(args.model)
    hw = hardware.detect()
    rows: list[tuple[str, str]] = []
    choice = found.choice
    meta = read_metadata(found.path) if found.path else None
    if choice:
        e = choice.entry
        rows.append(("name", f"{choice.spec} ({e.title})"))
    elif meta:
        rows.append(("name", meta.name))
    if found.path:
        rows.append(("file", str(found.path) + ("  (embedded)" if found.embedded else "")))
    elif choice:
        rows.append(("file", f"not downloaded: codenook models pull {choice.spec}"))
    if meta:
        rows += [
            ("architecture", meta.architecture),
            ("family", choice.entry.family if choice else meta.family),
            ("parameters", meta.size_label or "unknown"),
            ("quantization", meta.quantization or "unknown"),
            ("size", hardware.gb(meta.file_size)),
            (
                "context",
                f"{meta.context_length:,} tokens (trained)" if meta.context_length else "?",
            ),
            (
                "layers",
                f"{meta.block_count}, {meta.head_count} heads, {meta.head_count_kv} KV heads "
                f"of {meta.head_dim}",
            ),
        ]
    elif choice:
        e = choice.entry
        rows += [
            ("family", e.family),
            ("parameters", f"{e.params / 1e9:.2f}B"),
            ("quantization", choice.quant.name),
            ("size", f"{hardware.gb(choice.quant.size)} (as the hub lists it)"),
            ("context", f"{e.context:,} tokens (trained)"),
            ("layers", f"{e.layers}, {e.heads} heads, {e.kv_heads} KV heads of {e.head_dim}"),
        ]
    if choice:
        e = choice.entry
        rows += [
            ("chat format", e.chat_format or "none (not trained for chat)"),
            ("fill format", e.fill_format or "none (not trained to fill in the middle)"),
            ("license", e.license),
            ("good for", e.good_for),
            ("repository", f"https://huggingface.co/{e.repo}"),
            ("quantizations", ", ".join(e.quants)),
        ]
    elif meta:
        rows.append(
            (
                "chat format",
                "the file's own chat template" if meta.chat_template else "unknown (no template)",
            )
        )
    fit = None
    if meta:
        fit = manager.fit_for_file(meta, hw, context=context)
    elif choice:
        fit = manager.fit_for_choice(choice, hw, context=context)
    rows.append(("on this machine", fit.sentence if fit else "unknown (no layer figures)"))
    width = max(len(k) for k, _ in rows) + 1
    for key, value in rows:
        print(f"{key + ':':<{width}} {value}")
    if getattr(args, "pool", None):
        _pool_plan(args.pool, meta, choice, args.context)


def _pool_plan(
    pool: str, meta: GGUFMetadata | None, choice: Choice | None, context: int | None
) -> None:
    """``models info --pool NAME``: where each layer of the model goes in that pool."""
    from codenook.engine.fit import figures_from_metadata
    from codenook.library import manager, routing

    if meta is not None:
        try:
            figures = figures_from_metadata(meta)
        except ValueError as exc:
            raise UsageError(f"Cannot plan a pool for this model: {exc}.") from exc
    elif choice is not None:
        figures = manager.figures_for_choice(choice)
    else:
        raise UsageError("Cannot plan a pool for this model: no layer figures.")
    plan = routing.pool_plan(config.load_settings(), pool, figures=figures, context=context)
    print(f"pool {pool}:")
    for line in plan.lines():
        print(f"  {line}")
    if plan.gpu_layers:
        split = ",".join(str(n) for n in plan.tensor_split)
        print(f"  llama-server: --n-gpu-layers {plan.gpu_layers} --tensor-split {split}")


class _Bar:
    """A terminal progress bar for a pull (tqdm on stderr, quiet when stderr is not a TTY)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar = None
        self.phase = ""

    def __call__(self, p: Progress) -> None:
        from tqdm import tqdm

        if p.phase != self.phase:
            self.close()
            self.phase = p.phase
            if p.phase == "done":
                return
            desc = f"{'downloading' if p.phase == 'download' else 'verifying'} {self.label}"
            self.bar = tqdm(
                total=p.total,
                initial=p.done,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=desc,
                file=sys.stderr,
                disable=None,
            )
        if self.bar is not None:
            self.bar.update(p.done - self.bar.n)

    def close(self) -> None:
        """End the current bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _pull(args: argparse.Namespace) -> None:
    from codenook.library import manager

    folder = manager.weights_folder(shared=args.shared)
    bar = _Bar(args.model)
    try:
        result = manager.pull(args.model, folder=folder, on_progress=bar)
    except KeyboardInterrupt:
        bar.close()
        print("\nDownload paused; run the same command again to resume.", file=sys.stderr)
        raise
    finally:
        bar.close()
    spec = result.choice.spec
    if result.already:
        where = "ships with codenook" if result.choice.quant.embedded else f"is in {result.path}"
        print(f"{spec} {where} already.", file=sys.stderr)
    else:
        print(f"Downloaded {spec} to {result.path} (SHA-256 checked).", file=sys.stderr)
    print(f"Use it with: codenook models use {spec}", file=sys.stderr)


def _scan(args: argparse.Namespace) -> None:
    from codenook.engine import hardware
    from codenook.library.registry import register_folder

    result = register_folder(args.folder)
    for m in result.added:
        print(f"added    {m.name}  ({m.quant or '?'}, {hardware.gb(m.file_size)})  {m.path}")
    for m in result.known:
        print(f"known    {m.name}  {m.path}")
    for path, why in result.skipped:
        print(f"skipped  {path}: {why}")
    print(
        f"{len(result.added)} added, {len(result.known)} already known, "
        f"{len(result.skipped)} skipped.",
        file=sys.stderr,
    )
    if result.added:
        print(f"Use one with: codenook models use {result.added[0].name}", file=sys.stderr)


def _import(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from codenook.engine import hardware
    from codenook.engine.convert import quant_names
    from codenook.library.importer import import_folder

    if args.quant.upper() not in quant_names():
        raise UsageError(f"--quant must be one of {', '.join(quant_names())}.")
    bar: list[tqdm] = []

    def layer(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc="layers", file=sys.stderr, disable=None))
        bar[0].update(done - bar[0].n)

    def step(text: str) -> None:
        if bar:
            bar.pop().close()
        print(f"{text}…", file=sys.stderr)

    try:
        done = import_folder(
            args.folder, quant=args.quant, name=args.name, on_step=step, on_layer=layer
        )
    finally:
        if bar:
            bar.pop().close()
    m = done.model
    print(f"imported {m.name}  ({hardware.gb(m.file_size)}, sha256 {m.sha256})  {m.path}")
    print(f"chat format: {done.chat_format}", file=sys.stderr)
    print(f"fill format: {done.fill_format}", file=sys.stderr)
    print(f"Use it with: codenook models use {m.name}", file=sys.stderr)


def _use(args: argparse.Namespace) -> None:
    from codenook.library import manager

    found, settings_file = manager.use(args.model)
    what = "the embedded model" if found.embedded else str(found.path)
    adapter = getattr(args, "adapter", None)
    if adapter or config.load_settings().model.adapter:
        from dataclasses import replace

        from codenook.library.registry import adapter_for

        if adapter:  # checked against the base now, so a wrong pair fails here, not later
            adapter_for(adapter, base_path=found.path)
        settings = config.load_settings()
        settings_file = config.save_settings(
            replace(settings, model=replace(settings.model, adapter=adapter))
        )
        what += f" with adapter {adapter}" if adapter else " (no adapter)"
    print(f"ask and chat now use {what} (saved in {settings_file}).", file=sys.stderr)


def _rm(args: argparse.Namespace) -> int:
    from codenook.library import manager

    if not args.yes:
        if not interactive():
            raise UsageError("Removing a model may delete its file: add --yes to confirm.")
        answer = input(f"Remove {args.model}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            return 1
    model, deleted = manager.remove(args.model)
    if deleted:
        print(f"Deleted {model.path}.", file=sys.stderr)
    else:
        print(f"Forgot {model.name}; the file {model.path} was left in place.", file=sys.stderr)
    return 0


def _hardware(args: argparse.Namespace) -> None:
    from codenook.engine import hardware
    from codenook.library import manager

    hw = hardware.detect()
    for line in hw.describe():
        print(line)
    settings = config.load_settings()
    choice = manager.recommend(hw, context=settings.model.context_length)
    fit = manager.fit_for_choice(choice, hw, context=settings.model.context_length)
    print(f"Recommended: {choice.spec}: {fit.sentence}")


def _login(args: argparse.Namespace) -> None:
    from codenook.library import hftoken

    if args.token_on_command_line:
        raise UsageError(
            "Do not give the token on the command line (it would stay in your shell history): "
            "run 'codenook models login' and paste it at the prompt, or use --token-stdin."
        )
    if args.token_stdin:
        token = read_stdin_lines(1)[0]
    else:
        if not interactive():
            raise UsageError("No terminal to ask for the token: pipe it in with --token-stdin.")
        token = getpass.getpass("Hugging Face token (input hidden): ")
    where = hftoken.save_token(token)
    print(f"Token {hftoken.mask(token.strip())} stored in {where}.", file=sys.stderr)
    if os.environ.get(hftoken.ENV):
        print(f"Note: {hftoken.ENV} is set in your environment and wins.", file=sys.stderr)


def _logout(args: argparse.Namespace) -> None:
    from codenook.library import hftoken

    removed = hftoken.delete_token()
    if removed:
        print(f"Removed the token from {' and '.join(removed)}.", file=sys.stderr)
    else:
        print("No stored token.", file=sys.stderr)
    if hftoken.load_token() is not None:
        print(f"Note: {hftoken.ENV} is still set in your environment.", file=sys.stderr)


def _token(args: argparse.Namespace) -> None:
    from codenook.library import hftoken

    token = hftoken.load_token()
    if token is None:
        print("No Hugging Face token (not needed for the catalog's models).")
    else:
        print(f"{token.masked} from {token.source}")


def run(args: argparse.Namespace) -> int:
    """Carry out one ``models`` action."""
    actions = {
        "list": _list,
        "info": _info,
        "pull": _pull,
        "scan": _scan,
        "import": _import,
        "use": _use,
        "rm": _rm,
        "hardware": _hardware,
        "login": _login,
        "logout": _logout,
        "token": _token,
    }
    return int(actions[args.action](args) or 0)
