// Shapes travel in push constants with at most MAX_RANK axes, after the host has merged
// axes that every operand walks contiguously (so most ops need one to three).
#define MAX_RANK 6
