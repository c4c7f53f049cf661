// Inline helpers (fp16 conversion, block decoding) are compiled into every per-ISA kernel
// translation unit, each with different instruction-set flags. If they shared one mangled name
// the linker would keep any one copy, and the scalar path could end up running AVX-512 code.
// Each ISA's object therefore puts them in its own inline namespace (set by CMake per target).
#pragma once

#ifndef EMBER_ISA_NAMESPACE
#define EMBER_ISA_NAMESPACE isa_generic
#endif
