// Instruction sets the kernels are compiled for, and the run-time choice among them.
// The choice is made once from CPU features; EMBER_ISA=scalar|avx2|avx512|neon forces a path
// (also neon-dotprod: ARMv8.2 sdot) (falling back to the best runnable one, with a warning, if the CPU lacks it).
#pragma once

#include <vector>

namespace ember {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3, kNeonDotprod = 4 };

const char* isa_name(Isa isa);

// Every ISA this build has kernels for and this CPU can run, best last.
std::vector<Isa> runnable_isas();

// The ISA the kernels use now.
Isa active_isa();

// Switch the kernels to `isa` (tests use this to cover every path). Returns false, changing
// nothing, if this build or CPU cannot run it. Not thread-safe against running kernels.
bool set_active_isa(Isa isa);

// CPU features worth printing (for the self-check and benchmark headers).
struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512vbmi = false, avx512bf16 = false;
  bool gfni = false;  // Galois-field byte ops (every AVX-512 VNNI + VBMI core has them: Ice Lake, Zen 4)
  bool amx_int8 = false, amx_bf16 = false;
  bool neon = false, neon_dotprod = false;
};
CpuFeatures cpu_features();

}  // namespace ember
