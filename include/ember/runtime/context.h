// A context: one conversation's state over a shared Model. It owns the KV cache and the scratch
// memory, both allocated once at creation, so evaluating tokens allocates nothing.
// A Context is used by one thread at a time; interrupt() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "ember/models/model.h"

namespace ember {

struct ContextParams {
  int64_t n_ctx = 0;       // tokens the cache holds; 0: the model's training context, at most 4096
  int64_t n_batch = 256;   // most tokens per forward pass (prefill chunk)
  int n_threads = 0;       // 0: every hardware thread
  // When the window is full: false -> CONTEXT_FULL; true -> keep the first n_keep tokens, drop
  // half of the rest and slide the newer half down (llama.cpp's context shift). The model then no
  // longer sees the dropped tokens, which is the price of going on.
  bool context_shift = false;
  int64_t n_keep = 0;
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(std::shared_ptr<const Model> model, const ContextParams& p);
  ~Context();

  // Appends tokens at positions n_past().., in chunks of n_batch. Afterwards logits() is the
  // distribution after the last one. all_logits (optional) receives n x n_vocab floats, one row
  // per token. Errors: INVALID_ARGUMENT (bad id), CONTEXT_FULL, CANCELLED (interrupt()); on error
  // the tokens evaluated so far stay in the cache.
  Status eval(const int32_t* tokens, int64_t n, float* all_logits = nullptr);
  Status eval(const std::vector<int32_t>& tokens) { return eval(tokens.data(), int64_t(tokens.size())); }

  const float* logits() const { return logits_.data(); }
  int64_t n_vocab() const { return model_->desc().n_vocab; }
  int64_t n_past() const { return int64_t(tokens_.size()); }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  // The tokens whose keys and values are in the cache, in order.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  const KvCache& kv_cache() const { return kv_; }
  ThreadPool* pool() const { return pool_.get(); }

  // Forgets every position from n on (0: everything).
  Status truncate(int64_t n);
  void reset() { (void)truncate(0); }

  // Asks the running eval or generate (or, if none runs, the next one) to stop at its next step;
  // that one call returns CANCELLED and the request is used up.
  void interrupt() { interrupted_.store(true, std::memory_order_relaxed); }
  // Whether an interrupt was pending; clears it.
  bool take_interrupt() { return interrupted_.exchange(false, std::memory_order_relaxed); }

  // The state (tokens, their cache rows, the last logits) as bytes, and back: a long system prompt
  // evaluated once can be restored into any context of the same model with room for it.
  std::vector<uint8_t> save_state() const;
  Status load_state(const uint8_t* data, size_t size);

 private:
  Context() = default;
  Status shift_window(int64_t needed);

  std::shared_ptr<const Model> model_;
  ContextParams params_;
  KvCache kv_;
  Scratch scratch_;
  std::unique_ptr<ThreadPool> pool_;
  std::vector<float> logits_;
  std::vector<int32_t> tokens_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace ember
