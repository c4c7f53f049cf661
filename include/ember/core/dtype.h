// Element types and the GGUF block formats, described once in a traits table (ggml's idea).
// Enum values are GGUF's tensor-type ids so a GGUF tensor-info type maps without a lookup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ember {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
  // Layouts Ember makes from a file type at load time for its kernels (core/repack.h): the same
  // bytes per row, regrouped. Never read from or written to files.
  Q4_0x4 = 1002,
  Q4_1x4 = 1003,
  Q5_0x4 = 1006,
  Q5_1x4 = 1007,
  Q8_0x2 = 1008,
  Q2_Kx16 = 1010,
  Q3_Kx16 = 1011,
  Q4_Kx16 = 1012,
};

struct DTypeTraits {
  DType type;
  std::string_view name;   // GGUF/ggml spelling: "Q4_K"
  int64_t block_size;      // values per block (1 for plain types)
  size_t block_bytes;      // bytes per block
  bool quantized;
  DType file_type;         // the GGUF type a load-time layout is made from; the type itself otherwise
};

// Every dtype Ember knows, in a fixed order (tests and benchmarks iterate over it).
inline constexpr DType kAllDTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                       DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                                       DType::Q4_K, DType::Q5_K, DType::Q6_K};

// The load-time layouts (never in files).
inline constexpr DType kRepackedDTypes[] = {DType::Q4_0x4, DType::Q4_1x4, DType::Q5_0x4, DType::Q5_1x4,
                                           DType::Q8_0x2, DType::Q2_Kx16, DType::Q3_Kx16, DType::Q4_Kx16};

const DTypeTraits& dtype_traits(DType t);
inline std::string_view dtype_name(DType t) { return dtype_traits(t).name; }
inline int64_t dtype_block_size(DType t) { return dtype_traits(t).block_size; }
inline bool dtype_is_quantized(DType t) { return dtype_traits(t).quantized; }
inline DType dtype_file_type(DType t) { return dtype_traits(t).file_type; }

// The dtype with GGUF id `id` (or GGUF name), if Ember supports it; never a load-time layout.
std::optional<DType> dtype_from_gguf_id(uint32_t id);
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of a row of `n` values; n must be a multiple of the block size (checked by callers that
// take sizes from files: see row_bytes_checked).
inline size_t row_bytes(DType t, int64_t n) {
  const DTypeTraits& tr = dtype_traits(t);
  return size_t(n / tr.block_size) * tr.block_bytes;
}

}  // namespace ember
