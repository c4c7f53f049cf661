#include "ember/kernels/isa.h"

#include <string>

#include "ember/core/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace ember {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(_M_X64)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const bool os_avx = (xcr0 & 0x6) == 0x6;           // XMM and YMM state saved
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;   // XTILECFG, XTILEDATA
  f.fma = os_avx && ((c >> 12) & 1);
  f.f16c = os_avx && ((c >> 29) & 1);
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = os_avx && ((b >> 5) & 1);
    f.avx512f = os_avx512 && ((b >> 16) & 1);
    f.avx512bw = os_avx512 && ((b >> 30) & 1);
    f.avx512vl = os_avx512 && ((b >> 31) & 1);
    f.avx512vnni = os_avx512 && ((c >> 11) & 1);
    f.avx512vbmi = os_avx512 && ((c >> 1) & 1);
    f.gfni = os_avx && ((c >> 8) & 1);
    f.amx_bf16 = os_amx && ((d >> 22) & 1);
    f.amx_int8 = os_amx && ((d >> 25) & 1);
    unsigned a1, b1, c1, d1;
    if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512bf16 = os_avx512 && ((a1 >> 5) & 1);
  }
#elif defined(__aarch64__)
  f.neon = true;
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
  f.neon_dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
#endif
  return f;
}

bool cpu_can_run(Isa isa, const CpuFeatures& f) {
  switch (isa) {
    case Isa::kScalar: return true;
#if defined(EMBER_HAVE_X86_KERNELS)
    case Isa::kAvx2: return f.avx2 && f.fma && f.f16c;
    case Isa::kAvx512:
      return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && f.avx512vbmi && f.gfni && f.avx2 && f.fma && f.f16c;
#endif
#if defined(EMBER_HAVE_NEON_KERNELS)
    case Isa::kNeon: return f.neon;
    case Isa::kNeonDotprod: return f.neon && f.neon_dotprod;
#endif
    default: return false;
  }
}

Isa choose_initial() {
  const std::vector<Isa> all = runnable_isas();
  Isa best = all.back();
  if (const char* env = std::getenv("EMBER_ISA"); env && *env) {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon, Isa::kNeonDotprod}) {
      if (std::string_view(env) == isa_name(isa)) {
        if (cpu_can_run(isa, cpu_features())) return isa;
        log_message(LogLevel::kWarn, std::string("EMBER_ISA=") + env + " is not runnable here; using " + isa_name(best));
        return best;
      }
    }
    log_message(LogLevel::kWarn, std::string("unknown EMBER_ISA=") + env + " (scalar, avx2, avx512, neon, neon-dotprod); using " +
                                     isa_name(best));
  }
  return best;
}

std::atomic<int> g_active{-1};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
    case Isa::kNeonDotprod: return "neon-dotprod";
  }
  return "unknown";
}

CpuFeatures cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kNeon, Isa::kNeonDotprod, Isa::kAvx2, Isa::kAvx512})
    if (cpu_can_run(isa, cpu_features())) out.push_back(isa);
  return out;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_acquire);
  if (v < 0) {
    v = int(choose_initial());
    int expected = -1;
    if (!g_active.compare_exchange_strong(expected, v)) v = expected;
  }
  return Isa(v);
}

bool set_active_isa(Isa isa) {
  if (!cpu_can_run(isa, cpu_features())) return false;
  g_active.store(int(isa), std::memory_order_release);
  return true;
}

}  // namespace ember
