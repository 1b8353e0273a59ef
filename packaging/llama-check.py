"""The packaged llama.cpp's first matrix products: the embedded model answers two tokens.

Run by packaging/test-deb.sh inside the test root, natively and under
``qemu-x86_64-static -cpu Haswell`` (no AVX-512, no AVX-VNNI). Prints which CPU variant of
llama.cpp the loader chose (from the process's own memory map).
"""

from llama_cpp import Llama

from codenook.engine.embedded import embedded_model_path

llm = Llama(str(embedded_model_path()), n_ctx=64, n_threads=1, verbose=False)
text = llm.create_completion("def add(a, b):", max_tokens=2, temperature=0)["choices"][0]["text"]
with open("/proc/self/maps") as maps:
    chosen = sorted({line.split()[-1] for line in maps if "libggml-cpu" in line})
assert len(chosen) == 1, chosen
print(f"llama.cpp CPU variant: {chosen[0].rsplit('/', 1)[-1]}; answered {text!r}")
