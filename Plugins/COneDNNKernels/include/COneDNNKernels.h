#ifndef CONEDNNKERNELS_H
#define CONEDNNKERNELS_H

#include <stddef.h>

/// One Adam step over `count` elements: reads the parameter `p`, gradient `g` and moments
/// `m`, `v`; writes the new parameter and moments to `np`, `nm`, `nv`. `c1` and `c2` are the
/// reciprocals of the bias corrections. The arithmetic is the reference backend's, operation
/// by operation (no contraction into fused multiply-adds), in the widest vectors the CPU has.
void axon_adam_update(
    const float *p, const float *g, const float *m, const float *v, float *np, float *nm, float *nv, ptrdiff_t count,
    float beta1, float beta2, float epsilon, float learningRate, float weightDecay, float c1, float c2);

#endif
