// Float functions GLSL lacks, or whose built-in form loses accuracy or overflows. The Vulkan
// specification lets a driver's sin and cos be off by 2⁻¹¹ in absolute terms, far outside the
// elementwise tolerance, so they are computed here to about an ulp on any device.

// x − k·π/2 for the nearest integer k, in three parts (Cody–Waite) so the reduction stays exact
// for |x| up to several thousand; `quadrant` is k mod 4.
float reduceQuarterTurns(float x, out int quadrant) {
    float k = roundEven(x * 0.63661977236758134);
    quadrant = int(k - 4.0 * floor(k * 0.25));
    float r = fma(-k, 1.5703125, x);
    r = fma(-k, 4.837512969970703125e-4, r);
    return fma(-k, 7.54978995489188216e-8, r);
}

// Minimax polynomials on [−π/4, π/4] (the single-precision ones of Cephes' sinf and cosf).
float sinKernel(float r) {
    float s = r * r;
    return fma(r * s, fma(s, fma(s, -1.9515295891e-4, 8.3321608736e-3), -1.6666654611e-1), r);
}

float cosKernel(float r) {
    float s = r * r;
    return fma(s * s, fma(s, fma(s, 2.443315711809948e-5, -1.388731625493765e-3), 4.166664568298827e-2), fma(-0.5, s, 1.0));
}

float sinAccurate(float x) {
    if (isnan(x) || isinf(x)) return uintBitsToFloat(0x7fc00000u);
    int quadrant;
    float r = reduceQuarterTurns(x, quadrant);
    float value = (quadrant & 1) == 0 ? sinKernel(r) : cosKernel(r);
    return quadrant >= 2 ? -value : value;
}

float cosAccurate(float x) {
    if (isnan(x) || isinf(x)) return uintBitsToFloat(0x7fc00000u);
    int quadrant;
    float r = reduceQuarterTurns(x, quadrant);
    float value = (quadrant & 1) == 0 ? cosKernel(r) : sinKernel(r);
    return (quadrant == 1 || quadrant == 2) ? -value : value;
}

// Near zero, expm1 and log1p are series in x (no cancellation, and no reliance on the driver's
// log, whose error the specification bounds only absolutely near 1); elsewhere exp and log.
float expm1Accurate(float x) {
    if (abs(x) >= 0.5) return exp(x) - 1.0;
    // x + x²/2! + … + x⁹/9!: the remainder is below 3e-10 for |x| < 0.5.
    float series = 1.0 / 362880.0;
    series = fma(series, x, 1.0 / 40320.0);
    series = fma(series, x, 1.0 / 5040.0);
    series = fma(series, x, 1.0 / 720.0);
    series = fma(series, x, 1.0 / 120.0);
    series = fma(series, x, 1.0 / 24.0);
    series = fma(series, x, 1.0 / 6.0);
    series = fma(series, x, 0.5);
    return fma(series * x, x, x);
}

float log1pAccurate(float x) {
    if (abs(x) >= 0.5 || isnan(x)) return log(1.0 + x);
    // log(1 + x) = 2 atanh(z) with z = x / (2 + x), |z| ≤ 1/3: 2(z + z³/3 + … + z¹⁵/15).
    float z = x / (2.0 + x), s = z * z;
    float series = 1.0 / 15.0;
    series = fma(series, s, 1.0 / 13.0);
    series = fma(series, s, 1.0 / 11.0);
    series = fma(series, s, 1.0 / 9.0);
    series = fma(series, s, 1.0 / 7.0);
    series = fma(series, s, 1.0 / 5.0);
    series = fma(series, s, 1.0 / 3.0);
    return 2.0 * fma(series * s, z, z);
}

float sigmoidStable(float v) {
    // Two branches keep exp's argument non-positive, so neither overflows.
    if (v >= 0.0) return 1.0 / (1.0 + exp(-v));
    float e = exp(v);
    return e / (1.0 + e);
}

float tanhStable(float v) {
    if (isnan(v)) return v;
    if (abs(v) < 0.5) return expm1Accurate(2.0 * v) / (expm1Accurate(2.0 * v) + 2.0);
    float t = exp(-2.0 * abs(v));
    return sign(v) * (1.0 - t) / (1.0 + t);
}

float erfApprox(float v) {
    if (isnan(v)) return v;
    float a = abs(v);
    if (a < 0.5) {
        // Maclaurin series, accurate to float precision below 0.5.
        float s = a * a;
        float series = 1.0 + s * (-1.0 / 3.0 + s * (1.0 / 10.0 + s * (-1.0 / 42.0 + s * (1.0 / 216.0 + s * (-1.0 / 1320.0)))));
        return v * 1.1283791670955126 * series;
    }
    // Abramowitz & Stegun 7.1.26: absolute error at most 1.5e-7.
    float t = 1.0 / (1.0 + 0.3275911 * a);
    float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    float erfc = poly * exp(-a * a);
    return sign(v) * (1.0 - erfc);
}
