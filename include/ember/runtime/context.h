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
  int n_threads = 0;       // 0: default_thread_count(), the physical cores
  // When the window is full: false -> CONTEXT_FULL; true -> keep the first n_keep tokens, drop
  // half of the rest and slide the newer half down (llama.cpp's context shift). The model then no
  // longer sees the dropped tokens, which is the price of going on.
  bool context_shift = false;
  int64_t n_keep = 0;
  uint64_t memory_limit = 0;  // bytes of KV cache + scratch allowed (0: no limit): OUT_OF_MEMORY if over
  DType kv_type = DType::F32;  // the KV cache's elements: F32 or F16 (half the memory)
};

class Context {
 public:
  static Result<std::unique_ptr<Context>> create(std::shared_ptr<const Model> model, const ContextParams& p);
  ~Context();

  // Appends tokens at positions n_past().., in chunks of n_batch. Afterwards logits() is the
  // distribution after the last one. all_logits (optional) receives n x n_vocab floats, one row
  // per token. Errors: INVALID_ARGUMENT (bad id), CONTEXT_FULL, CANCELLED (interrupt()); on error
  // the tokens evaluated so far stay in the cache.
  // hidden (optional) receives n x n_embd final normalized hidden states (embeddings).
  Status eval(const int32_t* tokens, int64_t n, float* all_logits = nullptr, float* hidden = nullptr) {
    begin_operation();
    return eval_continue(tokens, n, all_logits, hidden);
  }
  // eval within an operation begun by begin_operation(): a pending interrupt stays pending.
  Status eval_continue(const int32_t* tokens, int64_t n, float* all_logits = nullptr, float* hidden = nullptr);
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
  // Bytes this context allocated: KV cache + scratch.
  uint64_t memory_bytes() const { return kv_.bytes() + scratch_.buf.size(); }
  ThreadPool* pool() const { return pool_.get(); }

  // Forgets every position from n on (0: everything).
  Status truncate(int64_t n);
  void reset() { (void)truncate(0); }

  // Stops the eval or generate running on this context at its next step (eval returns CANCELLED,
  // generate stops with kCancelled). Safe from any thread. As sqlite3_interrupt, it does nothing
  // when nothing runs: every eval and generate starts with the request cleared.
  void interrupt() { interrupted_.store(true, std::memory_order_relaxed); }
  // For loops that own one operation across several eval_continue calls (generate): clears the
  // request at the operation's start, and takes it (clearing it) when seen.
  void begin_operation() { interrupted_.store(false, std::memory_order_relaxed); }
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
