// The architecture families, one file each (llama.cpp, deepseek.cpp). Each builds its forward pass
// from a description and named weights; model.cpp picks the family and attaches the tokenizer.
#pragma once

#include <memory>

#include "ember/models/model.h"
#include "weights.h"

namespace ember {

Result<std::unique_ptr<Model>> make_llama_model(const ModelDescription& d, std::unique_ptr<Weights> w);
Result<std::unique_ptr<Model>> make_deepseek_model(const ModelDescription& d, std::unique_ptr<Weights> w);

// Helpers the families share.
namespace model_util {
// y (m x rows) = x (m x cols) W^T: matvec for one token, matmul for a batch.
void linear(const Tensor& W, const float* x, int64_t m, float* y, ThreadPool* pool);
// x[t] += b for each of m rows of n values.
void add_bias(float* x, const float* b, int64_t m, int64_t n);
// Row `id` of the embedding matrix as floats.
void embed(const Tensor& table, int32_t id, float* out);
// Bytes of a matrix.
inline size_t bytes(const Tensor& t) { return t.data ? t.n_bytes() : 0; }
}  // namespace model_util

}  // namespace ember
