#include "ember/runtime/context.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "ember/kernels/thread_pool.h"

namespace ember {

Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::create(std::shared_ptr<const Model> model, const ContextParams& p) {
  if (!model) return invalid_argument("context: no model");
  const ModelDescription& d = model->desc();
  ContextParams q = p;
  if (q.n_ctx < 0 || q.n_batch < 0 || q.n_threads < 0 || q.n_keep < 0) return invalid_argument("context: negative size");
  if (q.n_ctx == 0) q.n_ctx = std::min<int64_t>(d.n_ctx_train > 0 ? d.n_ctx_train : 4096, 4096);
  if (q.n_ctx > (int64_t(1) << 24)) return invalid_argument("context: n_ctx " + std::to_string(q.n_ctx) + " is absurdly large");
  if (q.n_batch == 0) q.n_batch = 256;
  q.n_batch = std::min(q.n_batch, q.n_ctx);
  if (q.n_threads == 0) q.n_threads = default_thread_count();
  if (q.n_threads > 256) return invalid_argument("context: too many threads");
  if (q.context_shift && q.n_keep >= q.n_ctx - 1) return invalid_argument("context: n_keep must leave room to shift");

  if (q.kv_type != DType::F32 && q.kv_type != DType::F16)
    return invalid_argument("context: the KV cache holds F32 or F16, not " + std::string(dtype_name(q.kv_type)));
  KvShape shape = model->kv_shape();
  shape.type = q.kv_type;
  const uint64_t need = uint64_t(q.n_ctx) * uint64_t(shape.bytes_per_token()) + model->scratch_bytes(q.n_batch);
  if (q.memory_limit > 0 && need > q.memory_limit)
    return out_of_memory("context: " + std::to_string(q.n_ctx) + " tokens need " + std::to_string(need) +
                         " bytes of cache and scratch, over the limit of " + std::to_string(q.memory_limit));
  std::unique_ptr<Context> c(new Context());
  c->model_ = std::move(model);
  c->params_ = q;
  if (!c->kv_.allocate(shape, q.n_ctx))
    return out_of_memory("context: no memory for a KV cache of " + std::to_string(q.n_ctx) + " tokens");
  c->scratch_.n_batch = q.n_batch;
  if (!c->scratch_.buf.reset(c->model_->scratch_bytes(q.n_batch))) return out_of_memory("context: no memory for scratch");
  if (q.n_threads > 1) c->pool_ = std::make_unique<ThreadPool>(q.n_threads);
  c->logits_.assign(size_t(d.n_vocab), 0.0f);
  c->tokens_.reserve(size_t(q.n_ctx));
  return c;
}

Status Context::shift_window(int64_t needed) {
  // Keep n_keep, drop half of the rest (at least enough for `needed`), slide the remainder down.
  const int64_t n_past = this->n_past(), keep = std::min(params_.n_keep, n_past);
  int64_t discard = std::max((n_past - keep) / 2, needed - (n_ctx() - n_past));
  if (discard > n_past - keep || needed > n_ctx() - keep)
    return Status(StatusCode::kContextFull, "context of " + std::to_string(n_ctx()) + " tokens cannot take " + std::to_string(needed) + " more");
  model_->shift_cache(kv_, keep + discard, n_past - keep - discard, keep);
  tokens_.erase(tokens_.begin() + keep, tokens_.begin() + keep + discard);
  return Status::ok();
}

Status Context::eval_continue(const int32_t* tokens, int64_t n, float* all_logits, float* hidden) {
  if (n <= 0 || !tokens) return invalid_argument("eval: no tokens");
  const int64_t n_vocab = this->n_vocab();
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab)
      return invalid_argument("eval: token id " + std::to_string(tokens[i]) + " is outside the vocabulary of " + std::to_string(n_vocab));
  // Decided before anything is processed: a batch that cannot fit leaves the cache as it was.
  if (!params_.context_shift && n_past() + n > n_ctx())
    return Status(StatusCode::kContextFull, "context of " + std::to_string(n_ctx()) + " tokens is full (" + std::to_string(n_past()) +
                                                " used, " + std::to_string(n) + " more asked)");
  for (int64_t done = 0; done < n;) {
    if (take_interrupt()) return Status(StatusCode::kCancelled, "eval: interrupted");
    const int64_t chunk = std::min(n - done, scratch_.n_batch);
    if (n_past() + chunk > n_ctx()) {
      if (Status s = shift_window(chunk); !s) return s;  // context_shift is on: checked above
    }
    float* out = all_logits ? all_logits + done * n_vocab : logits_.data();
    float* h = hidden ? hidden + done * model_->desc().n_embd : nullptr;
    if (Status s = model_->forward(tokens + done, chunk, n_past(), kv_, scratch_, pool_.get(), out, all_logits != nullptr, h); !s)
      return s;
    if (all_logits) std::memcpy(logits_.data(), out + (chunk - 1) * n_vocab, size_t(n_vocab) * sizeof(float));
    tokens_.insert(tokens_.end(), tokens + done, tokens + done + chunk);
    done += chunk;
  }
  return Status::ok();
}

