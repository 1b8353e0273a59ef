"""Fit on given hardware, checked against arithmetic written out here."""

from __future__ import annotations

import pytest

from codenook.engine import fit as fit_module
from codenook.engine.catalog import load_catalog
from codenook.engine.embedded import embedded_model_path
from codenook.engine.fit import (
    ModelFigures,
    PoolDevice,
    compute_buffer_bytes,
    figures_from_metadata,
    kv_cache_bytes,
    plan,
    plan_pool,
)
from codenook.engine.gguf_meta import read_metadata
from codenook.engine.hardware import Gpu, Hardware

MIB, GIB = 1024**2, 1024**3
OVERHEAD = 350 * MIB  # CUDA context etc. (fit.CUDA_OVERHEAD) = 367,001,600 bytes


def figures(spec: str) -> ModelFigures:
    choice = load_catalog().resolve(spec)
    e = choice.entry
    return ModelFigures(
        choice.spec,
        choice.quant.size,
        e.layers,
        e.kv_heads,
        e.head_dim,
        e.heads,
        e.vocab,
        e.params,
        e.context,
    )


def machine(*gpus: Gpu, cores: int = 12, ram: int = 32 * 10**9, offload: bool = True) -> Hardware:
    return Hardware(gpus, ram, ram - 4 * 10**9, cores, offload, "nvml" if gpus else "none")


# The target desktop: RTX 4060, 8 GB, 272 GB/s; a desktop session leaves 7.5 GiB free.
RTX4060 = Gpu(0, "NVIDIA GeForce RTX 4060", 8188 * MIB, int(7.5 * GIB), 272.0)
# The second machine: GTX 1050 Ti, 4 GB, 112 GB/s; headless, 4,000 MiB free.
GTX1050TI = Gpu(0, "NVIDIA GeForce GTX 1050 Ti", 4096 * MIB, 4000 * MIB, 112.0)


def test_overhead_constant_is_what_the_arithmetic_below_assumes() -> None:
    assert fit_module.CUDA_OVERHEAD == OVERHEAD == 367_001_600
    assert fit_module.UBATCH == 512


def test_mistral_q4_k_m_8gb_8192_context_all_layers_on_gpu() -> None:
    m = figures("mistral-7b-instruct-v0.2")  # 4.37 GB, 32 layers, 8 KV heads of 128
    # KV cache: 2 x 32 layers x 8,192 x 8 heads x 128 x 2 bytes = 1,073,741,824 (1 GiB)
    assert kv_cache_bytes(m, 8192) == 2 * 32 * 8192 * 8 * 128 * 2 == 1_073_741_824
    # Compute buffer: 512 x 4 x (32,000 vocab + 8,192 x 32 heads) = 602,406,912
    assert compute_buffer_bytes(m, 8192) == 512 * 4 * (32000 + 8192 * 32) == 602_406_912
    # Total: 4,370,000,000 + 1,073,741,824 + 602,406,912 + 367,001,600 = 6,413,150,336
    # which is below 7.5 GiB = 8,053,063,680 free: every layer goes on the GPU.
    f = plan(m, machine(RTX4060), context=8192)
    assert f.gpu_layers == -1 and f.mode == "gpu" and f.layers_on_gpu == 32
    assert f.gpu_bytes == 6_413_150_336
    # Speed: 272 GB/s / 4.37 GB = 62.2 tokens/s at most; 72-88 % of it is 44.8-54.8.
    low, high = f.tokens_per_second
    assert low == pytest.approx(272 / 4.37 * 0.72) and high == pytest.approx(272 / 4.37 * 0.88)
    assert f.sentence == (
        "fits fully on the NVIDIA GeForce RTX 4060 with 8,192 context (6.4 GB of 8.1 GB free); "
        "about 45–55 tokens/s"
    )


