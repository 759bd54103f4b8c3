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

/// relu of `count` bfloat16 values (given by their bits): `x < 0 ? 0 : x`, NaN kept (quiet).
void axon_bfloat16_relu(const uint16_t *x, uint16_t *y, ptrdiff_t count);

/// relu's gradient on bfloat16 bits: `y > 0 ? g : 0` from relu's outputs `y`, NaN kept (quiet).
void axon_bfloat16_relu_backward(const uint16_t *y, const uint16_t *g, uint16_t *out, ptrdiff_t count);

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

// Batch normalisation over channels-last data (normalization.c). Each pass reads `count`
// elements as consecutive periods of `period` (a block of whole rows; the last period may be
// short); the per-channel vectors are tiled over one period. `x` is float32, or bfloat16 when
// `bfloat16` is nonzero (widened exactly).

/// Per-position sums of x over the periods, in double: `sum[j] = Σₖ x[k·period + j]`.
void axon_periodic_sum(const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, double *sum);

/// Per-position sums of x and x² over the periods, in double: `sum[j] = Σₖ x[k·period + j]`.
void axon_periodic_moments(const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, double *sum, double *squares);

/// `y = (x − mean) · factor + offset`, computed in float32 and written as float32, or rounded to
/// bfloat16 (to nearest, ties to even) when `outputBFloat16` is nonzero.
void axon_periodic_normalize(
    const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean, const float *factor, const float *offset,
    void *y, int outputBFloat16);

/// Per-position sums of g and g · (x − mean) over the periods, in double. `g` is float32, or
/// bfloat16 when `gradientBFloat16` is nonzero.
void axon_periodic_gradient_sums(
    const void *g, int gradientBFloat16, const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean,
    double *sum, double *dot);

/// `dx = factor · (g − meanGradient) − (x − mean) · slope`, in x's dtype (rounded to bfloat16
/// to nearest, ties to even, when x is bfloat16); `g` as for `axon_periodic_gradient_sums`.
void axon_periodic_input_gradient(
    const void *g, int gradientBFloat16, const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean,
    const float *factor, const float *meanGradient, const float *slope, void *dx);

// Inverted dropout (dropout.c). `x`, `y`, `g` and `dx` are float32, or bfloat16 when `bfloat16`
// is nonzero (computed in float32 and rounded to nearest, ties to even); masks are bytes, 0 or 1.

/// Element `i` is kept (`mask[i] = 1`, `y[i] = x[i] · scale`) where word `offset + i` of the
/// Philox-4x32-10 stream of the key (`key0`, `key1`) is below `threshold`, and is 0 otherwise.
void axon_dropout(
    const void *x, int bfloat16, ptrdiff_t count, uint32_t key0, uint32_t key1, uint64_t offset, uint32_t threshold,
    float scale, void *y, uint8_t *mask);

/// Dropout's gradient: `dx[i] = mask[i] ? g[i] · scale : 0`.
void axon_dropout_backward(const void *g, int bfloat16, const uint8_t *mask, ptrdiff_t count, float scale, void *dx);

#endif
