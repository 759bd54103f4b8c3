#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Philox-4x32-10 bits, laid out exactly as Philox.bits(key:offset:count:) in Backend: element
// i is word (offset + i) % 4 of the block whose 64-bit counter is (offset + i) / 4. Each
// invocation computes one block and writes the words of it that the request covers. With
// `keepMask`, each word becomes dropout's keep flag instead: 1 where it is below `threshold`.

layout(constant_id = 0) const bool keepMask = false;
layout(set = 0, binding = 0) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint key0; uint key1; uint offsetLow; uint offsetHigh; uint blocks; uint threshold;
} p;

uvec4 philoxBlock(uvec2 counter, uvec2 key) {
    uvec4 c = uvec4(counter, 0u, 0u);
    for (uint round = 0u; round < 10u; ++round) {
        if (round > 0u) key += uvec2(0x9E3779B9u, 0xBB67AE85u);
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
        c = uvec4(hi1 ^ c.y ^ key.x, lo1, hi0 ^ c.w ^ key.y, lo0);
    }
    return c;
}

void main() {
    uint firstWord = p.offsetLow & 3u;
    // The first block covers positions offset − firstWord ... offset − firstWord + 3.
    uint baseLow = p.offsetLow & ~3u;
    FOR_EACH_ELEMENT(b, p.blocks) {
        // Block counter: (offset − firstWord) / 4 + b, as 64 bits.
        uint low = (baseLow >> 2u) | (p.offsetHigh << 30u);
        uint high = p.offsetHigh >> 2u;
        uint sum = low + b;
        high += sum < low ? 1u : 0u;
        uvec4 words = philoxBlock(uvec2(sum, high), uvec2(p.key0, p.key1));
        for (uint w = 0u; w < 4u; ++w) {
            int element = int(b * 4u + w) - int(firstWord);
            if (element >= 0 && uint(element) < p.count) y[element] = keepMask ? (words[w] < p.threshold ? 1u : 0u) : words[w];
        }
    }
}