def test_codellama_q8_0_8gb_4096_context_partial_offload() -> None:
    m = figures("codellama-7b-instruct:Q8_0")  # 7.16 GB, 32 layers, 32 KV heads of 128
    # KV: 2 x 32 x 4,096 x 32 x 128 x 2 = 2,147,483,648; compute: 512 x 4 x (32,016 +
    # 4,096 x 32) = 334,004,224. All: 7,160,000,000 + 2,147,483,648 + 334,004,224 +
    # 367,001,600 = 10,008,489,472 > 8,053,063,680 free.
    # Per layer: (7,160,000,000 + 2,147,483,648) / 32 = 290,858,864.
    # Room: 8,053,063,680 - 367,001,600 - 334,004,224 = 7,352,057,856 -> 25.28 -> 25 layers.
    f = plan(m, machine(RTX4060), context=4096)
    assert f.gpu_layers == 25 and f.mode == "partial"
    assert f.sentence.startswith(
        "25 of 32 layers on the NVIDIA GeForce RTX 4060 with 4,096 context (all would need "
        "10.0 GB, 8.1 GB is free), the rest on the CPU: expect ~"
    )
    # The 7 CPU layers are slower than the 25 GPU ones: well below the full-GPU speed.
    assert f.tokens_per_second[1] < 272 / 7.16 * 0.88


def test_gtx_1050_ti_4gb_takes_22_layers_of_mistral() -> None:
    m = figures("mistral-7b-instruct-v0.2")
    # KV at 4,096: 536,870,912; compute: 512 x 4 x (32,000 + 4,096 x 32) = 333,971,456.
    # All: 4,370,000,000 + 536,870,912 + 333,971,456 + 367,001,600 = 5,607,843,968 > 4,000 MiB.
    # Per layer: (4,370,000,000 + 536,870,912) / 32 = 153,339,716.
    # Room: 4,194,304,000 - 367,001,600 - 333,971,456 = 3,493,330,944 -> 22.78 -> 22 layers.
    f = plan(m, machine(GTX1050TI), context=4096)
    assert f.gpu_layers == 22
    assert f.sentence.startswith("22 of 32 layers on the NVIDIA GeForce GTX 1050 Ti")


def test_no_gpu_runs_on_the_cpu_with_a_speed_from_memory_bandwidth() -> None:
    m = figures("mistral-7b-instruct-v0.2")
    hw = machine(cores=12)
    f = plan(m, hw, context=4096)
    assert f.gpu_layers == 0 and f.mode == "cpu" and f.device == "CPU"
    # RAM bandwidth bound: 4.37 GB / 40 GB/s = 0.10925 s a token. Core bound: 7.24e9
    # parameters / (12 cores x 5,380,600,320 parameters/s, from SmolLM2's 80 tokens/s on 2
    # cores) = 0.11213 s. The slower wins: 8.92 tokens/s, 72-88 % of it: 6.4-7.8.
    by_ram = 4.37e9 / 40e9
    by_cores = 7.24e9 / (12 * (80 * 134_515_008 / 2))
    best = 1 / max(by_ram, by_cores)
    assert f.tokens_per_second == pytest.approx((best * 0.72, best * 0.88))
    assert "runs on the CPU with 4,096 context: no NVIDIA GPU" in f.sentence
    assert "about 6.4–7.8 tokens/s (12 cores" in f.sentence


def test_cpu_only_build_says_so_even_with_a_gpu() -> None:
    f = plan(figures("mistral-7b-instruct-v0.2"), machine(RTX4060, offload=False), context=4096)
    assert f.gpu_layers == 0
    assert "cannot use the NVIDIA GeForce RTX 4060 (CPU-only build)" in f.sentence


def test_a_gpu_too_small_for_one_layer() -> None:
    tiny = Gpu(0, "Tiny GPU", 1024 * MIB, 500 * MIB, 100.0)
    f = plan(figures("mistral-7b-instruct-v0.2"), machine(tiny), context=4096)
    assert f.gpu_layers == 0 and "not one layer fits in the 524 MB free" in f.sentence


def test_too_little_ram_warns_of_swapping() -> None:
    f = plan(figures("codellama-7b:Q8_0"), machine(ram=8 * 10**9), context=4096)
    assert "expect swapping" in f.sentence


