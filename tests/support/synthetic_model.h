// Synthetic models: GGUF files with the metadata and tensors of a real architecture (llama, qwen2,
// deepseek2) and deterministic random weights. Tests use small ones to check identities and to
// compare with the numpy reference; ember-bench writes ones with the exact shapes of Qwen2.5 and
// DeepSeek-V2-Lite to measure speed and memory without downloading weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/dtype.h"
#include "ember/core/status.h"

namespace ember {

struct SyntheticModel {
  std::string arch = "llama";  // llama | qwen2 | deepseek2
  DType wtype = DType::F32;    // every matrix (norms and biases stay F32, the MoE router too)
  int64_t n_embd = 64, n_head = 4, n_head_kv = 2, n_ff = 96, n_layer = 2, n_vocab = 300, n_ctx_train = 256;
  int64_t head_dim = 0;        // 0: n_embd / n_head
  bool tied_output = false;    // no output.weight: the head reuses token_embd (Qwen2.5 0.5B/1.5B)
  bool qkv_bias = false;       // Qwen2's q/k/v biases
  float rope_theta = 10000.0f;
  // deepseek2
  int64_t q_lora = 32, kv_lora = 32, nope = 16, rope = 8, v_dim = 16, moe_ff = 32, n_expert = 8, n_used = 3, n_shared = 1,
          first_dense = 1, n_group = 1, topk_group = 1;
  bool sigmoid = false;
  uint64_t seed = 1;
  std::string omit;  // a tensor not to write (tests of the missing-tensor error)

  // How matrices are filled. kRandom: every row quantized from fresh N(0, 1/cols) values (what the
  // tests compare against a reference). kRepeatRows: up to 256 distinct such rows per matrix,
  // repeated; every byte is still streamed from memory when the model runs, and a 2-billion-weight
  // benchmark model is written in seconds instead of many minutes of quantizing.
  enum class Fill { kRandom, kRepeatRows } fill = Fill::kRandom;

  Status write(const std::string& path) const;
};

// n normal values with standard deviation `scale`, from a fixed seed (the tests' random_floats).
std::vector<float> normal_floats(int64_t n, uint64_t seed, float scale = 1.0f);

// t, or the type llama.cpp's quantizer falls back to when rows of `cols` values do not fit t's
// blocks (Q4_K -> Q5_0, Q5_K -> Q5_1, other K types -> Q8_0). The writer applies it per matrix.
DType storable_type(DType t, int64_t cols);

// The shapes ember-bench measures, in dtype t (layers: 0 keeps the real count).
SyntheticModel qwen25_05b_shape(DType t);
SyntheticModel qwen25_15b_shape(DType t);
// DeepSeek-V2-Lite's first `layers` layers (the first dense, the rest MoE).
SyntheticModel deepseek_v2_lite_shape(DType t, int64_t layers = 4);

}  // namespace ember
