"""Will a model fit on this machine, and how fast will it run?

Memory on the GPU is the weights, the KV cache (f16 keys and values for every layer and
context position), llama.cpp's compute buffer and the CUDA context. When all of it fits,
every layer goes on the GPU; else as many layers as fit; else the model runs on the CPU.

Generation speed is bounded by memory bandwidth: each token reads every weight once, so
tokens/s is about bandwidth / weight bytes. llama.cpp reaches 72-88 % of that bound (the
design notes' RTX 4060 figure: 45-55 of a 62 tokens/s ceiling for a 4.4 GB model).
"""

from __future__ import annotations

from dataclasses import dataclass

from codenook.engine.gguf_meta import GGUFMetadata
from codenook.engine.hardware import Hardware, gb

#: llama-cpp-python's default micro-batch: the compute buffer scales with it.
UBATCH = 512
#: CUDA context, cuBLAS workspace and a little headroom for the desktop (an assumption:
#: llama.cpp does not count it in its own buffers).
CUDA_OVERHEAD = 350 * 1024 * 1024
#: Sustained RAM bandwidth assumed for the CPU part (dual-channel DDR4-3200 reaches ~40).
CPU_BANDWIDTH_GBS = 40.0
#: Parameters a CPU core pushes through per second when generating, from the design notes'
#: measurement: SmolLM2-135M at about 80 tokens/s on two cores.
CPU_PARAMS_PER_CORE_S = 80 * 134_515_008 / 2
#: Bandwidth assumed for a GPU whose bandwidth is unknown.
DEFAULT_GPU_BANDWIDTH_GBS = 200.0
#: Share of the bandwidth bound llama.cpp reaches (low, high).
EFFICIENCY = (0.72, 0.88)


@dataclass(frozen=True)
class ModelFigures:
    """What the estimate needs to know about a model."""

    name: str
    weights_bytes: int
    layers: int
    kv_heads: int
    head_dim: int
    heads: int
    vocab: int
    params: int | None = None
    trained_context: int | None = None


def kv_cache_bytes(m: ModelFigures, context: int) -> int:
    """f16 keys and values: 2 x layers x context x KV heads x head size x 2 bytes."""
    return 2 * m.layers * context * m.kv_heads * m.head_dim * 2


def compute_buffer_bytes(m: ModelFigures, context: int) -> int:
    """llama.cpp's scratch memory per micro-batch: the logits plus the attention scores.

    Without flash attention (codenook's setting) the f32 scores are context x UBATCH x heads;
    the logits are vocabulary x UBATCH. Their sum covers what llama.cpp reported for the
    embedded model (measured: 99.4 MiB at 2,048 and 166.4 MiB at 8,192 context).
    """
    return UBATCH * 4 * (m.vocab + context * m.heads)


@dataclass(frozen=True)
class Fit:
    """Where a model goes on this machine and what to expect."""

    model: str
    context: int
    layers: int
    #: For llama.cpp's n_gpu_layers: -1 all, 0 none, else that many.
    gpu_layers: int
    weights_bytes: int
    kv_bytes: int
    compute_bytes: int
    #: Bytes the plan puts on the GPU (0 on the CPU).
    gpu_bytes: int
    device: str
    tokens_per_second: tuple[float, float]
    sentence: str

    @property
    def layers_on_gpu(self) -> int:
        """Layers on the GPU as a count."""
        return self.layers if self.gpu_layers < 0 else self.gpu_layers

    @property
    def short(self) -> str:
        """A few words for a table: where the layers go and the speed."""
        speed = speed_text(self.tokens_per_second)
        if self.mode == "gpu":
            return f"GPU, all {self.layers} layers, ~{speed}"
        if self.mode == "partial":
            return f"GPU {self.layers_on_gpu}/{self.layers} layers, ~{speed}"
        return f"CPU, ~{speed}"

    @property
    def mode(self) -> str:
        """ "gpu" (all layers), "partial" or "cpu"."""
        if self.gpu_layers == 0:
            return "cpu"
        return "gpu" if self.layers_on_gpu >= self.layers else "partial"


