"""Prompt-lookup drafting: guess the next tokens from the prompt, verify them in one batch.

Much of what an edit job writes copies its input (a diff repeats the lines around a change, a
documented file repeats the code). When the last few tokens occurred earlier, the tokens that
followed them there are a draft; the model checks the whole draft in one evaluation and keeps the
longest run it agrees with. At temperature 0 the answer is token for token the one plain decoding
gives; with sampling each draft token is accepted with the probability the model gives it and a
rejection resamples from what is left, so the distribution is unchanged (speculative sampling
with a draft that is a point mass).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import llama_cpp
import numpy as np

from codenook.engine.grammars import GrammarGate

#: N-gram sizes tried for a match, longest first (a single token matches too often to pay).
NGRAM_SIZES = (4, 3, 2)
#: Most tokens drafted at once.
MAX_DRAFT = 12
#: Fewest tokens drafted once the draft length has shrunk; the first draft's length.
MIN_DRAFT = 2
START_DRAFT = 4
#: A draft that saved fewer tokens than this did not pay for its batch: a miss.
PAYS = 2
#: Longest pause (in tokens) after drafts that keep missing.
MAX_PAUSE = 256


@dataclass
class DraftStats:
    """How drafting went for one answer."""

    #: Verification batches that carried a draft.
    rounds: int = 0
    #: Draft tokens proposed.
    drafted: int = 0
    #: Draft tokens the model agreed with.
    accepted: int = 0
    #: Tokens produced (drafted or not).
    produced: int = 0

    @property
    def acceptance(self) -> float:
        """Share of drafted tokens kept."""
        return self.accepted / self.drafted if self.drafted else 0.0

    @property
    def mean_draft(self) -> float:
        """Mean draft length per verification batch."""
        return self.drafted / self.rounds if self.rounds else 0.0

    def add(self, other: DraftStats) -> None:
        """Add another answer's figures to these."""
        self.rounds += other.rounds
        self.drafted += other.drafted
        self.accepted += other.accepted
        self.produced += other.produced


class NgramIndex:
    """Where each n-gram of a token history was last followed by a known token."""

    def __init__(self, tokens: Sequence[int], sizes: Sequence[int] = NGRAM_SIZES) -> None:
        self.tokens: list[int] = []
        self.sizes = tuple(sorted(sizes, reverse=True))
        self._seen: dict[int, dict[tuple[int, ...], int]] = {n: {} for n in self.sizes}
        for token in tokens:
            self.append(token)

    def append(self, token: int) -> None:
        """Add a token; the n-grams that end just before it now have a continuation."""
        tokens = self.tokens
        tokens.append(token)
        end = len(tokens) - 1
        for n in self.sizes:
            if end >= n:
                self._seen[n][tuple(tokens[end - n : end])] = end

    def draft(self, k: int) -> list[int]:
        """Up to ``k`` tokens that followed the latest earlier occurrence of the longest suffix."""
        tokens = self.tokens
        for n in self.sizes:
            if len(tokens) <= n:
                continue
            start = self._seen[n].get(tuple(tokens[-n:]))
            if start is not None:
                return tokens[start : start + k]
        return []


@dataclass(frozen=True)
class Sampler:
    """llama.cpp's chain (top-k, top-p, min-p, temperature, dist) in NumPy, or greedy at 0."""

    temperature: float
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05

    def probabilities(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidate token ids and their probabilities, as llama.cpp's chain leaves them."""
        k = min(self.top_k, logits.size) if self.top_k > 0 else logits.size
        ids = np.argpartition(-logits, k - 1)[:k]
        ids = ids[np.argsort(-logits[ids], kind="stable")]
        raw = logits[ids].astype(np.float64)
        if self.top_p < 1.0:
            p = np.exp(raw - raw[0])
            cum = np.cumsum(p / p.sum())
            keep = int(np.searchsorted(cum, self.top_p)) + 1
            ids, raw = ids[:keep], raw[:keep]
        if self.min_p > 0.0:
            keep_mask = raw >= raw[0] + np.log(self.min_p)
            ids, raw = ids[keep_mask], raw[keep_mask]
        scaled = (raw - raw[0]) / self.temperature
        p = np.exp(scaled)
        return ids, p / p.sum()

    def pick(self, logits: np.ndarray, rng: np.random.Generator) -> int:
        """One token from the model's distribution (the argmax at temperature 0)."""
        if self.temperature <= 0:
            return int(np.argmax(logits))
        ids, p = self.probabilities(logits)
        return int(ids[rng.choice(p.size, p=p)])

    def verify(self, logits: np.ndarray, guess: int, rng: np.random.Generator) -> int:
        """The token to keep where the draft says ``guess``: ``guess`` itself if accepted.

        Accept with the model's probability of the guess; otherwise sample from the rest,
        renormalised, which together give exactly the model's distribution.
        """
        if self.temperature <= 0:
            return int(np.argmax(logits))
        ids, p = self.probabilities(logits)
        hit = np.flatnonzero(ids == guess)
        if hit.size:
            q = float(p[hit[0]])
            if rng.random() < q:
                return guess
            p = p.copy()
            p[hit[0]] = 0.0
            total = p.sum()
            if total <= 0:  # the guess held all the mass and was still refused: rounding
                return guess
            p /= total
        return int(ids[rng.choice(p.size, p=p)])


def _decode(llm: llama_cpp.Llama, tokens: Sequence[int], *, all_logits: bool) -> np.ndarray:
    """Evaluate ``tokens`` after what the context holds; logits for each (or only the last)."""
    n_vocab = llm.n_vocab()
    rows = np.empty((0, n_vocab), dtype=np.float32)
    for i in range(0, len(tokens), llm.n_batch):
        chunk = list(tokens[i : i + llm.n_batch])
        last_chunk = i + llm.n_batch >= len(tokens)
        n_past = llm.n_tokens
        llm._batch.set_batch(batch=chunk, n_past=n_past, logits_all=all_logits)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(chunk)] = chunk
        llm.n_tokens = n_past + len(chunk)
        if last_chunk:
            n_out = len(chunk) if all_logits else 1
            ptr = llama_cpp.llama_get_logits(llm._ctx.ctx)
            rows = np.ctypeslib.as_array(
                ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(n_out, n_vocab)
            ).copy()
    # The context's logits may now belong to a row the draft loop drops: llama-cpp-python
    # must evaluate again before it samples from them.
    llm._requires_eval = True
    return rows


