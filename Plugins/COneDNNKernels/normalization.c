#include "COneDNNKernels.h"
#include "bfloat16_bits.h"

// Batch normalisation's passes over channels-last data, and the per-channel sums behind bias
// gradients. The caller tiles its per-channel vectors over a block of rows, so every loop here
// runs over a whole `period` (that block) of contiguous elements against vectors of the same
// length, and vectorises however few channels there are. The data is float32 or bfloat16 (widened exactly as it is read); the sums are in
// double, so a large batch loses nothing to the order of its additions. Each pass is written
// once and inlined with the dtype as a constant, so that no loop holds a branch: SwiftPM builds
// C at -O2, which vectorises loops but does not unswitch them.

#define PASS static inline __attribute__((always_inline))
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

PASS float element(const void *x, const int bfloat16, ptrdiff_t index) {
    return bfloat16 ? widen(((const uint16_t *)x)[index]) : ((const float *)x)[index];
}

PASS ptrdiff_t span(ptrdiff_t count, ptrdiff_t start, ptrdiff_t period) {
    return count - start < period ? count - start : period;
}

PASS void moments(const void *x, const int bfloat16, ptrdiff_t count, ptrdiff_t period, double *sum, double *squares) {
    for (ptrdiff_t j = 0; j < period; j++) sum[j] = squares[j] = 0;
    for (ptrdiff_t start = 0; start < count; start += period) {
        ptrdiff_t length = span(count, start, period);
        for (ptrdiff_t j = 0; j < length; j++) {
            double value = element(x, bfloat16, start + j);
            sum[j] += value;
            squares[j] += value * value;
        }
    }
}

CLONES void axon_periodic_moments(const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, double *sum, double *squares) {
    if (bfloat16) moments(x, 1, count, period, sum, squares);
    else moments(x, 0, count, period, sum, squares);
}

PASS void periodic_sum(const void *x, const int bfloat16, ptrdiff_t count, ptrdiff_t period, double *sum) {
    for (ptrdiff_t j = 0; j < period; j++) sum[j] = 0;
    for (ptrdiff_t start = 0; start < count; start += period) {
        ptrdiff_t length = span(count, start, period);
        for (ptrdiff_t j = 0; j < length; j++) sum[j] += element(x, bfloat16, start + j);
    }
}

CLONES void axon_periodic_sum(const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, double *sum) {
    if (bfloat16) periodic_sum(x, 1, count, period, sum);
    else periodic_sum(x, 0, count, period, sum);
}

PASS void normalize(
    const void *x, const int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean, const float *factor, const float *offset,
    void *y, const int outputBFloat16) {
    for (ptrdiff_t start = 0; start < count; start += period) {
        ptrdiff_t length = span(count, start, period);
        for (ptrdiff_t j = 0; j < length; j++) {
            float value = (element(x, bfloat16, start + j) - mean[j]) * factor[j] + offset[j];
            if (outputBFloat16) ((uint16_t *)y)[start + j] = narrow(value);
            else ((float *)y)[start + j] = value;
        }
    }
}

CLONES void axon_periodic_normalize(
    const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean, const float *factor, const float *offset,
    void *y, int outputBFloat16) {
    if (bfloat16 && outputBFloat16) normalize(x, 1, count, period, mean, factor, offset, y, 1);
    else if (bfloat16) normalize(x, 1, count, period, mean, factor, offset, y, 0);
    else if (outputBFloat16) normalize(x, 0, count, period, mean, factor, offset, y, 1);
    else normalize(x, 0, count, period, mean, factor, offset, y, 0);
}

PASS void gradient_sums(
    const void *g, const int gradientBFloat16, const void *x, const int bfloat16, ptrdiff_t count, ptrdiff_t period,
    const float *mean, double *sum, double *dot) {
    for (ptrdiff_t j = 0; j < period; j++) sum[j] = dot[j] = 0;
    for (ptrdiff_t start = 0; start < count; start += period) {
        ptrdiff_t length = span(count, start, period);
        for (ptrdiff_t j = 0; j < length; j++) {
            double gradient = element(g, gradientBFloat16, start + j);
            sum[j] += gradient;
            dot[j] += gradient * (double)(element(x, bfloat16, start + j) - mean[j]);
        }
    }
}

CLONES void axon_periodic_gradient_sums(
    const void *g, int gradientBFloat16, const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean,
    double *sum, double *dot) {
    if (gradientBFloat16 && bfloat16) gradient_sums(g, 1, x, 1, count, period, mean, sum, dot);
    else if (gradientBFloat16) gradient_sums(g, 1, x, 0, count, period, mean, sum, dot);
    else if (bfloat16) gradient_sums(g, 0, x, 1, count, period, mean, sum, dot);
    else gradient_sums(g, 0, x, 0, count, period, mean, sum, dot);
}

PASS void input_gradient(
    const void *g, const int gradientBFloat16, const void *x, const int bfloat16, ptrdiff_t count, ptrdiff_t period,
    const float *mean, const float *factor, const float *meanGradient, const float *slope, void *dx) {
    for (ptrdiff_t start = 0; start < count; start += period) {
        ptrdiff_t length = span(count, start, period);
        for (ptrdiff_t j = 0; j < length; j++) {
            ptrdiff_t i = start + j;
            float value = factor[j] * (element(g, gradientBFloat16, i) - meanGradient[j]) - (element(x, bfloat16, i) - mean[j]) * slope[j];
            if (bfloat16) ((uint16_t *)dx)[i] = narrow(value);
            else ((float *)dx)[i] = value;
        }
    }
}

CLONES void axon_periodic_input_gradient(
    const void *g, int gradientBFloat16, const void *x, int bfloat16, ptrdiff_t count, ptrdiff_t period, const float *mean,
    const float *factor, const float *meanGradient, const float *slope, void *dx) {
    if (gradientBFloat16 && bfloat16) input_gradient(g, 1, x, 1, count, period, mean, factor, meanGradient, slope, dx);
    else if (gradientBFloat16) input_gradient(g, 1, x, 0, count, period, mean, factor, meanGradient, slope, dx);
    else if (bfloat16) input_gradient(g, 0, x, 1, count, period, mean, factor, meanGradient, slope, dx);
    else input_gradient(g, 0, x, 0, count, period, mean, factor, meanGradient, slope, dx);
}
