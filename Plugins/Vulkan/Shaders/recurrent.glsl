// Shared by the recurrent step shaders. The cell (0 simple, 1 LSTM, 2 GRU with the reset gate
// after the recurrent product) and the activations (FusedActivation's order: identity, relu,
// sigmoid, tanh) are specialisation constants. The workspace holds, per step and batch row,
// K = 5·units + gates·units words: the state going in, that state times the recurrent mask,
// the activated gates, the cell state going in, the new cell state (LSTM) or the recurrent
// part h·U_n + b̂_n (GRU), and the step's output.
layout(constant_id = 0) const uint CELL = 1u;
layout(constant_id = 1) const uint ACT = 3u;
layout(constant_id = 2) const uint GATE = 2u;

#define HAS_KEEP 1u
#define HAS_MASK 2u

uint gateCount() { return CELL == 0u ? 1u : (CELL == 1u ? 4u : 3u); }

float activate(float x, uint kind) {
    if (kind == 1u) return max(x, 0.0);
    if (kind == 2u) return sigmoidStable(x);
    if (kind == 3u) return tanhStable(x);
    return x;
}

// The derivative of an activation from its output y.
float derivative(float y, uint kind) {
    if (kind == 1u) return y > 0.0 ? 1.0 : 0.0;
    if (kind == 2u) return y * (1.0 - y);
    if (kind == 3u) return 1.0 - y * y;
    return 1.0;
}