def _rewind(llm: llama_cpp.Llama, keep: int) -> None:
    """Drop everything the context holds from position ``keep`` on."""
    if keep < llm.n_tokens:
        if not llm._ctx.kv_cache_seq_rm(-1, keep, -1):
            raise RuntimeError("llama.cpp could not drop rejected draft tokens")
        llm.n_tokens = keep


def _prefill(llm: llama_cpp.Llama, tokens: Sequence[int]) -> np.ndarray:
    """Evaluate the prompt, reusing the prefix the context already holds; the last logits."""
    held = llm.n_tokens
    n = min(held, len(tokens))
    differ = np.flatnonzero(llm.input_ids[:n] != np.asarray(tokens[:n], dtype=np.intc))
    same = int(differ[0]) if differ.size else n
    same = min(same, len(tokens) - 1)  # the last prompt token gives the first logits
    if not llm._ctx.kv_cache_seq_rm(-1, same, -1):
        llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        same = 0
    llm.n_tokens = same
    return _decode(llm, tokens[same:], all_logits=False)[-1]


class Pacer:
    """How long the next draft may be, and when to stop drafting for a while.

    The draft starts short, grows while the model keeps agreeing and shrinks to what it
    kept. A draft that saved fewer than :data:`PAYS` tokens did not pay for its batch: such
    misses pause drafting for a doubling number of tokens (up to :data:`MAX_PAUSE`), so text
    with nothing to copy (plain chat) costs almost only the n-gram look-up.
    """

    def __init__(self, max_draft: int = MAX_DRAFT) -> None:
        self.max_draft = max_draft
        self.length = min(START_DRAFT, max_draft)
        self._misses = 0
        self._pause = 0

    def want(self) -> int:
        """Tokens to draft now (0 while paused)."""
        if self._pause > 0:
            self._pause -= 1
            return 0
        return self.length

    def record(self, drafted: int, accepted: int) -> None:
        """Adapt to how much of a draft the model kept."""
        if accepted == drafted:
            self.length = min(self.max_draft, self.length * 2)
        else:
            self.length = max(MIN_DRAFT, accepted + 1)
        if accepted < min(PAYS, drafted):
            self._misses += 1
            self._pause = min(MAX_PAUSE, 2**self._misses)
        else:
            self._misses = max(0, self._misses - 1)


def generate(
    llm: llama_cpp.Llama,
    tokens: Sequence[int],
    *,
    sampler: Sampler,
    seed: int,
    stats: DraftStats | None = None,
    max_draft: int = MAX_DRAFT,
    grammar: GrammarGate | None = None,
) -> Iterator[int]:
    """Yield the answer's tokens, drafting from the prompt and the answer so far
    (``max_draft=0``: no drafts; ``grammar``: every token must follow it).

    Stops only when the caller closes it (as ``Llama.generate`` does), or when the context
    is full.
    """
    stats = stats if stats is not None else DraftStats()
    rng = np.random.default_rng(seed)
    n_ctx = llm.n_ctx()
    logits = _prefill(llm, tokens)
    index = NgramIndex(tokens)
    pacer = Pacer(max_draft)

    def lawful(row: np.ndarray, token: int) -> int:
        """``token``, or where the grammar forbids it a pick from what it allows."""
        if grammar is None or grammar.allows(token):
            return token
        return sampler.pick(grammar.mask(row), rng)

    token = lawful(logits, sampler.pick(logits, rng))
    while True:
        if grammar is not None:
            grammar.accept(token)
        yield token
        stats.produced += 1
        index.append(token)
        room = n_ctx - llm.n_tokens - 1  # the slot ``token`` itself takes
        if room <= 0:
            return
        want = min(pacer.want(), room)
        draft = index.draft(want) if want > 0 else []
        start = llm.n_tokens
        rows = _decode(llm, [token, *draft], all_logits=bool(draft))
        kept = 0
        fresh: int | None = None
        for i, guess in enumerate(draft):
            chosen = lawful(rows[i], sampler.verify(rows[i], guess, rng))
            if chosen != guess:
                fresh = chosen
                break
            kept += 1
            if grammar is not None:
                grammar.accept(guess)
        if draft:
            stats.rounds += 1
            stats.drafted += len(draft)
            stats.accepted += kept
            pacer.record(len(draft), kept)
            _rewind(llm, start + 1 + kept)
        for guess in draft[:kept]:
            yield guess
            stats.produced += 1
            index.append(guess)
        token = fresh if fresh is not None else lawful(rows[kept], sampler.pick(rows[kept], rng))
