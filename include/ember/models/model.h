// A loaded model: its description, weights (views into the mapped file), tokenizer and chat
// template, and the forward pass of its architecture family. A Model is immutable after loading
// and may be shared by any number of contexts on any threads; all mutable state (KV cache,
// scratch) belongs to the caller (runtime/context.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"
#include "ember/core/tensor.h"
#include "ember/formats/model_description.h"
#include "ember/kernels/thread_pool.h"
#include "ember/models/kv_cache.h"
#include "ember/tokenizer/tokenizer.h"

namespace ember {

class Weights;

// Working memory for one forward pass of up to n_batch tokens, sized by the model.
struct Scratch {
  AlignedBuffer buf;
  int64_t n_batch = 0;
};

class Model {
 public:
  virtual ~Model();

  // Called as a load goes with the fraction done in [0, 1] (the bytes of weights copied and
  // regrouped so far; a mapped file that needs neither is done at once); false cancels the load
  // (kCancelled). Called on the loading thread only.
  using Progress = std::function<bool(float)>;

  // A GGUF file, or a Hugging Face folder (config.json, *.safetensors, tokenizer.json).
  static Result<std::shared_ptr<const Model>> load(const std::string& path, const Progress& progress = {});
  // A GGUF image in memory (read from flash, an archive, a loader); the model keeps the bytes.
  static Result<std::shared_ptr<const Model>> load_from_memory(std::vector<uint8_t> bytes, const std::string& name,
                                                               const Progress& progress = {});

  const ModelDescription& desc() const { return desc_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  // Jinja chat template from the file ("" when it has none).
  const std::string& chat_template() const { return chat_template_; }
  // The GGUF file the model came from (its metadata), or nullptr for a Hugging Face folder.
  const gguf::GgufFile* gguf() const;
  // A weight by its GGUF name as the model holds it: the dtype is a load-time layout
  // (core/repack.h) where the matrix was regrouped at load. Null if there is no such tensor.
  const Tensor* weight(std::string_view name) const;
  // Bytes of weights in the file(s), and the bytes a decode step reads (embeddings excluded; for
  // MoE only the experts used per token).
  size_t weight_bytes() const { return weight_bytes_; }
  virtual size_t active_weight_bytes() const = 0;

  virtual KvShape kv_shape() const = 0;
  // Bytes of scratch a forward pass of n_batch tokens needs.
  virtual size_t scratch_bytes(int64_t n_batch) const = 0;

  // Runs tokens[0..n) at positions pos0..pos0+n (n <= scratch.n_batch, pos0 + n <= kv.n_ctx()),
  // writing their keys/values into kv and reading positions [0, pos0 + n) from it. Writes logits
  // of the last token (n_vocab floats) or, with all_logits, of every token (n x n_vocab); hidden
  // (optional) receives every token's final normalized hidden state (n x n_embd: embeddings).
  virtual Status forward(const int32_t* tokens, int64_t n, int64_t pos0, KvCache& kv, Scratch& scratch,
                         ThreadPool* pool, float* logits, bool all_logits, float* hidden = nullptr) const = 0;

  // Moves cached positions [from, from + count) to start at `to` (to < from), re-rotating their
  // keys for the new positions: the context shift that keeps a full window going.
  virtual void shift_cache(KvCache& kv, int64_t from, int64_t count, int64_t to) const = 0;

 protected:
  Model() = default;
  ModelDescription desc_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string chat_template_;
  std::unique_ptr<Weights> weights_;
  size_t weight_bytes_ = 0;
  friend struct ModelLoader;
};

}  // namespace ember
