// The architecture families, one file each (llama.cpp, deepseek.cpp). Each builds its forward pass
// from a description and named weights; model.cpp picks the family and attaches the tokenizer.
#pragma once

#include <initializer_list>
#include <memory>
#include <utility>

#include "ember/models/model.h"
#include "weights.h"

namespace ember {

Result<std::unique_ptr<Model>> make_llama_model(const ModelDescription& d, std::unique_ptr<Weights> w);
Result<std::unique_ptr<Model>> make_deepseek_model(const ModelDescription& d, std::unique_ptr<Weights> w);

// Helpers the families share.
namespace model_util {
// y (m x rows) = x (m x cols) W^T: matvec for one token, matmul for a batch.
void linear(const Tensor& W, const float* x, int64_t m, float* y, ThreadPool* pool);
// Several products of the same x (same column count, at most 8): y_j = x W_j^T. For one token one
// parallel pass over all their rows (matvec_many); for a batch matmul_many (X quantized once on the
// integer path).
void linear_many(std::initializer_list<std::pair<const Tensor*, float*>> products, const float* x, int64_t m,
                 ThreadPool* pool);
// Rows [r0, r0 + n) of a matrix, as a matrix.
Tensor rows(const Tensor& m, int64_t r0, int64_t n);

// y (m x n_embd) = W_down (silu(W_gate x) * W_up x) for m rows of x (y must not be x). gate and up
// hold `hidden` floats each (ffn_hidden_floats); when m rows of the whole hidden layer do not fit,
// it goes a slice of columns at a time (multiples of kFfnSlice) and the down products of the slices
// are summed into y (through `part`, m x n_embd): a batch's scratch then grows with kFfnSlice, not
// with n_ff (Qwen2.5-1.5B: 4 instead of 17.5 MiB for 256 tokens).
inline constexpr int64_t kFfnSlice = 2048;  // a multiple of every block and group size
inline int64_t ffn_hidden_floats(int64_t n_batch, int64_t n_ff) {
  return std::max(n_batch * std::min(n_ff, kFfnSlice), n_ff);  // one token never slices
}
void ffn(const Tensor& w_gate, const Tensor& w_up, const Tensor& w_down, const float* x, int64_t m, float* gate,
         float* up, int64_t hidden, float* y, float* part, ThreadPool* pool);

// The elementwise steps of a batch, split over the pool's tokens (inline for one token: decode
// pays no dispatch). Serial, they were 3-4% of a prefill at one thread and twice that at two.
// fn(t0, t1) for tokens [t0, t1) of n.
void for_tokens(int64_t n, ThreadPool* pool, FunctionRef<void(int64_t, int64_t)> fn);
// out[t] = RMSNorm(x[t]) * w for n rows of `width` values (out may be x).
void rmsnorm_rows(const float* x, const float* w, float* out, int64_t n, int64_t width, float eps, ThreadPool* pool);
// x[t] += y[t] for n rows of `width` values (the residual stream).
void add_rows(float* x, const float* y, int64_t n, int64_t width, ThreadPool* pool);
// x[t] += b for each of m rows of n values.
void add_bias(float* x, const float* b, int64_t m, int64_t n, ThreadPool* pool);
// Row `id` of the embedding matrix as floats.
void embed(const Tensor& table, int32_t id, float* out);
// logits = W_out · RMSNorm(x) for the last of n rows of x (all of them with all_logits); work
// holds n x n_embd floats. hidden (optional) receives RMSNorm(x) of every row.
void lm_head(const float* x, int64_t n, bool all_logits, const float* norm, const Tensor& w_out, float eps, float* work,
             float* logits, float* hidden, ThreadPool* pool);
// Bytes of a matrix.
inline size_t bytes(const Tensor& t) { return t.data ? t.n_bytes() : 0; }

// Asks Weights for a family's tensors, keeping the first error, so loading reads as a list.
class TensorGetter {
 public:
  explicit TensorGetter(const Weights& w) : w_(w) {}
  Tensor mat(const std::string& name, int64_t cols, int64_t rows);
  // nullptr (and no error) when !required and the tensor is absent.
  const float* vec(const std::string& name, int64_t n, bool required = true);
  const Status& status() const { return st_; }

 private:
  const Weights& w_;
  Status st_;
};

// The checks every forward pass starts with: batch size, room in the cache, token ids.
Status check_batch(const ModelDescription& d, const int32_t* tokens, int64_t n, int64_t pos0, const KvCache& kv,
                   const Scratch& scratch);

// Hands out 64-byte-aligned float buffers from a context's scratch, in order. Over a null region
// it only counts (used()): the same takes then size the region they will carve.
class ScratchArena {
 public:
  explicit ScratchArena(Scratch& s) : base_(s.buf.as<float>()) {}
  explicit ScratchArena(float* region) : base_(region) {}  // buffers inside one taken region
  float* take(int64_t floats) {
    float* p = base_ ? base_ + used_ : nullptr;
    used_ += rounded(floats);
    return p;
  }
  int64_t used() const { return used_; }
  static int64_t rounded(int64_t floats) { return (floats + 15) / 16 * 16; }  // what take uses of the buffer

 private:
  float* base_;
  int64_t used_ = 0;
};
}  // namespace model_util

}  // namespace ember
