// Helpers shared by the GGUF reader, writer and Value (not part of the public API).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ember/formats/gguf.h"

namespace ember::gguf {

// Bytes of one scalar of type t (0 for STRING and ARRAY).
size_t scalar_size(ValueType t);
// A little-endian scalar at p as Value's 64-bit payload (signed types sign-extended).
uint64_t load_scalar_bits(ValueType t, const uint8_t* p);

}  // namespace ember::gguf
