#include "ember/core/dtype.h"

#include <array>

#include "ember/core/blocks.h"

namespace ember {
namespace {

constexpr std::array<DTypeTraits, 21> kTraits = {{
    {DType::F32, "F32", 1, 4, false, DType::F32},
    {DType::F16, "F16", 1, 2, false, DType::F16},
    {DType::BF16, "BF16", 1, 2, false, DType::BF16},
    {DType::Q8_0, "Q8_0", kQK, sizeof(BlockQ8_0), true, DType::Q8_0},
    {DType::Q4_0, "Q4_0", kQK, sizeof(BlockQ4_0), true, DType::Q4_0},
    {DType::Q4_1, "Q4_1", kQK, sizeof(BlockQ4_1), true, DType::Q4_1},
    {DType::Q5_0, "Q5_0", kQK, sizeof(BlockQ5_0), true, DType::Q5_0},
    {DType::Q5_1, "Q5_1", kQK, sizeof(BlockQ5_1), true, DType::Q5_1},
    {DType::Q2_K, "Q2_K", kQK_K, sizeof(BlockQ2_K), true, DType::Q2_K},
    {DType::Q3_K, "Q3_K", kQK_K, sizeof(BlockQ3_K), true, DType::Q3_K},
    {DType::Q4_K, "Q4_K", kQK_K, sizeof(BlockQ4_K), true, DType::Q4_K},
    {DType::Q5_K, "Q5_K", kQK_K, sizeof(BlockQ5_K), true, DType::Q5_K},
    {DType::Q6_K, "Q6_K", kQK_K, sizeof(BlockQ6_K), true, DType::Q6_K},
    {DType::Q4_0x4, "Q4_0x4", kQK, sizeof(BlockQ4_0), true, DType::Q4_0},
    {DType::Q4_1x4, "Q4_1x4", kQK, sizeof(BlockQ4_1), true, DType::Q4_1},
    {DType::Q5_0x4, "Q5_0x4", kQK, sizeof(BlockQ5_0), true, DType::Q5_0},
    {DType::Q5_1x4, "Q5_1x4", kQK, sizeof(BlockQ5_1), true, DType::Q5_1},
    {DType::Q8_0x2, "Q8_0x2", kQK, sizeof(BlockQ8_0), true, DType::Q8_0},
    {DType::Q2_Kx16, "Q2_Kx16", kQK_K, sizeof(BlockQ2_K), true, DType::Q2_K},
    {DType::Q3_Kx16, "Q3_Kx16", kQK_K, sizeof(BlockQ3_K), true, DType::Q3_K},
    {DType::Q4_Kx16, "Q4_Kx16", kQK_K, sizeof(BlockQ4_K), true, DType::Q4_K},
}};

}  // namespace

const DTypeTraits& dtype_traits(DType t) {
  for (const DTypeTraits& tr : kTraits)
    if (tr.type == t) return tr;
  // Unreachable for values of the enum; a corrupted value is a programming error.
  static const DTypeTraits kInvalid{DType::F32, "INVALID", 1, 0, false, DType::F32};
  return kInvalid;
}

std::optional<DType> dtype_from_gguf_id(uint32_t id) {
  for (const DTypeTraits& tr : kTraits)
    if (uint32_t(tr.type) == id && tr.file_type == tr.type) return tr.type;
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const DTypeTraits& tr : kTraits)
    if (tr.name == name && tr.file_type == tr.type) return tr.type;
  return std::nullopt;
}

}  // namespace ember
