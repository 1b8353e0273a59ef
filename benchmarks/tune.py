"""LoRA training on this CPU: tokens/s, and held-out perplexity after/before a 5-minute run.

The data is the test suite's fixture repository (its own helper names and idioms, a
held-out folder). Three calibration steps size the run to about BUDGET seconds of
training. Then the ``fim`` suite on the held-out files (FIM_TASKS gaps), on the base and on
the base with the exported GGUF adapter through llama.cpp, as 'tune run' measures it. The
last line is the ratio of held-out perplexity after to before (bar <= 0.8).
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
from codenook.tuning.export import export_gguf  # noqa: E402
from codenook.tuning.measure import before_after_lines, fim_eval, heldout_repo  # noqa: E402

BUDGET = float(os.environ.get("CODENOOK_TUNE_SECONDS", 300))
SEQ_LEN = 128
THREADS = int(os.environ.get("CODENOOK_TUNE_THREADS", 2))
FIM_TASKS = int(os.environ.get("CODENOOK_TUNE_FIM_TASKS", 20))


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
        adapter = export_gguf(work / "run" / "peft", base, work / "run" / "adapter.gguf")
        held = heldout_repo(dataset, work / "heldout")
        assert held is not None
        began = time.monotonic()
        gguf = embedded_model_path()
        before = fim_eval(gguf, held, tasks=FIM_TASKS)
        after = fim_eval(gguf, held, adapter=adapter, tasks=FIM_TASKS)
        assert before is not None and after is not None
        print(f"fim: {FIM_TASKS} gaps twice in {time.monotonic() - began:.0f} s")
        for line in before_after_lines(
            ppl_before=result.ppl_before,
            ppl_after=result.ppl_after,
            fim_before=before,
            fim_after=after,
        ):
            print(line)
        print(f"fim_exact_before: {before.exact}/{before.tasks}")
        print(f"fim_exact_after: {after.exact}/{after.tasks}")
        print(f"fim_similarity_before: {before.similarity:.3f}")
        print(f"fim_similarity_after: {after.similarity:.3f}")
        print(f"heldout_ppl_before: {result.ppl_before:.3f}")
        print(f"heldout_ppl_after: {result.ppl_after:.3f}")
        print(f"heldout_ppl_after_over_before: {result.ppl_after / result.ppl_before:.3f}")


if __name__ == "__main__":
    main()
