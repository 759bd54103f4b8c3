#include "COneDNNKernels.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

// glibc's vector math library (libmvec, 1–4 ulp): the AVX-512 ('e', 16 lanes) and AVX2
// ('d', 8 lanes) variants of the scalar functions, under their vector-ABI names.
#define VECTOR_FUNCTIONS(name)                                                                     \
    __attribute__((target("avx512f"))) __m512 _ZGVeN16v_##name(__m512);                            \
    __attribute__((target("avx2"))) __m256 _ZGVdN8v_##name(__m256);
VECTOR_FUNCTIONS(expf)
VECTOR_FUNCTIONS(expm1f)
VECTOR_FUNCTIONS(logf)
VECTOR_FUNCTIONS(log1pf)
VECTOR_FUNCTIONS(tanhf)
VECTOR_FUNCTIONS(erff)

// Every element goes through the same vector function wherever it sits: a tail is padded to a
// whole vector rather than left to the scalar function, so a value's bits do not depend on its
// position (a fused pass over tiles equals a pass over the whole buffer).

__attribute__((target("avx512f"))) static __m512 apply16(AxonVectorFunction function, __m512 x) {
    switch (function) {
    case AxonVectorExp: return _ZGVeN16v_expf(x);
    case AxonVectorExpm1: return _ZGVeN16v_expm1f(x);
    case AxonVectorLog: return _ZGVeN16v_logf(x);
    case AxonVectorLog1p: return _ZGVeN16v_log1pf(x);
    case AxonVectorTanh: return _ZGVeN16v_tanhf(x);
    case AxonVectorErf: return _ZGVeN16v_erff(x);
    case AxonVectorSigmoid: {
        // As the reference: 1 / (1 + e) for x ≥ 0, e / (1 + e) otherwise, with e = exp(−|x|).
        __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
        __m512 denominator = _mm512_add_ps(_mm512_set1_ps(1), e);
        __mmask16 nonNegative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
        return _mm512_div_ps(_mm512_mask_blend_ps(nonNegative, e, _mm512_set1_ps(1)), denominator);
    }
    }
    return x;
}

__attribute__((target("avx2"))) static __m256 apply8(AxonVectorFunction function, __m256 x) {
    switch (function) {
    case AxonVectorExp: return _ZGVdN8v_expf(x);
    case AxonVectorExpm1: return _ZGVdN8v_expm1f(x);
    case AxonVectorLog: return _ZGVdN8v_logf(x);
    case AxonVectorLog1p: return _ZGVdN8v_log1pf(x);
    case AxonVectorTanh: return _ZGVdN8v_tanhf(x);
    case AxonVectorErf: return _ZGVdN8v_erff(x);
    case AxonVectorSigmoid: {
        __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(_mm256_setzero_ps(), magnitude));
        __m256 denominator = _mm256_add_ps(_mm256_set1_ps(1), e);
        __m256 nonNegative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
        return _mm256_div_ps(_mm256_blendv_ps(e, _mm256_set1_ps(1), nonNegative), denominator);
    }
    }
    return x;
}

static float apply1(AxonVectorFunction function, float x) {
    switch (function) {
    case AxonVectorExp: return expf(x);
    case AxonVectorExpm1: return expm1f(x);
    case AxonVectorLog: return logf(x);
    case AxonVectorLog1p: return log1pf(x);
    case AxonVectorTanh: return tanhf(x);
    case AxonVectorErf: return erff(x);
    case AxonVectorSigmoid: return x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x));
    }
    return x;
}

__attribute__((target("avx512f"))) static void run16(AxonVectorFunction function, const float *x, float *y, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i += 16) {
        ptrdiff_t n = count - i < 16 ? count - i : 16;
        __mmask16 lanes = (__mmask16)((1u << n) - 1);
        _mm512_mask_storeu_ps(y + i, lanes, apply16(function, _mm512_maskz_loadu_ps(lanes, x + i)));
    }
}

__attribute__((target("avx2"))) static void run8(AxonVectorFunction function, const float *x, float *y, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, apply8(function, _mm256_loadu_ps(x + i)));
    if (i < count) {
        float padded[8] = {0};
        memcpy(padded, x + i, (size_t)(count - i) * sizeof(float));
        _mm256_storeu_ps(padded, apply8(function, _mm256_loadu_ps(padded)));
        memcpy(y + i, padded, (size_t)(count - i) * sizeof(float));
    }
}

void axon_vector_function(AxonVectorFunction function, const float *x, float *y, ptrdiff_t count) {
    if (__builtin_cpu_supports("avx512f")) {
        run16(function, x, y, count);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        run8(function, x, y, count);
    } else {
        for (ptrdiff_t i = 0; i < count; i++) y[i] = apply1(function, x[i]);
    }
}
