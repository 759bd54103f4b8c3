#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Scaled dot-product attention in one dispatch for every batch entry and head: one invocation
// per query row computes its scores (scale, the mask read through broadcast strides, and the
// causal triangle from indices, so no mask is materialised), a stable softmax written out as
// the weights, then the dropped-out weights times the values.

#define HAS_MASK 1u
#define BOOL_MASK 2u
#define CAUSAL 4u
#define DROPOUT 8u

layout(set = 0, binding = 0) readonly buffer Query { float q[]; };
layout(set = 0, binding = 1) readonly buffer Key { float k[]; };
layout(set = 0, binding = 2) readonly buffer Value { float v[]; };
layout(set = 0, binding = 3) readonly buffer Mask { uint mask[]; };
layout(set = 0, binding = 4) readonly buffer Keep { uint keep[]; };
layout(set = 0, binding = 5) writeonly buffer Output { float y[]; };
layout(set = 0, binding = 6) buffer Weights { float w[]; };
layout(push_constant) uniform Parameters {
    uint batches; uint queries; uint keys; uint features; uint valueFeatures;
    float scale; float keepScale; uint flags;
    uint batchRank; uint batchDims[4]; uint maskBatchStrides[4]; uint maskQueryStride; uint maskKeyStride;
} p;

void main() {
    const float negativeInfinity = uintBitsToFloat(0xff800000u);
    FOR_EACH_ELEMENT(row, p.batches * p.queries) {
        uint b = row / p.queries, i = row % p.queries;
        uint maskBase = i * p.maskQueryStride, rest = b;
        for (int d = int(p.batchRank) - 1; d >= 0; --d) {
            maskBase += (rest % p.batchDims[d]) * p.maskBatchStrides[d];
            rest /= p.batchDims[d];
        }
        uint queryBase = row * p.features, keyBase = b * p.keys * p.features;
        uint valueBase = b * p.keys * p.valueFeatures, weightBase = row * p.keys;
        float maximum = negativeInfinity;
        for (uint j = 0u; j < p.keys; ++j) {
            float score = 0.0;
            for (uint f = 0u; f < p.features; ++f) score += q[queryBase + f] * k[keyBase + j * p.features + f];
            score *= p.scale;
            if ((p.flags & HAS_MASK) != 0u) {
                uint m = mask[maskBase + j * p.maskKeyStride];
                if ((p.flags & BOOL_MASK) != 0u) { if (m == 0u) score = negativeInfinity; }
                else score += uintBitsToFloat(m);
            }
            if ((p.flags & CAUSAL) != 0u && j > i) score = negativeInfinity;
            w[weightBase + j] = score;
            maximum = max(maximum, score);
        }
        float total = 0.0;
        for (uint j = 0u; j < p.keys; ++j) {
            float e = exp(w[weightBase + j] - maximum);
            w[weightBase + j] = e;
            total += e;
        }
        for (uint j = 0u; j < p.keys; ++j) w[weightBase + j] = w[weightBase + j] / total;
        for (uint c = 0u; c < p.valueFeatures; ++c) {
            float sum = 0.0;
            for (uint j = 0u; j < p.keys; ++j) {
                float weight = w[weightBase + j];
                if ((p.flags & DROPOUT) != 0u) weight = keep[weightBase + j] != 0u ? weight * p.keepScale : 0.0;
                sum += weight * v[valueBase + j * p.valueFeatures + c];
            }
            y[row * p.valueFeatures + c] = sum;
        }
    }
}