def test_estimates_cover_what_llama_cpp_measured_for_the_embedded_model() -> None:
    m = figures_from_metadata(read_metadata(embedded_model_path()))
    assert (m.layers, m.kv_heads, m.head_dim, m.heads, m.vocab) == (30, 3, 64, 9, 49152)
    # llama.cpp reported "KV buffer size = 45.00 MiB" at 2,048 and 180.00 MiB at 8,192.
    assert kv_cache_bytes(m, 2048) == 45 * MIB
    assert kv_cache_bytes(m, 8192) == 180 * MIB
    # And "compute buffer size = 99.38 MiB" at 2,048, 166.38 MiB at 8,192 (flash attention
    # off, as codenook runs): the estimate covers both without doubling them.
    for context, measured in ((2048, 99.38 * MIB), (8192, 166.38 * MIB)):
        estimate = compute_buffer_bytes(m, context)
        assert measured <= estimate <= 2 * measured


def test_short_text_for_tables() -> None:
    assert plan(figures("mistral-7b-instruct-v0.2"), machine(RTX4060), context=8192).short == (
        "GPU, all 32 layers, ~45–55 tokens/s"
    )
    assert plan(figures("codellama-7b:Q8_0"), machine(RTX4060), context=4096).short.startswith(
        "GPU 25/32 layers, ~"
    )


# -- pooled models: layers over this machine's GPU and an rpc-server's ------------------------

# Qwen2.5-Coder-14B-Instruct (config.json): 48 layers, 40 heads, 8 KV heads of 128, a
# 152,064-token vocabulary; its Q4_K_M file is 8.99 GB.
QWEN14B = ModelFigures(
    "qwen2.5-coder-14b-instruct:Q4_K_M", 8_990_000_000, 48, 8, 128, 40, 152_064, 14_770_000_000
)
# Qwen2.5-Coder-32B-Instruct: 64 layers, 40 heads, 8 KV heads of 128; Q4_K_M 19.85 GB.
QWEN32B = ModelFigures(
    "qwen2.5-coder-32b-instruct:Q4_K_M", 19_850_000_000, 64, 8, 128, 40, 152_064, 32_760_000_000
)
# The pair: the RTX 4060 here (7.5 GiB free), the GTX 1050 Ti behind an rpc-server
# (4,000 MiB free, as its GET_DEVICE_MEMORY reports).
HERE = PoolDevice("NVIDIA GeForce RTX 4060 (GPU 0)", int(7.5 * GIB))
THERE = PoolDevice("192.168.1.20:50052", 4000 * MIB, remote=True)


def test_pool_14b_q4_k_m_8k_on_8gb_plus_4gb_all_but_four_layers_on_the_cards() -> None:
    # KV: 2 x 48 x 8,192 x 8 x 128 x 2 = 1,610,612,736.
    # Per layer: (8,990,000,000 + 1,610,612,736) / 48 = 220,846,098.67.
    # Each device keeps the CUDA context (367,001,600) and its attention scores free:
    # 512 x 4 x 8,192 x 40 heads = 671,088,640 -> 1,038,090,240 on the rpc-server;
    # the device with the output layer (the last: this GPU) the logits too, 512 x 4 x
    # 152,064 = 311,427,072 -> 1,349,517,312.
    # rpc-server: (4,194,304,000 - 1,038,090,240) / 220,846,098.67 = 14.29 -> 14 layers.
    # RTX 4060:  (8,053,063,680 - 1,349,517,312) / 220,846,098.67 = 30.35 -> 30 layers.
    # 44 of 48: the first 4 stay on the CPU (llama.cpp offloads the last layers), the
    # rpc-server comes first in llama.cpp's device order: layers 4-17, this GPU 18-47.
    p = plan_pool(QWEN14B, [HERE, THERE], context=8192)
    assert p.kv_bytes == 1_610_612_736
    assert [(s.device, s.layers, s.first) for s in p.shares] == [
        ("192.168.1.20:50052", 14, 4),
        ("NVIDIA GeForce RTX 4060 (GPU 0)", 30, 18),
    ]
    assert p.cpu_layers == 4 and not p.fits
    # llama-server: -ngl counts the output layer, which goes with the last device.
    assert p.gpu_layers == 45 and p.tensor_split == (14, 31)
    assert p.shares[0].span == "layers 4–17" and p.shares[1].span == "layers 18–47"
    assert p.shares[0].bytes == int(14 * 10_600_612_736 / 48) == 3_091_845_381
    assert "does not fit even pooled with 8,192 context" in p.sentence
    assert "the devices hold 44 of 48 layers; the first 4 would run on this" in p.sentence