def figures_from_metadata(meta: GGUFMetadata) -> ModelFigures:
    """Model figures from a GGUF file's own metadata; ValueError if the file lacks them."""
    layers, kv, dim, heads = meta.block_count, meta.head_count_kv, meta.head_dim, meta.head_count
    if not (layers and kv and dim and heads):
        raise ValueError(f"{meta.path.name} does not give its layer and attention figures")
    return ModelFigures(
        name=meta.name,
        weights_bytes=meta.tensor_bytes or meta.file_size,
        layers=layers,
        kv_heads=kv,
        head_dim=dim,
        heads=heads,
        vocab=meta.vocab_size or 32000,
        params=meta.params or None,
        trained_context=meta.context_length,
    )


def _rate(seconds_per_token: float) -> tuple[float, float]:
    best = 1 / seconds_per_token if seconds_per_token > 0 else 0.0
    return best * EFFICIENCY[0], best * EFFICIENCY[1]


def speed_text(tps: tuple[float, float]) -> str:
    """A tokens/s range for a person: "45–55 tokens/s"."""
    low, high = tps
    if high >= 10:
        return f"{low:.0f}–{high:.0f} tokens/s"
    if high >= 1:
        return f"{low:.1f}–{high:.1f} tokens/s"
    return "under 1 token/s"


def _seconds_per_token(
    hw: Hardware, *, gpu_bytes: float, gpu_bw: float, cpu_bytes: float, cpu_params: float
) -> float:
    """GPU part bound by its bandwidth; CPU part by RAM bandwidth or by its cores, the slower."""
    t = gpu_bytes / (gpu_bw * 1e9) if gpu_bytes else 0.0
    if cpu_bytes:
        by_memory = cpu_bytes / (CPU_BANDWIDTH_GBS * 1e9)
        by_cores = cpu_params / (max(1, hw.physical_cores) * CPU_PARAMS_PER_CORE_S)
        t += max(by_memory, by_cores)
    return t


def _why_cpu_only(hw: Hardware, *, free: int, device: str) -> str:
    """Why no layer goes to a GPU, in words for the plan's sentence."""
    if not hw.gpus:
        return f"no NVIDIA GPU ({hw.gpu_note})" if hw.gpu_note else "no NVIDIA GPU"
    if not hw.gpu_offload:
        return f"this llama.cpp build cannot use the {hw.gpus[0].name} (CPU-only build)"
    return f"not one layer fits in the {gb(free)} free on the {device}"


def _ram_warning(hw: Hardware, *, ram_need: int) -> str:
    """A clause warning of swapping when a CPU run needs more RAM than is available, else ''."""
    if ram_need <= hw.ram_available_bytes:
        return ""
    return (
        f"; it needs {gb(ram_need)} of RAM but {gb(hw.ram_available_bytes)} is available, "
        "so expect swapping: choose a smaller model or quantization"
    )


