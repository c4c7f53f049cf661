// The NEON kernels built for ARMv8.2-A dot-product cores (sdot): see kernels_neon.cpp.
#define EMBER_NEON_DOTPROD 1
#include "kernels_neon.cpp"
