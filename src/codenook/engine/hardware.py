"""What this machine offers a model: NVIDIA GPUs and their free memory, RAM, CPU cores,
and whether this llama.cpp build can use a GPU at all.

No GPU, no NVIDIA driver and a CPU-only build are ordinary answers, each with a reason.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import psutil

log = logging.getLogger(__name__)

NVIDIA_SMI_QUERY = [
    "nvidia-smi",
    "--query-gpu=name,memory.total,memory.free",
    "--format=csv,noheader,nounits",
]
MIB = 1024 * 1024

# Memory bandwidth in GB/s for GPUs nvidia-smi names (it cannot report the bus width);
# NVML computes it from bus width and memory clock instead. Longest names first.
KNOWN_BANDWIDTH = {
    "RTX 4090": 1008.0,
    "RTX 4080 SUPER": 736.0,
    "RTX 4080": 717.0,
    "RTX 4070 Ti SUPER": 672.0,
    "RTX 4070 Ti": 504.0,
    "RTX 4070 SUPER": 504.0,
    "RTX 4070": 504.0,
    "RTX 4060 Ti": 288.0,
    "RTX 4060": 272.0,
    "RTX 3090 Ti": 1008.0,
    "RTX 3090": 936.0,
    "RTX 3080 Ti": 912.0,
    "RTX 3080": 760.0,
    "RTX 3070 Ti": 608.0,
    "RTX 3070": 448.0,
    "RTX 3060 Ti": 448.0,
    "RTX 3060": 360.0,
    "RTX 3050": 224.0,
    "RTX 2080 Ti": 616.0,
    "RTX 2080": 448.0,
    "RTX 2070": 448.0,
    "RTX 2060": 336.0,
    "GTX 1660 Ti": 288.0,
    "GTX 1660": 192.0,
    "GTX 1080 Ti": 484.0,
    "GTX 1080": 320.0,
    "GTX 1070": 256.0,
    "GTX 1060": 192.0,
    "GTX 1050 Ti": 112.0,
    "GTX 1050": 112.0,
    "A100": 1555.0,
    "H100": 3350.0,
    "H200": 4800.0,
    "L4": 300.0,
    "T4": 320.0,
}


@dataclass(frozen=True)
class Gpu:
    """One NVIDIA GPU."""

    index: int
    name: str
    total_bytes: int
    free_bytes: int
    #: Memory bandwidth in GB/s, where known.
    bandwidth_gbs: float | None = None


@dataclass(frozen=True)
class Hardware:
    """The machine as a model sees it."""

    gpus: tuple[Gpu, ...]
    ram_total_bytes: int
    ram_available_bytes: int
    physical_cores: int
    #: Whether this llama-cpp-python build was compiled with GPU offload.
    gpu_offload: bool
    #: How the GPUs were found: "nvml", "nvidia-smi" or "none".
    gpu_source: str = "none"
    #: Why no GPU was found (or why it cannot be used), for the user.
    gpu_note: str = ""
    warnings: tuple[str, ...] = field(default=())

    @property
    def usable_gpus(self) -> tuple[Gpu, ...]:
        """GPUs llama.cpp can put layers on (none on a CPU-only build)."""
        return self.gpus if self.gpu_offload else ()

    @property
    def gpu_free_bytes(self) -> int:
        """Free memory of all usable GPUs together (llama.cpp splits layers across them)."""
        return sum(g.free_bytes for g in self.usable_gpus)

    def describe(self) -> list[str]:
        """Lines for a person: each GPU, RAM, cores and the build."""
        lines = []
        for g in self.gpus:
            bw = f", {g.bandwidth_gbs:.0f} GB/s" if g.bandwidth_gbs else ""
            lines.append(
                f"GPU {g.index}: {g.name}, {gb(g.free_bytes)} free of {gb(g.total_bytes)}{bw} "
                f"(via {self.gpu_source})"
            )
        if not self.gpus:
            lines.append(f"GPU: none ({self.gpu_note or 'no NVIDIA GPU found'})")
        lines.append(f"RAM: {gb(self.ram_available_bytes)} available of {gb(self.ram_total_bytes)}")
        lines.append(f"CPU: {self.physical_cores} physical cores")
        if self.gpu_offload:
            lines.append("llama.cpp: built with GPU offload")
        else:
            lines.append("llama.cpp: CPU-only build (no layers can go on a GPU)")
        lines.extend(self.warnings)
        return lines


def gb(n: int | float) -> str:
    """Bytes in decimal units as disk and GPU makers count: "4.4 GB", below 1 GB "98 MB"."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def known_bandwidth(name: str) -> float | None:
    """Memory bandwidth (GB/s) of a GPU by its name, from a table of common ones."""
    upper = name.upper()
    for model in sorted(KNOWN_BANDWIDTH, key=len, reverse=True):
        if re.search(rf"\b{re.escape(model.upper())}\b", upper):
            return KNOWN_BANDWIDTH[model]
    return None


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """GPUs from ``nvidia-smi --query-gpu=name,memory.total,memory.free`` CSV (MiB, no units)."""
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            raise ValueError(f"unexpected nvidia-smi line: {line!r}")
        name, total, free = parts
        try:
            total_b, free_b = int(float(total) * MIB), int(float(free) * MIB)
        except ValueError:
            # "[N/A]" for memory on some boards: the GPU exists but cannot be planned for.
            log.info("nvidia-smi reports no memory figures for %s", name)
            continue
        gpus.append(Gpu(len(gpus), name, total_b, free_b, known_bandwidth(name)))
    return gpus


