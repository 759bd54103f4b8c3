// Float functions GLSL lacks, or whose built-in form loses accuracy or overflows.

float expm1Accurate(float x) {
    // Kahan's trick: (u − 1) · x / log(u) cancels the rounding error of u = exp(x).
    float u = exp(x);
    if (u == 1.0) return x;
    float um1 = u - 1.0;
    if (um1 == -1.0) return -1.0;
    if (isinf(u)) return u;
    return um1 * x / log(u);
}

float log1pAccurate(float x) {
    float u = 1.0 + x;
    if (u == 1.0) return x;
    if (isinf(u)) return u;
    return log(u) * x / (u - 1.0);
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
