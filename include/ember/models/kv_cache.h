// The per-layer key/value cache a context owns and a model's forward pass writes and reads.
// Each layer holds n_ctx rows of k_width values (keys) and of v_width values (values), token-major,
// so the attention kernel reads a layer's keys as one strided matrix. What a row holds is the
// model's business: K and V heads for Llama; for DeepSeek's MLA the compressed latent and the
// shared RoPE key in the K row and nothing in V (v_width 0).
//
// Elements are F32 or F16 (the context's choice, as llama.cpp's type_k / type_v): F16 halves the
// cache's memory and the bytes attention reads per position; attention converts 64-row blocks
// back to F32 as it goes. Models compute new rows in F32 and store them through store_rows.
#pragma once

#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/core/tensor.h"

namespace ember {

struct KvShape {
  int64_t n_layer = 0;
  int64_t k_width = 0, v_width = 0;  // values per token per layer
  DType type = DType::F32;            // F32 or F16
  int64_t values_per_token() const { return n_layer * (k_width + v_width); }
  size_t element_bytes() const { return type == DType::F16 ? 2 : 4; }
  size_t bytes_per_token() const { return size_t(values_per_token()) * element_bytes(); }
};

class KvCache {
 public:
  KvCache() = default;
  // Allocates n_ctx tokens of `shape` (type F32 or F16); false if memory is short.
  bool allocate(const KvShape& shape, int64_t n_ctx) {
    shape_ = shape;
    n_ctx_ = n_ctx;
    return buf_.reset(size_t(n_ctx) * shape.bytes_per_token());
  }
  const KvShape& shape() const { return shape_; }
  DType type() const { return shape_.type; }
  int64_t n_ctx() const { return n_ctx_; }
  // Row 0 of layer l's keys / values; row t is t * k_width (v_width) elements further.
  uint8_t* k(int64_t layer) const {
    return buf_.as<uint8_t>() + size_t(layer * n_ctx_ * (shape_.k_width + shape_.v_width)) * shape_.element_bytes();
  }
  uint8_t* v(int64_t layer) const { return k(layer) + size_t(n_ctx_ * shape_.k_width) * shape_.element_bytes(); }
  // Layer l's keys as floats, for an F32 cache only (where forward passes write rows in place).
  float* k_f32(int64_t layer) const { return reinterpret_cast<float*>(k(layer)); }
  float* v_f32(int64_t layer) const { return reinterpret_cast<float*>(v(layer)); }
  size_t bytes() const { return buf_.size(); }
  size_t bytes_per_token() const { return shape_.bytes_per_token(); }

  // Rows [row, row + n) of `width` values at `base` (from k() or v()) from / to F32 rows.
  void store_rows(uint8_t* base, int64_t width, int64_t row, const float* src, int64_t n) const;
  void load_rows(const uint8_t* base, int64_t width, int64_t row, float* dst, int64_t n) const;
  // Moves `count` rows at `from` to `to` (ranges may overlap), for every layer's keys and values.
  void move_rows(int64_t from, int64_t count, int64_t to) const;

 private:
  KvShape shape_;
  int64_t n_ctx_ = 0;
  AlignedBuffer buf_;
};

}  // namespace ember
