#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "math.glsl"
#include "recurrent.glsl"
// One step of a recurrent sequence for every batch row and unit, from the input projection and
// the recurrent product: the gates, the new states (kept where the step is masked), the step's
// output and its workspace slots, and the new h times the recurrent mask for the next product.

layout(set = 0, binding = 0) readonly buffer Projected { float projected[]; };  // [batch, time, W]: x·W + b
layout(set = 0, binding = 1) readonly buffer Product { float u[]; };            // [batch, W]: h·U (+ b̂)
layout(set = 0, binding = 2) readonly buffer State { float state[]; };          // [2, batch, units]: h, c
layout(set = 0, binding = 3) readonly buffer Keep { float keep[]; };            // [batch, time], if HAS_KEEP
layout(set = 0, binding = 4) readonly buffer Mask { float mask[]; };            // [batch, units], if HAS_MASK
layout(set = 0, binding = 5) writeonly buffer NewState { float newState[]; };   // [2, batch, units]
layout(set = 0, binding = 6) writeonly buffer Workspace { float ws[]; };        // [time, batch, K]
layout(set = 0, binding = 7) writeonly buffer Next { float next[]; };           // [batch, units]
layout(push_constant) uniform Parameters { uint batch; uint time; uint units; uint step; uint flags; } p;

void main() {
    uint H = p.units, W = gateCount() * H, K = 5u * H + W, count = p.batch * H;
    FOR_EACH_ELEMENT(i, count) {
        uint b = i / H, j = i - b * H;
        uint pr = (b * p.time + p.step) * W + j, ur = b * W + j, slot = (p.step * p.batch + b) * K + j;
        float h = state[i], c = state[count + i];
        float m = (p.flags & HAS_KEEP) != 0u ? keep[b * p.time + p.step] : 1.0;
        float d = (p.flags & HAS_MASK) != 0u ? mask[i] : 1.0;
        ws[slot] = h;
        ws[slot + H] = h * d;
        float hNew, cNew = c;
        if (CELL == 0u) {
            hNew = activate(projected[pr] + u[ur], ACT);
            ws[slot + 2u * H] = hNew;
        } else if (CELL == 1u) {
            float gi = activate(projected[pr] + u[ur], GATE);
            float gf = activate(projected[pr + H] + u[ur + H], GATE);
            float gg = activate(projected[pr + 2u * H] + u[ur + 2u * H], ACT);
            float go = activate(projected[pr + 3u * H] + u[ur + 3u * H], GATE);
            cNew = gf * c + gi * gg;
            hNew = go * activate(cNew, ACT);
            ws[slot + 2u * H] = gi;
            ws[slot + 3u * H] = gf;
            ws[slot + 4u * H] = gg;
            ws[slot + 5u * H] = go;
            ws[slot + 2u * H + W] = c;
            ws[slot + 3u * H + W] = cNew;
        } else {
            float r = activate(projected[pr] + u[ur], GATE);
            float z = activate(projected[pr + H] + u[ur + H], GATE);
            float un = u[ur + 2u * H];
            float n = activate(projected[pr + 2u * H] + r * un, ACT);
            hNew = (1.0 - z) * n + z * h;
            ws[slot + 2u * H] = r;
            ws[slot + 3u * H] = z;
            ws[slot + 4u * H] = n;
            ws[slot + 3u * H + W] = un;
        }
        ws[slot + 4u * H + W] = hNew * m;
        float carried = hNew * m + h * (1.0 - m);
        newState[i] = carried;
        newState[count + i] = cNew * m + c * (1.0 - m);
        next[i] = carried * d;
    }
}
