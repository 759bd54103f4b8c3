#include "CPeak.h"

// The machine's float32 multiply-add peak, the ceiling every GFLOPS figure of the benchmarks is
// set against: twelve independent chains hide the latency of the fused multiply-add on the
// vector units of every x86 core we know (latency 4–5 cycles, two units). Cloned per
// instruction set as the oneDNN backend's kernels are; the fallback clones have no fused
// multiply-add and measure separate multiplies and adds.

typedef float lanes __attribute__((vector_size(64)));

__attribute__((target_clones("avx512f", "avx2", "default")))
float axon_multiply_add_chains(long iterations) {
#pragma clang fp contract(fast)
    lanes chains[12];
    for (int i = 0; i < 12; i++) chains[i] = (lanes){0} + (float)i * 0.001f;
    const lanes factor = (lanes){0} + 0.9999f, term = (lanes){0} + 0.0001f;
    for (long k = 0; k < iterations; k++) {
        for (int i = 0; i < 12; i++) chains[i] = chains[i] * factor + term;
    }
    float sum = 0;
    for (int i = 0; i < 12; i++) {
        for (int lane = 0; lane < 16; lane++) sum += chains[i][lane];
    }
    return sum;
}
