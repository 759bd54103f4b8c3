#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "math.glsl"
#include "recurrent.glsl"
// One step of backpropagation through time for every batch row and unit: from the gradients
// reaching the step's new states and output, the gradients of its gate pre-activations (for the
// input projection, and at the recurrent product), and the parts of the previous states'
// gradients that do not pass through the recurrent product.

layout(set = 0, binding = 0) readonly buffer GradOutput { float dy[]; };        // [batch, time, units]
layout(set = 0, binding = 1) readonly buffer Keep { float keep[]; };            // [batch, time], if HAS_KEEP
layout(set = 0, binding = 2) readonly buffer Workspace { float ws[]; };         // [time, batch, K]
layout(set = 0, binding = 3) readonly buffer Carry { float carry[]; };          // [2, batch, units]: dh, dc
layout(set = 0, binding = 4) writeonly buffer GradProjected { float dP[]; };    // [batch, time, W]
layout(set = 0, binding = 5) writeonly buffer GradProduct { float dU[]; };      // [time, batch, W]
layout(set = 0, binding = 6) writeonly buffer Partial { float partial[]; };     // [2, batch, units]
layout(push_constant) uniform Parameters { uint batch; uint time; uint units; uint step; uint flags; } p;

void main() {
    uint H = p.units, W = gateCount() * H, K = 5u * H + W, count = p.batch * H;
    FOR_EACH_ELEMENT(i, count) {
        uint b = i / H, j = i - b * H;
        uint slot = (p.step * p.batch + b) * K + j, g0 = slot + 2u * H;
        uint dp = (b * p.time + p.step) * W + j, du = (p.step * p.batch + b) * W + j;
        float m = (p.flags & HAS_KEEP) != 0u ? keep[b * p.time + p.step] : 1.0;
        float dh = carry[i], dc = carry[count + i];
        float dhNew = (dh + dy[(b * p.time + p.step) * H + j]) * m;
        float passed = dh * (1.0 - m);
        if (CELL == 0u) {
            float dz = dhNew * derivative(ws[g0], ACT);
            dP[dp] = dz;
            dU[du] = dz;
            partial[i] = passed;
            partial[count + i] = 0.0;
        } else if (CELL == 1u) {
            float gi = ws[g0], gf = ws[g0 + H], gg = ws[g0 + 2u * H], go = ws[g0 + 3u * H];
            float cPrevious = ws[slot + 2u * H + W], activated = activate(ws[slot + 3u * H + W], ACT);
            float dCell = dc * m + dhNew * go * derivative(activated, ACT);
            float grads[4] = float[4](
                dCell * gg * derivative(gi, GATE), dCell * cPrevious * derivative(gf, GATE),
                dCell * gi * derivative(gg, ACT), dhNew * activated * derivative(go, GATE));
            for (uint k = 0u; k < 4u; ++k) {
                dP[dp + k * H] = grads[k];
                dU[du + k * H] = grads[k];
            }
            partial[i] = passed;
            partial[count + i] = dCell * gf + dc * (1.0 - m);
        } else {
            float r = ws[g0], z = ws[g0 + H], n = ws[g0 + 2u * H], un = ws[slot + 3u * H + W];
            float dnPre = dhNew * (1.0 - z) * derivative(n, ACT);
            float dzPre = dhNew * (ws[slot] - n) * derivative(z, GATE);
            float drPre = dnPre * un * derivative(r, GATE);
            dP[dp] = drPre;
            dP[dp + H] = dzPre;
            dP[dp + 2u * H] = dnPre;
            dU[du] = drPre;
            dU[du + H] = dzPre;
            dU[du + 2u * H] = dnPre * r;
            partial[i] = dhNew * z + passed;
            partial[count + i] = 0.0;
        }
    }
}
