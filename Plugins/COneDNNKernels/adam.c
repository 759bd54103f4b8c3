#include "COneDNNKernels.h"

// Written in C rather than Swift because Swift's square root is a scalar call with an errno
// check on every lane; clang's elementwise builtin is the vector instruction, and the
// target clones pick AVX-512 or AVX2 on the CPU at hand. Contraction stays off so every lane
// rounds exactly as the reference backend does.
#pragma clang fp contract(off)

typedef float Lanes __attribute__((ext_vector_type(16)));

// Unaligned loads and stores as macros: a function taking or returning a vector would have
// a different calling convention in each target clone.
#define LOAD(name, address) Lanes name; __builtin_memcpy(&name, (address), sizeof name)
#define STORE(address, value) do { Lanes stored = (value); __builtin_memcpy((address), &stored, sizeof stored); } while (0)

__attribute__((target_clones("avx512f", "avx2", "default")))
void axon_adam_update(
    const float *p, const float *g, const float *m, const float *v, float *np, float *nm, float *nv, ptrdiff_t count,
    float beta1, float beta2, float epsilon, float learningRate, float weightDecay, float c1, float c2) {
    const ptrdiff_t width = sizeof(Lanes) / sizeof(float);
    ptrdiff_t i = 0;
    for (; i + width <= count; i += width) {
        LOAD(gi, g + i);
        LOAD(pi, p + i);
        LOAD(mo, m + i);
        LOAD(vo, v + i);
        Lanes mi = mo * beta1 + gi * (1 - beta1);
        Lanes vi = vo * beta2 + gi * gi * (1 - beta2);
        Lanes direction = (mi * c1) / (__builtin_elementwise_sqrt(vi * c2) + epsilon) + pi * weightDecay;
        STORE(np + i, pi - direction * learningRate);
        STORE(nm + i, mi);
        STORE(nv + i, vi);
    }
    for (; i < count; i++) {
        float mi = m[i] * beta1 + g[i] * (1 - beta1);
        float vi = v[i] * beta2 + g[i] * g[i] * (1 - beta2);
        float direction = (mi * c1) / (__builtin_elementwise_sqrt(vi * c2) + epsilon) + p[i] * weightDecay;
        np[i] = p[i] - direction * learningRate;
        nm[i] = mi;
        nv[i] = vi;
    }
}
