#pragma once

/// Runs `iterations` rounds of 12 independent chains of 16-lane float32 multiply-adds
/// (384 floating-point operations a round) at the widest vector width the CPU runs, and
/// returns a sum of the chains so that none is optimised away.
float axon_multiply_add_chains(long iterations);
