#include "ember/models/kv_cache.h"

#include <cstring>

#include "ember/core/quantize.h"

namespace ember {

void KvCache::store_rows(uint8_t* base, int64_t width, int64_t row, const float* src, int64_t n) const {
  uint8_t* dst = base + size_t(row * width) * shape_.element_bytes();
  if (shape_.type == DType::F32) {
    if (reinterpret_cast<const uint8_t*>(src) != dst) std::memmove(dst, src, size_t(n * width) * sizeof(float));
  } else {
    quantize_row(shape_.type, src, dst, n * width);  // F16: round to nearest even
  }
}

void KvCache::load_rows(const uint8_t* base, int64_t width, int64_t row, float* dst, int64_t n) const {
  dequantize_row(shape_.type, base + size_t(row * width) * shape_.element_bytes(), dst, n * width);
}

void KvCache::move_rows(int64_t from, int64_t count, int64_t to) const {
  const size_t e = shape_.element_bytes();
  for (int64_t l = 0; l < shape_.n_layer; ++l) {
    std::memmove(k(l) + size_t(to * shape_.k_width) * e, k(l) + size_t(from * shape_.k_width) * e,
                 size_t(count * shape_.k_width) * e);
    if (shape_.v_width)
      std::memmove(v(l) + size_t(to * shape_.v_width) * e, v(l) + size_t(from * shape_.v_width) * e,
                   size_t(count * shape_.v_width) * e);
  }
}

}  // namespace ember
