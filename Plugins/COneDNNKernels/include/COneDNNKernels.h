#ifndef CONEDNNKERNELS_H
#define CONEDNNKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// One Adam step over `count` elements: reads the parameter `p`, gradient `g` and moments
/// `m`, `v`; writes the new parameter and moments to `np`, `nm`, `nv`. `c1` and `c2` are the
/// reciprocals of the bias corrections. The arithmetic is the reference backend's, operation
/// by operation (no contraction into fused multiply-adds), in the widest vectors the CPU has.
void axon_adam_update(
    const float *p, const float *g, const float *m, const float *v, float *np, float *nm, float *nv, ptrdiff_t count,
    float beta1, float beta2, float epsilon, float learningRate, float weightDecay, float c1, float c2);

/// Rounds `count` floats (given by their bits) to bfloat16, to nearest with ties to even; a NaN
/// stays NaN, quiet, with its sign.
void axon_bfloat16_from_float(const uint32_t *x, uint16_t *y, ptrdiff_t count);

/// Widens `count` bfloat16 values to floats (given by their bits), exactly.
void axon_float_from_bfloat16(const uint16_t *x, uint32_t *y, ptrdiff_t count);

/// The transcendental functions `axon_vector_function` computes.
typedef enum AxonVectorFunction {
    AxonVectorExp,
    AxonVectorExpm1,
    AxonVectorLog,
    AxonVectorLog1p,
    AxonVectorTanh,
    AxonVectorErf,
    AxonVectorSigmoid,
} AxonVectorFunction;

/// `function` of each of `count` floats, with glibc's vector math library in the widest vectors
/// the CPU has (AVX-512 or AVX2; scalar libm otherwise). Each element's result depends on its
/// value alone, not on its position or on `count`.
void axon_vector_function(AxonVectorFunction function, const float *x, float *y, ptrdiff_t count);

#endif
