// The per-layer key/value cache a context owns and a model's forward pass writes and reads.
// Each layer holds n_ctx rows of k_width floats (keys) and of v_width floats (values), token-major,
// so the attention kernel reads a layer's keys as one strided matrix. What a row holds is the
// model's business: K and V heads for Llama; for DeepSeek's MLA the compressed latent and the
// shared RoPE key in the K row and nothing in V (v_width 0).
#pragma once

#include <cstdint>

#include "ember/core/tensor.h"

namespace ember {

struct KvShape {
  int64_t n_layer = 0;
  int64_t k_width = 0, v_width = 0;  // floats per token per layer
  int64_t floats_per_token() const { return n_layer * (k_width + v_width); }
};

class KvCache {
 public:
  KvCache() = default;
  // Allocates n_ctx tokens of `shape`; false if memory is short.
  bool allocate(const KvShape& shape, int64_t n_ctx) {
    shape_ = shape;
    n_ctx_ = n_ctx;
    return buf_.reset(size_t(n_ctx) * size_t(shape.floats_per_token()) * sizeof(float));
  }
  const KvShape& shape() const { return shape_; }
  int64_t n_ctx() const { return n_ctx_; }
  // Row 0 of layer l's keys / values; row t is t * k_width (v_width) floats further.
  float* k(int64_t layer) const { return buf_.as<float>() + layer * n_ctx_ * (shape_.k_width + shape_.v_width); }
  float* v(int64_t layer) const { return k(layer) + n_ctx_ * shape_.k_width; }
  size_t bytes() const { return buf_.size(); }
  size_t bytes_per_token() const { return size_t(shape_.floats_per_token()) * sizeof(float); }

 private:
  KvShape shape_;
  int64_t n_ctx_ = 0;
  AlignedBuffer buf_;
};

}  // namespace ember