def test_pool_14b_q4_k_m_4k_on_8gb_plus_4gb_fits_in_proportion() -> None:
    # KV: 805,306,368; per layer (8,990,000,000 + 805,306,368) / 48 = 204,068,882.67.
    # Reserves: scores 512 x 4 x 4,096 x 40 = 335,544,320 -> 702,545,920 there and
    # 1,013,972,992 here. Capacity: 3,491,758,080 / 204,068,882.67 = 17.1 -> 17 there,
    # 7,039,090,688 / 204,068,882.67 = 34.5 -> 34 here: 51 >= 48, so all 48 go, in
    # proportion 17 : 34: 48 x 17 // 51 = 16 there, 48 x 34 // 51 = 32 here.
    p = plan_pool(QWEN14B, [HERE, THERE], context=4096)
    assert p.fits and p.cpu_layers == 0
    assert [(s.layers, s.first) for s in p.shares] == [(16, 0), (32, 16)]
    assert p.gpu_layers == 49 and p.tensor_split == (16, 33)
    assert p.sentence == "fits pooled with 4,096 context: every layer on a device."
    assert p.lines()[1:3] == [
        "  192.168.1.20:50052 (rpc-server, 4.2 GB free): layers 0–15 (16), ~3.3 GB",
        "  NVIDIA GeForce RTX 4060 (GPU 0) (this machine, 8.1 GB free): layers 16–47 (32), ~6.5 GB",
    ]


def test_pool_32b_does_not_fit_even_pooled() -> None:
    # KV: 2 x 64 x 8,192 x 8 x 128 x 2 = 2,147,483,648; per layer (19,850,000,000 +
    # 2,147,483,648) / 64 = 343,710,682. Capacity with the 8k reserves above:
    # 3,156,213,760 / 343,710,682 = 9.2 -> 9 there, 6,703,546,368 / 343,710,682 = 19.5 ->
    # 19 here: 28 of 64 layers, 36 on the CPU.
    p = plan_pool(QWEN32B, [HERE, THERE], context=8192, ram_available=28 * 10**9)
    assert not p.fits
    assert [s.layers for s in p.shares] == [9, 19] and p.cpu_layers == 36
    assert "does not fit even pooled" in p.sentence and "36 would run" in p.sentence
    # Its CPU part (36 x 343,710,682 = 12.4 GB) fits in RAM, so no swapping clause; with
    # 10 GB available there is one.
    assert "RAM" not in p.sentence
    low_ram = plan_pool(QWEN32B, [HERE, THERE], context=8192, ram_available=10 * 10**9)
    assert "needs 12.4 GB of RAM but 10.0 GB is available" in low_ram.sentence


def test_pool_half_the_layers_on_one_rpc_device_as_asked() -> None:
    m = figures_from_metadata(read_metadata(embedded_model_path()))  # SmolLM2-135M: 30 layers
    cpu_rpc = PoolDevice("127.0.0.1:50052", 8 * GIB, remote=True)
    p = plan_pool(m, [cpu_rpc], context=2048, layers=15)
    assert p.cpu_layers == 15 and p.shares[0].layers == 15 and p.shares[0].first == 15
    assert p.gpu_layers == 16 and p.tensor_split == (16,)
    # Unasked, everything fits there.
    assert plan_pool(m, [cpu_rpc], context=2048).fits