Status Context::truncate(int64_t n) {
  if (n < 0 || n > n_past()) return invalid_argument("truncate: position " + std::to_string(n) + " is outside 0.." + std::to_string(n_past()));
  tokens_.resize(size_t(n));
  return Status::ok();
}

// ---- state ------------------------------------------------------------------------------------------
// "EMBS", version, KV shape, element type and vocabulary (must match), n_past, tokens, then per
// layer the K rows and V rows [0, n_past) as the cache holds them, then the logits. Native byte
// order: a state stays on the device it was made on.

namespace {
constexpr char kStateMagic[4] = {'E', 'M', 'B', 'S'};
constexpr uint32_t kStateVersion = 2;  // 2: the element type (F16 caches)
struct StateHeader {
  char magic[4];
  uint32_t version;
  int64_t n_layer, k_width, v_width, n_vocab, n_past;
  uint32_t kv_type, reserved;
};
}  // namespace

std::vector<uint8_t> Context::save_state() const {
  const KvShape& s = kv_.shape();
  const int64_t n = n_past();
  StateHeader h{};
  std::memcpy(h.magic, kStateMagic, 4);
  h.version = kStateVersion;
  h.n_layer = s.n_layer, h.k_width = s.k_width, h.v_width = s.v_width, h.n_vocab = n_vocab(), h.n_past = n;
  h.kv_type = uint32_t(s.type);
  const size_t e = s.element_bytes();
  std::vector<uint8_t> out(sizeof h + size_t(n) * 4 + size_t(n) * s.bytes_per_token() + size_t(n_vocab()) * 4);
  uint8_t* p = out.data();
  auto put = [&](const void* src, size_t bytes) {
    if (bytes) std::memcpy(p, src, bytes);
    p += bytes;
  };
  put(&h, sizeof h);
  put(tokens_.data(), size_t(n) * 4);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    put(kv_.k(l), size_t(n * s.k_width) * e);
    put(kv_.v(l), size_t(n * s.v_width) * e);
  }
  put(logits_.data(), size_t(n_vocab()) * 4);
  return out;
}

Status Context::load_state(const uint8_t* data, size_t size) {
  StateHeader h{};
  if (!data || size < sizeof h) return invalid_argument("state: too short to be a saved state");
  std::memcpy(&h, data, sizeof h);
  const KvShape& s = kv_.shape();
  if (std::memcmp(h.magic, kStateMagic, 4) != 0 || h.version != kStateVersion) return invalid_argument("state: not a saved Ember state (bad magic or version)");
  if (h.n_layer != s.n_layer || h.k_width != s.k_width || h.v_width != s.v_width || h.n_vocab != n_vocab())
    return invalid_argument("state: saved by a context of a different model");
  if (h.kv_type != uint32_t(s.type))
    return invalid_argument("state: saved from a KV cache of another element type than this context's " +
                            std::string(dtype_name(s.type)));
  if (h.n_past < 0 || h.n_past > n_ctx())
    return invalid_argument("state: " + std::to_string(h.n_past) + " tokens do not fit a context of " + std::to_string(n_ctx()));
  const int64_t n = h.n_past;
  const size_t e = s.element_bytes();
  const size_t want = sizeof h + size_t(n) * 4 + size_t(n) * s.bytes_per_token() + size_t(n_vocab()) * 4;
  if (size != want) return invalid_argument("state: " + std::to_string(size) + " bytes, expected " + std::to_string(want));
  const uint8_t* p = data + sizeof h;
  auto get = [&](void* dst, size_t bytes) {
    if (bytes) std::memcpy(dst, p, bytes);
    p += bytes;
  };
  std::vector<int32_t> toks(static_cast<size_t>(n));
  get(toks.data(), size_t(n) * 4);
  for (int32_t t : toks)
    if (t < 0 || t >= n_vocab()) return invalid_argument("state: token id out of range");
  for (int64_t l = 0; l < s.n_layer; ++l) {
    get(kv_.k(l), size_t(n * s.k_width) * e);
    get(kv_.v(l), size_t(n * s.v_width) * e);
  }
  get(logits_.data(), size_t(n_vocab()) * 4);
  tokens_ = std::move(toks);
  return Status::ok();
}

}  // namespace ember