def plan(m: ModelFigures, hw: Hardware, *, context: int) -> Fit:
    """Choose GPU layers for ``m`` at ``context`` tokens on ``hw`` and say what to expect."""
    kv = kv_cache_bytes(m, context)
    compute = compute_buffer_bytes(m, context)
    # Without a parameter count, assume ~4 bits a weight (the common quantizations).
    params = m.params or m.weights_bytes * 2
    gpus = hw.usable_gpus
    free = hw.gpu_free_bytes
    overhead = CUDA_OVERHEAD * len(gpus) + compute
    device = " + ".join(g.name for g in gpus)
    gpu_bw = min((g.bandwidth_gbs or DEFAULT_GPU_BANDWIDTH_GBS) for g in gpus) if gpus else 0.0
    need = m.weights_bytes + kv + overhead
    ctx = f"{context:,} context"

    def result(gpu_layers: int, gpu_bytes: int, seconds: float, sentence: str) -> Fit:
        """The Fit for a choice; ``{speed}`` in the sentence becomes the tokens/s range."""
        tps = _rate(seconds)
        return Fit(
            model=m.name,
            context=context,
            layers=m.layers,
            gpu_layers=gpu_layers,
            weights_bytes=m.weights_bytes,
            kv_bytes=kv,
            compute_bytes=compute,
            gpu_bytes=gpu_bytes,
            device=device if gpu_layers else "CPU",
            tokens_per_second=tps,
            sentence=sentence.format(speed=speed_text(tps)),
        )

    if gpus and need <= free:
        t = _seconds_per_token(
            hw, gpu_bytes=m.weights_bytes, gpu_bw=gpu_bw, cpu_bytes=0, cpu_params=0
        )
        return result(
            -1,
            need,
            t,
            f"fits fully on the {device} with {ctx} ({gb(need)} of {gb(free)} free); "
            "about {speed}",
        )
    # Each layer brings its share of the weights and its own slice of the KV cache.
    per_layer = (m.weights_bytes + kv) / m.layers
    n = int((free - overhead) // per_layer) if gpus else 0
    n = max(0, min(n, m.layers - 1))
    if n >= 1:
        on_gpu = m.weights_bytes * n / m.layers
        t = _seconds_per_token(
            hw,
            gpu_bytes=on_gpu,
            gpu_bw=gpu_bw,
            cpu_bytes=m.weights_bytes - on_gpu,
            cpu_params=params * (m.layers - n) / m.layers,
        )
        return result(
            n,
            int(n * per_layer + overhead),
            t,
            f"{n} of {m.layers} layers on the {device} with {ctx} (all would need "
            f"{gb(need)}, {gb(free)} is free), the rest on the CPU: expect ~{{speed}}",
        )
    t = _seconds_per_token(hw, gpu_bytes=0, gpu_bw=0, cpu_bytes=m.weights_bytes, cpu_params=params)
    why = _why_cpu_only(hw, free=free, device=device)
    ram = _ram_warning(hw, ram_need=m.weights_bytes + kv + compute)
    return result(
        0,
        0,
        t,
        f"runs on the CPU with {ctx}: {why}; about {{speed}} ({hw.physical_cores} cores, "
        f"RAM at ~{CPU_BANDWIDTH_GBS:.0f} GB/s assumed){ram}",
    )


# -- pooled models: layers over this machine's GPUs and other machines' rpc-servers ---------


@dataclass(frozen=True)
class PoolDevice:
    """A device a pooled model may put layers on: a GPU here, or an rpc-server's device."""

    name: str
    free_bytes: int
    #: True for an rpc-server's device (llama.cpp puts those first, to save network hops).
    remote: bool = False


@dataclass(frozen=True)
class PoolShare:
    """The layers one device holds in a pool plan (``first`` is the first layer's index)."""

    device: str
    free_bytes: int
    layers: int
    first: int
    bytes: int
    remote: bool

    @property
    def span(self) -> str:
        """Layer numbers as a person reads them: "layers 5–17", or "no layer"."""
        if self.layers == 0:
            return "no layer"
        last = self.first + self.layers - 1
        return f"layer {self.first}" if last == self.first else f"layers {self.first}–{last}"


@dataclass(frozen=True)
class PoolPlan:
    """Where a pooled model's layers go; llama-server's ``-ngl`` and ``--tensor-split``."""

    model: str
    context: int
    layers: int
    weights_bytes: int
    kv_bytes: int
    #: Devices in llama.cpp's order (rpc-servers first, then this machine's GPUs).
    shares: tuple[PoolShare, ...]
    #: The first layers, kept on this machine's CPU (and RAM).
    cpu_layers: int
    #: Every layer is on a device.
    fits: bool
    sentence: str

    @property
    def gpu_layers(self) -> int:
        """llama-server's ``-ngl``: the layers on devices, plus the output layer with them.

        llama.cpp offloads the last ``-ngl`` of its layers 0..n, n being the output layer,
        so n repeating layers on devices take ``-ngl n+1`` (the output goes with the last).
        """
        on_devices = sum(s.layers for s in self.shares)
        return on_devices + 1 if on_devices else 0

    @property
    def tensor_split(self) -> tuple[int, ...]:
        """llama-server's ``--tensor-split``: each device's share of the ``-ngl`` layers."""
        counts = [s.layers for s in self.shares]
        if counts and sum(counts):
            last = max(i for i, n in enumerate(counts) if n)
            counts[last] += 1  # the output layer goes with the last device that holds layers
        return tuple(counts)

    def lines(self) -> list[str]:
        """The plan for a person: one line per place, then the verdict."""
        out = [
            f"{self.model}: {self.layers} layers, {gb(self.weights_bytes)} of weights, "
            f"KV cache {gb(self.kv_bytes)} at {self.context:,} context"
        ]
        if self.cpu_layers:
            out.append(f"  this machine's CPU: layers 0–{self.cpu_layers - 1} ({self.cpu_layers})")
        for s in self.shares:
            where = "rpc-server" if s.remote else "this machine"
            out.append(
                f"  {s.device} ({where}, {gb(s.free_bytes)} free): {s.span} ({s.layers}), "
                f"~{gb(s.bytes)}"
            )
        out.append(self.sentence)
        return out


def _pool_reserve(m: ModelFigures, context: int, *, output: bool) -> int:
    """What a device needs besides its layers: the CUDA context and its compute buffer.

    Every device holds the attention scores of its own layers (f32, context x UBATCH x
    heads); only the device with the output layer holds the logits (vocabulary x UBATCH).
    """
    scores = UBATCH * 4 * context * m.heads
    logits = UBATCH * 4 * m.vocab if output else 0
    return CUDA_OVERHEAD + scores + logits


def _share_out(layers: int, caps: list[int]) -> list[int]:
    """``layers`` over devices that can hold ``caps`` each, in proportion to what they hold.

    Largest remainders first, never above a device's capacity (sum(caps) >= layers).
    """
    total = sum(caps)
    counts = [min(c, layers * c // total) for c in caps]
    rest = layers - sum(counts)
    order = sorted(range(len(caps)), key=lambda i: (-(layers * caps[i] % total), i))
    while rest > 0:
        for i in order:
            if rest and counts[i] < caps[i]:
                counts[i] += 1
                rest -= 1
    return counts


def plan_pool(
    m: ModelFigures,
    devices: list[PoolDevice],
    *,
    context: int,
    ram_available: int | None = None,
    layers: int | None = None,
) -> PoolPlan:
    """Split ``m``'s layers over ``devices`` by their free memory at ``context`` tokens.

    Each layer brings its share of the weights and its slice of the KV cache; each device
    keeps :func:`_pool_reserve` free. Devices take layers in proportion to how many they
    hold; what none holds stays on this machine's CPU (the first layers: llama.cpp
    offloads the last ones). ``layers`` asks for that many on the devices instead (capped
    by what they hold), as ``add-pool --gpu-layers`` does.
    """
    devices = sorted(devices, key=lambda d: not d.remote)  # llama.cpp's order: RPC first
    kv = kv_cache_bytes(m, context)
    per_layer = (m.weights_bytes + kv) / m.layers
    caps = []
    for i, d in enumerate(devices):
        reserve = _pool_reserve(m, context, output=i == len(devices) - 1)
        caps.append(max(0, int((d.free_bytes - reserve) // per_layer)))
    room = sum(caps)
    wanted = m.layers if layers is None else max(0, min(layers, m.layers))
    placed = min(room, wanted)
    counts = _share_out(placed, caps) if placed else [0] * len(devices)
    cpu = m.layers - placed
    shares, first = [], cpu
    for d, n in zip(devices, counts, strict=True):
        shares.append(PoolShare(d.name, d.free_bytes, n, first, int(n * per_layer), d.remote))
        first += n
    fits = placed == m.layers
    ctx = f"{context:,} context"
    if fits:
        sentence = f"fits pooled with {ctx}: every layer on a device."
    elif layers is not None and placed == wanted:
        sentence = f"{placed} of {m.layers} layers on the devices, as asked; the rest on the CPU."
    else:
        need = m.weights_bytes + kv
        free = sum(d.free_bytes for d in devices)
        sentence = (
            f"does not fit even pooled with {ctx}: the weights and KV cache take {gb(need)} "
            f"and each device keeps its buffers free, of {gb(free)} free in all, so the "
            f"devices hold {room} of {m.layers} layers; the first {cpu} would run on this "
            "machine's CPU (slow): choose a smaller quantization or context, or add a device."
        )
        cpu_bytes = int(cpu * per_layer)
        if ram_available is not None and cpu_bytes > ram_available:
            sentence += (
                f" Its CPU part needs {gb(cpu_bytes)} of RAM but {gb(ram_available)} is available."
            )
    return PoolPlan(
        model=m.name,
        context=context,
        layers=m.layers,
        weights_bytes=m.weights_bytes,
        kv_bytes=kv,
        shares=tuple(shares),
        cpu_layers=cpu,
        fits=fits,
        sentence=sentence,
    )


def local_pool_devices(hw: Hardware) -> list[PoolDevice]:
    """This machine's usable GPUs as pool devices."""
    return [PoolDevice(f"{g.name} (GPU {g.index})", g.free_bytes) for g in hw.usable_gpus]
