"""LoRA training on this CPU: tokens/s, and held-out perplexity after/before a 5-minute run.

The data is the test suite's fixture repository (its own helper names and idioms, a
held-out folder). Three calibration steps size the run to about BUDGET seconds of
training; the last line is the ratio of held-out perplexity after to before (bar <= 0.8).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tuning.fixture_repo import make_style_repo  # noqa: E402

from codenook.engine.embedded import embedded_model_path  # noqa: E402
from codenook.tuning import train  # noqa: E402
from codenook.tuning.dataset import build_dataset  # noqa: E402

BUDGET = float(os.environ.get("CODENOOK_TUNE_SECONDS", 300))
SEQ_LEN = 128
THREADS = int(os.environ.get("CODENOOK_TUNE_THREADS", 2))


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        work = Path(home)
        repo = make_style_repo(work, modules=24, heldout=4)
        dataset = build_dataset([repo], heldout_patterns=["quoll/later/"])
        began = time.monotonic()
        base = train.prepare_base(embedded_model_path())
        print(f"base prepared in {time.monotonic() - began:.0f} s")
        probe = train.TrainOptions(steps=3, seq_len=SEQ_LEN, lr=3e-3, threads=THREADS)
        calib = train.train(dataset, base, work / "calib", options=probe, measure=False)
        per_step = SEQ_LEN / max(calib.tokens_per_second, 1e-6)
        steps = max(10, int(BUDGET / per_step))
        print(f"calibration: {calib.tokens_per_second:.1f} tokens/s; {steps} steps planned")
        options = train.TrainOptions(steps=steps, seq_len=SEQ_LEN, lr=3e-3, threads=THREADS)
        began = time.monotonic()
        result = train.train(dataset, base, work / "run", options=options)
        spent = time.monotonic() - began
        print(f"training_tokens_per_second: {result.tokens_per_second:.1f}")
        print(f"run: {result.step} steps in {spent:.0f} s (measuring included)")
        print(f"heldout_ppl_before: {result.ppl_before:.3f}")
        print(f"heldout_ppl_after: {result.ppl_after:.3f}")
        print(f"heldout_ppl_after_over_before: {result.ppl_after / result.ppl_before:.3f}")


if __name__ == "__main__":
    main()