def nvml_bandwidth(bus_width_bits: int, memory_clock_mhz: int) -> float:
    """GB/s from NVML's memory bus width and maximum memory clock (double data rate)."""
    return bus_width_bits / 8 * memory_clock_mhz * 1e6 * 2 / 1e9


def gpus_from_nvml() -> tuple[list[Gpu], str]:
    """GPUs through NVML, or an empty list and the reason NVML could not answer."""
    try:
        import pynvml
    except ImportError:
        return [], "the nvidia-ml-py package is missing"
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return [], f"NVML unavailable: {exc}"
    try:
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            name = name.decode() if isinstance(name, bytes) else str(name)
            mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                bandwidth: float | None = nvml_bandwidth(
                    pynvml.nvmlDeviceGetMemoryBusWidth(handle),
                    pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM),
                )
            except pynvml.NVMLError:
                bandwidth = known_bandwidth(name)
            gpus.append(Gpu(i, name, int(mem.total), int(mem.free), bandwidth or None))
        return gpus, ""
    except pynvml.NVMLError as exc:
        return [], f"NVML error: {exc}"
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def gpus_from_nvidia_smi(*, timeout: float = 10.0) -> tuple[list[Gpu], str]:
    """GPUs through the ``nvidia-smi`` command, or an empty list and the reason."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return [], "nvidia-smi not found"
    try:
        proc = subprocess.run(
            [exe, *NVIDIA_SMI_QUERY[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"nvidia-smi failed: {exc}"
    if proc.returncode != 0:
        first = (proc.stderr or proc.stdout).strip().splitlines()
        return [], f"nvidia-smi failed: {first[0] if first else f'exit {proc.returncode}'}"
    try:
        return parse_nvidia_smi(proc.stdout), ""
    except ValueError as exc:
        return [], str(exc)


def gpu_offload_supported() -> bool:
    """Whether this llama-cpp-python build can put layers on a GPU."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def detect() -> Hardware:
    """Look at this machine now (free memory changes, so nothing is cached)."""
    gpus, why = gpus_from_nvml()
    source = "nvml" if gpus else "none"
    if not gpus:
        smi, smi_why = gpus_from_nvidia_smi()
        if smi:
            gpus, source = smi, "nvidia-smi"
        else:
            why = f"{why}; {smi_why}" if smi_why else why
    offload = gpu_offload_supported()
    warnings = []
    if gpus and not offload:
        warnings.append(
            f"Warning: {gpus[0].name} is present but this llama-cpp-python was built without "
            "GPU support, so models run on the CPU. Rebuild it with CUDA: `make clean setup` "
            "on this machine with the CUDA toolkit (nvcc) installed."
        )
    vm = psutil.virtual_memory()
    return Hardware(
        gpus=tuple(gpus),
        ram_total_bytes=int(vm.total),
        ram_available_bytes=int(vm.available),
        physical_cores=psutil.cpu_count(logical=False) or psutil.cpu_count() or 1,
        gpu_offload=offload,
        gpu_source=source,
        gpu_note="" if gpus else why,
        warnings=tuple(warnings),
    )
