// Geometry of a window reduction over every axis (at most MAX_RANK after the host drops axes
// that are not pooled), shared by the forward and backward shaders.
layout(push_constant) uniform Parameters {
    uint count; uint rank;
    uint inputSize[MAX_RANK]; uint outputSize[MAX_RANK];
    uint windowSize[MAX_RANK]; uint strides[MAX_RANK]; uint paddingLow[MAX_RANK];
} p;

uint windowVolume() {
    uint volume = 1u;
    for (uint d = 0u; d < p.rank; ++d) volume *= p.windowSize[d];
    return volume;
}

// The flat input index of tap `tap` of the window at output coordinate `o` (row-major over the
// window), or 0xffffffff when the tap lies on padding.
uint tapIndex(uint o[MAX_RANK], uint tap) {
    uint index = 0u, scale = 1u;
    for (int d = int(p.rank) - 1; d >= 0; --d) {
        uint w = tap % p.windowSize[d];
        tap /= p.windowSize[d];
        int position = int(o[d] * p.strides[d] + w) - int(p.paddingLow[d]);
        if (position < 0 || uint(position) >= p.inputSize[d]) return 0xffffffffu;
        index += uint(position) * scale;
        scale *= p.inputSize[d];
    }
    return index;
}

#ifdef WINDOW_READS_INPUT
// The flat input index of the first maximal element of a window, or 0xffffffff when every tap
// is padding. NaN counts as maximal.
uint firstMaximum(uint o[MAX_RANK]) {
    uint best = 0xffffffffu;
    float bestValue = 0.0;
    uint volume = windowVolume();
    for (uint tap = 0u; tap < volume; ++tap) {
        uint index = tapIndex(o, tap);
        if (index == 0xffffffffu) continue;
        float v = x[index];
        if (best == 0xffffffffu || isnan(v) || v > bestValue) {
            best = index;
            bestValue = v;
        }
        if (isnan(v)) break;
    }
    return best;
}
#endif
