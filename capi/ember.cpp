// The C ABI (include/ember.h) over the C++ runtime: a thin translation layer. Every entry point
// catches everything (no exception crosses into C), checks its pointers, leaves out-parameters
// alone on error and records the message in the thread's (and the context's) last error.
#include "ember.h"

#include <sys/stat.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ember/core/log.h"
#include "ember/formats/gguf.h"
#include "ember/runtime/chat.h"
#include "ember/runtime/context.h"
#include "ember/runtime/generate.h"
#include "ember/runtime/sampler.h"
#include "formats/mapped_file.h"

struct ember_model {
  std::shared_ptr<const ember::Model> model;
};

struct ember_context {
  std::unique_ptr<ember::Context> ctx;
  uint64_t seed = 0;
  std::string last_error;
  std::vector<float> hidden;  // final hidden states of the last decode (n x n_embd)
  int64_t hidden_rows = 0;
};

struct ember_sampler {
  std::unique_ptr<ember::Sampler> sampler;
};

// The C enums mirror the C++ ones value for value.
static_assert(int(EMBER_CONTEXT_FULL) == int(ember::StatusCode::kContextFull) && int(EMBER_INTERNAL) == int(ember::StatusCode::kInternal));
static_assert(int(EMBER_STOP_CONTEXT_FULL) == int(ember::StopReason::kContextFull) && int(EMBER_STOP_CALLBACK) == int(ember::StopReason::kCallback));
static_assert(int(EMBER_LOG_DEBUG) == int(ember::LogLevel::kDebug));
// Released layouts are locked: fields are only appended.
static_assert(offsetof(ember_model_params, use_mmap) == sizeof(size_t));
static_assert(offsetof(ember_context_params, n_ctx) == sizeof(size_t));
static_assert(offsetof(ember_context_params, kv_type) == offsetof(ember_context_params, n_keep) + sizeof(int64_t));
static_assert(offsetof(ember_sampler_params, temperature) == sizeof(size_t));
static_assert(offsetof(ember_generate_params, max_tokens) == sizeof(size_t));

namespace {

using ember::Status;
using ember::StatusCode;

thread_local std::string t_last_error;

ember_status to_c(StatusCode c) { return static_cast<ember_status>(static_cast<int>(c)); }

ember_status fail(const Status& s, ember_context* ctx = nullptr) {
  t_last_error = s.to_string();
  if (ctx) ctx->last_error = t_last_error;
  ember::log_message(ember::LogLevel::kError, t_last_error);
  return to_c(s.code());
}

ember_status ok(ember_context* ctx = nullptr) {
  t_last_error.clear();
  if (ctx) ctx->last_error.clear();
  return EMBER_OK;
}

ember_status bad_arg(const char* fn, const char* what) { return fail(ember::invalid_argument(std::string(fn) + ": " + what)); }

// Runs body, turning any exception into EMBER_OUT_OF_MEMORY / EMBER_INTERNAL.
template <class F>
ember_status guarded(const char* fn, ember_context* ctx, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(ember::out_of_memory(std::string(fn) + ": out of memory"), ctx);
  } catch (const std::exception& e) {
    return fail(ember::internal_error(std::string(fn) + ": " + e.what()), ctx);
  } catch (...) {
    return fail(ember::internal_error(std::string(fn) + ": unknown exception"), ctx);
  }
}

// snprintf-style output of a string.
void copy_out(const std::string& s, char* buf, size_t buf_size, size_t* out_needed) {
  if (buf && buf_size > 0) {
    const size_t n = std::min(s.size(), buf_size - 1);
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
  }
  if (out_needed) *out_needed = s.size();
}

// Every size a released ember.h gave each struct: a program built against any of those headers
// keeps working. Fields are only appended, so a smaller struct is a prefix of today's; appending a
// field adds its size here (and needs no new SONAME).
constexpr size_t kModelParamsSizes[] = {sizeof(ember_model_params)};                           // ABI 1
constexpr size_t kLoaderSizes[] = {sizeof(ember_loader)};                                       // ABI 1
constexpr size_t kContextParamsSizes[] = {offsetof(ember_context_params, kv_type),              // ABI 1
                                          sizeof(ember_context_params)};                        // ABI 2: kv_type
constexpr size_t kSamplerParamsSizes[] = {sizeof(ember_sampler_params)};                       // ABI 1
constexpr size_t kGenerateParamsSizes[] = {sizeof(ember_generate_params)};                     // ABI 1
constexpr size_t kGenerateResultSizes[] = {sizeof(ember_generate_result)};                     // ABI 1

size_t struct_size_of(const void* p) {
  size_t sz;
  std::memcpy(&sz, p, sizeof sz);
  return sz;
}

template <size_t N>
bool released_size(size_t sz, const size_t (&sizes)[N]) {
  for (size_t s : sizes)
    if (sz == s) return true;
  return false;
}

// The caller's struct as today's: the fields its struct_size holds, the others their defaults
// (init). nullptr in: all defaults. False when struct_size is no released size.
template <class T, size_t N>
bool read_params(const T* in, const size_t (&sizes)[N], void (*init)(T*), T* out) {
  init(out);
  if (!in) return true;
  const size_t sz = struct_size_of(in);
  if (!released_size(sz, sizes)) return false;
  std::memcpy(static_cast<void*>(out), in, sz);
  out->struct_size = sizeof(T);
  return true;
}

std::string struct_size_error(const char* what, const void* p, const char* init) {
  return std::string(what) + "->struct_size is " + std::to_string(struct_size_of(p)) +
         ", which no released ember.h has (use " + init + ")";
}

ember_status finish_load(ember::Result<std::shared_ptr<const ember::Model>> m, const ember_model_params* p,
                         ember_model** out) {
  if (!m) return fail(m.status());
  if (p && p->progress && p->progress(1.0f, p->progress_user_data) != 0)
    return fail(Status(StatusCode::kCancelled, "ember_model_load: cancelled by the progress callback"));
  auto* h = new ember_model{std::move(*m)};
  const ember::ModelDescription& d = h->model->desc();
  ember::log_message(ember::LogLevel::kInfo, "loaded " + d.architecture + " model: " + std::to_string(d.n_layer) + " layers, " +
                                                 std::to_string(h->model->weight_bytes()) + " bytes of weights");
  *out = h;
  return ok();
}

// The load callback as the runtime's: fractions mapped onto [from, from + span].
ember::Model::Progress progress_of(const ember_model_params* p, float from = 0.0f, float span = 1.0f) {
  if (!p || !p->progress) return {};
  return [p, from, span](float f) { return p->progress(from + span * f, p->progress_user_data) == 0; };
}

bool start_load(const ember_model_params* p) { return !(p && p->progress && p->progress(0.0f, p->progress_user_data) != 0); }

std::string value_text(const ember::gguf::Value& v) {
  using ember::gguf::ValueType;
  if (auto s = v.as_string()) return std::string(*s);
  if (v.type() == ValueType::kBool) return *v.as_bool() ? "true" : "false";
  if (v.type() == ValueType::kFloat32 || v.type() == ValueType::kFloat64) return nlohmann::json(*v.as_float()).dump();
  if (!v.is_array()) return v.as_int() ? std::to_string(*v.as_int()) : std::to_string(v.as_uint().value_or(0));
  nlohmann::json a = nlohmann::json::array();
  if (v.array_type() == ValueType::kString) {
    for (std::string_view s : v.strings()) a.push_back(std::string(s));
  } else if (auto f = v.float_array()) {
    const bool ints = v.int_array().has_value();
    for (size_t i = 0; i < f->size(); ++i) a.push_back(ints ? nlohmann::json((*v.int_array())[i]) : nlohmann::json((*f)[i]));
  } else {
    for (const auto& item : v.items()) a.push_back(value_text(item));
  }
  return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

// ---- versions, errors, logging ----------------------------------------------------------------

extern "C" {

int32_t ember_version_number(void) { return EMBER_VERSION_NUMBER; }
const char* ember_version_string(void) { return EMBER_VERSION_STRING; }
int32_t ember_abi_version(void) { return EMBER_ABI_VERSION; }

const char* ember_status_str(ember_status status) {
  switch (status) {
    case EMBER_OK: return "EMBER_OK";
    case EMBER_INVALID_ARGUMENT: return "EMBER_INVALID_ARGUMENT";
    case EMBER_IO: return "EMBER_IO";
    case EMBER_FORMAT: return "EMBER_FORMAT";
    case EMBER_UNSUPPORTED: return "EMBER_UNSUPPORTED";
    case EMBER_OUT_OF_MEMORY: return "EMBER_OUT_OF_MEMORY";
    case EMBER_CONTEXT_FULL: return "EMBER_CONTEXT_FULL";
    case EMBER_CANCELLED: return "EMBER_CANCELLED";
    case EMBER_INTERNAL: return "EMBER_INTERNAL";
  }
  return "EMBER_UNKNOWN_STATUS";
}

const char* ember_last_error(void) { return t_last_error.c_str(); }

void ember_log_set(ember_log_callback callback, void* user_data) {
  // The C callback takes the C enum; a trampoline converts rather than casting function types.
  static ember_log_callback c_callback = nullptr;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  c_callback = callback;
  if (!callback) return ember::set_log_sink(nullptr, nullptr);
  ember::set_log_sink([](ember::LogLevel level, const char* message, void* user) {
    if (ember_log_callback cb = c_callback) cb(static_cast<ember_log_level>(static_cast<int>(level)), message, user);
  }, user_data);
}

// ---- models -------------------------------------------------------------------------------------

void ember_model_params_init(ember_model_params* p) {
  if (!p) return;
  std::memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->use_mmap = 1;
}

ember_status ember_model_load(const char* path, const ember_model_params* params, ember_model** out) {
  if (!path || !out) return bad_arg("ember_model_load", "path and out_model must not be NULL");
  ember_model_params mp;
  if (!read_params(params, kModelParamsSizes, ember_model_params_init, &mp))
    return bad_arg("ember_model_load", struct_size_error("params", params, "ember_model_params_init").c_str());
  const ember_model_params* p = &mp;
  return guarded("ember_model_load", nullptr, [&] {
    if (!start_load(p)) return fail(Status(StatusCode::kCancelled, "ember_model_load: cancelled by the progress callback"));
    struct stat st {};
    if (!p->use_mmap && ::stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      // Anything but a regular file (a folder, a FIFO, a missing path) goes to Model::load, which
      // says what it is without waiting on it.
      auto text = ember::read_regular_file(path);
      if (!text) return fail(text.status());
      std::vector<uint8_t> bytes(text->begin(), text->end());
      text->clear();
      text->shrink_to_fit();
      return finish_load(ember::Model::load_from_memory(std::move(bytes), path, progress_of(p)), p, out);
    }
    return finish_load(ember::Model::load(path, progress_of(p)), p, out);
  });
}

ember_status ember_model_load_from_memory(const void* data, size_t size, const ember_model_params* params, ember_model** out) {
  if (!data || !out) return bad_arg("ember_model_load_from_memory", "data and out_model must not be NULL");
  ember_model_params mp;
  if (!read_params(params, kModelParamsSizes, ember_model_params_init, &mp))
    return bad_arg("ember_model_load_from_memory", struct_size_error("params", params, "ember_model_params_init").c_str());
  const ember_model_params* p = &mp;
  return guarded("ember_model_load_from_memory", nullptr, [&] {
    if (!start_load(p)) return fail(Status(StatusCode::kCancelled, "ember_model_load_from_memory: cancelled by the progress callback"));
    const auto* b = static_cast<const uint8_t*>(data);
    return finish_load(ember::Model::load_from_memory(std::vector<uint8_t>(b, b + size), "<memory>", progress_of(p)), p, out);
  });
}

ember_status ember_model_load_from_loader(const ember_loader* loader, const ember_model_params* params, ember_model** out) {
  if (!loader || !out || !loader->size || !loader->read) return bad_arg("ember_model_load_from_loader", "loader (with size and read) and out_model must not be NULL");
  if (!released_size(struct_size_of(loader), kLoaderSizes))
    return bad_arg("ember_model_load_from_loader", struct_size_error("loader", loader, "sizeof(ember_loader)").c_str());
  ember_model_params mp;
  if (!read_params(params, kModelParamsSizes, ember_model_params_init, &mp))
    return bad_arg("ember_model_load_from_loader", struct_size_error("params", params, "ember_model_params_init").c_str());
  const ember_model_params* p = &mp;
  struct Closer {
    const ember_loader* l;
    ~Closer() {
      if (l->close) l->close(l->user_data);
    }
  } closer{loader};
  return guarded("ember_model_load_from_loader", nullptr, [&] {
    if (!start_load(p)) return fail(Status(StatusCode::kCancelled, "ember_model_load_from_loader: cancelled by the progress callback"));
    const int64_t size = loader->size(loader->user_data);
    if (size <= 0 || size > (int64_t(1) << 40)) return fail(ember::io_error("ember_model_load_from_loader: size() returned " + std::to_string(size)));
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    size_t have = 0;
    while (have < bytes.size()) {
      const int64_t got = loader->read(bytes.data() + have, bytes.size() - have, loader->user_data);
      if (got < 0) return fail(ember::io_error("ember_model_load_from_loader: read() failed at byte " + std::to_string(have)));
      if (got == 0 || size_t(got) > bytes.size() - have)
        return fail(ember::io_error("ember_model_load_from_loader: the stream ended at byte " + std::to_string(have) + " of " + std::to_string(size)));
      have += size_t(got);
      if (p->progress && p->progress(0.5f * float(have) / float(size), p->progress_user_data) != 0)
        return fail(Status(StatusCode::kCancelled, "ember_model_load_from_loader: cancelled by the progress callback"));
    }
    // Reading was the first half; copying and regrouping the weights is the second.
    return finish_load(ember::Model::load_from_memory(std::move(bytes), "<loader>", progress_of(p, 0.5f, 0.5f)), p, out);
  });
}

void ember_model_free(ember_model* model) { delete model; }

const char* ember_model_architecture(const ember_model* m) { return m ? m->model->desc().architecture.c_str() : ""; }
int64_t ember_model_n_vocab(const ember_model* m) { return m ? m->model->desc().n_vocab : 0; }
int64_t ember_model_n_embd(const ember_model* m) { return m ? m->model->desc().n_embd : 0; }
int64_t ember_model_n_layer(const ember_model* m) { return m ? m->model->desc().n_layer : 0; }
int64_t ember_model_n_ctx_train(const ember_model* m) { return m ? m->model->desc().n_ctx_train : 0; }
uint64_t ember_model_size_bytes(const ember_model* m) { return m ? m->model->weight_bytes() : 0; }
int32_t ember_model_token_bos(const ember_model* m) { return m ? m->model->tokenizer().vocab().bos : -1; }
int32_t ember_model_token_eos(const ember_model* m) { return m ? m->model->tokenizer().vocab().eos : -1; }
int32_t ember_model_token_eot(const ember_model* m) { return m ? m->model->tokenizer().vocab().eot : -1; }
const char* ember_model_chat_template(const ember_model* m) { return m ? m->model->chat_template().c_str() : ""; }

ember_status ember_model_meta(const ember_model* m, const char* key, char* buf, size_t buf_size, size_t* out_needed) {
  if (!m || !key) return bad_arg("ember_model_meta", "model and key must not be NULL");
  return guarded("ember_model_meta", nullptr, [&] {
    const ember::gguf::GgufFile* f = m->model->gguf();
    const ember::gguf::Value* v = f ? f->find(key) : nullptr;
    if (!v) return fail(ember::invalid_argument(std::string("ember_model_meta: no metadata key '") + key + "'"));
    copy_out(value_text(*v), buf, buf_size, out_needed);
    return ok();
  });
}

// ---- text <-> tokens ------------------------------------------------------------------------------

ember_status ember_tokenize(const ember_model* m, const char* text, int64_t len, int32_t add_special, int32_t parse_special,
                            int32_t* tokens, size_t capacity, size_t* out_n) {
  if (!m || !text || !out_n || (!tokens && capacity > 0)) return bad_arg("ember_tokenize", "model, text and out_n_tokens must not be NULL");
  return guarded("ember_tokenize", nullptr, [&] {
    const std::string_view s = len < 0 ? std::string_view(text) : std::string_view(text, size_t(len));
    auto ids = m->model->tokenizer().encode(s, add_special != 0, parse_special != 0);
    if (!ids) return fail(ids.status());
    std::memcpy(tokens, ids->data(), std::min(capacity, ids->size()) * sizeof(int32_t));
    *out_n = ids->size();
    return ok();
  });
}

ember_status ember_detokenize(const ember_model* m, const int32_t* tokens, size_t n, int32_t special, char* buf, size_t buf_size,
                              size_t* out_needed) {
  if (!m || (!tokens && n > 0) || !out_needed) return bad_arg("ember_detokenize", "model, tokens and out_needed must not be NULL");
  return guarded("ember_detokenize", nullptr, [&] {
    const int64_t V = m->model->tokenizer().n_tokens();
    for (size_t i = 0; i < n; ++i)
      if (tokens[i] < 0 || tokens[i] >= V)
        return fail(ember::invalid_argument("ember_detokenize: token id " + std::to_string(tokens[i]) + " is outside the vocabulary"));
    copy_out(m->model->tokenizer().decode(std::vector<int32_t>(tokens, tokens + n), special != 0), buf, buf_size, out_needed);
    return ok();
  });
}

ember_status ember_token_to_piece(const ember_model* m, int32_t token, int32_t special, char* buf, size_t buf_size,
                                  size_t* out_needed) {
  if (!m || !out_needed) return bad_arg("ember_token_to_piece", "model and out_needed must not be NULL");
  if (token < 0 || token >= m->model->tokenizer().n_tokens())
    return fail(ember::invalid_argument("ember_token_to_piece: token id " + std::to_string(token) + " is outside the vocabulary"));
  return guarded("ember_token_to_piece", nullptr, [&] {
    copy_out(m->model->tokenizer().piece(token, special != 0), buf, buf_size, out_needed);
    return ok();
  });
}

ember_status ember_chat_apply_template(const ember_model* m, const ember_chat_message* msgs, size_t n, int32_t add_generation_prompt,
                                       char* buf, size_t buf_size, size_t* out_needed) {
  if (!m || (!msgs && n > 0) || !out_needed) return bad_arg("ember_chat_apply_template", "model, messages and out_needed must not be NULL");
  return guarded("ember_chat_apply_template", nullptr, [&] {
    std::vector<ember::ChatMessage> v;
    for (size_t i = 0; i < n; ++i) {
      if (!msgs[i].role || !msgs[i].content) return bad_arg("ember_chat_apply_template", "a message has a NULL role or content");
      v.push_back({msgs[i].role, msgs[i].content});
    }
    auto text = ember::render_chat(*m->model, v, add_generation_prompt != 0);
    if (!text) return fail(text.status());
    copy_out(*text, buf, buf_size, out_needed);
    return ok();
  });
}

// ---- contexts -------------------------------------------------------------------------------------

void ember_context_params_init(ember_context_params* p) {
  if (!p) return;
  std::memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
}

ember_status ember_context_create(ember_model* m, const ember_context_params* params, ember_context** out) {
  if (!m || !out) return bad_arg("ember_context_create", "model and out_context must not be NULL");
  ember_context_params cparams;
  if (!read_params(params, kContextParamsSizes, ember_context_params_init, &cparams))
    return bad_arg("ember_context_create", struct_size_error("params", params, "ember_context_params_init").c_str());
  const ember_context_params* p = &cparams;
  return guarded("ember_context_create", nullptr, [&] {
    ember::ContextParams cp;
    cp.n_ctx = p->n_ctx;
    cp.n_batch = p->n_batch;
    cp.n_threads = p->n_threads;
    cp.memory_limit = p->memory_limit;
    cp.context_shift = p->context_shift != 0;
    cp.n_keep = p->n_keep;
    if (p->kv_type != EMBER_KV_F32 && p->kv_type != EMBER_KV_F16)
      return bad_arg("ember_context_create", "params->kv_type must be EMBER_KV_F32 or EMBER_KV_F16");
    cp.kv_type = p->kv_type == EMBER_KV_F16 ? ember::DType::F16 : ember::DType::F32;
    auto c = ember::Context::create(m->model, cp);
    if (!c) return fail(c.status());
    auto* h = new ember_context();
    h->ctx = std::move(*c);
    h->seed = p->seed;
    *out = h;
    return ok();
  });
}

void ember_context_free(ember_context* ctx) { delete ctx; }
int64_t ember_context_n_ctx(const ember_context* c) { return c ? c->ctx->n_ctx() : 0; }
int64_t ember_context_n_past(const ember_context* c) { return c ? c->ctx->n_past() : 0; }
uint64_t ember_context_memory_bytes(const ember_context* c) { return c ? c->ctx->memory_bytes() : 0; }
void ember_context_interrupt(ember_context* c) {
  if (c) c->ctx->interrupt();
}
const char* ember_context_last_error(const ember_context* c) { return c ? c->last_error.c_str() : ""; }

ember_status ember_context_truncate(ember_context* c, int64_t n_keep) {
  if (!c) return bad_arg("ember_context_truncate", "ctx must not be NULL");
  return guarded("ember_context_truncate", c, [&] {
    if (Status s = c->ctx->truncate(n_keep); !s) return fail(s, c);
    return ok(c);
  });
}

ember_status ember_decode(ember_context* c, const int32_t* tokens, size_t n) {
  if (!c || !tokens || n == 0) return bad_arg("ember_decode", "ctx and tokens must not be NULL, n_tokens > 0");
  return guarded("ember_decode", c, [&] {
    const int64_t E = c->ctx->model().desc().n_embd;
    c->hidden.resize(n * size_t(E));
    c->hidden_rows = 0;
    if (Status s = c->ctx->eval(tokens, int64_t(n), nullptr, c->hidden.data()); !s) return fail(s, c);
    c->hidden_rows = int64_t(n);
    return ok(c);
  });
}

const float* ember_get_logits(const ember_context* c) { return c && c->ctx->n_past() > 0 ? c->ctx->logits() : nullptr; }

ember_status ember_get_embeddings(const ember_context* c, ember_pooling pooling, float* out, size_t capacity) {
  if (!c || !out) return bad_arg("ember_get_embeddings", "ctx and out must not be NULL");
  const int64_t E = c->ctx->model().desc().n_embd;
  if (capacity < size_t(E)) return bad_arg("ember_get_embeddings", "out must hold n_embd floats");
  if (c->hidden_rows == 0) return bad_arg("ember_get_embeddings", "nothing decoded yet");
  if (pooling != EMBER_POOLING_LAST && pooling != EMBER_POOLING_MEAN) return bad_arg("ember_get_embeddings", "unknown pooling");
  const float* h = c->hidden.data();
  if (pooling == EMBER_POOLING_LAST) {
    std::memcpy(out, h + (c->hidden_rows - 1) * E, size_t(E) * sizeof(float));
  } else {
    for (int64_t i = 0; i < E; ++i) {
      double s = 0;
      for (int64_t t = 0; t < c->hidden_rows; ++t) s += h[t * E + i];
      out[i] = float(s / double(c->hidden_rows));
    }
  }
  return ok();
}

ember_status ember_context_state_save(const ember_context* c, void* buf, size_t buf_size, size_t* out_needed) {
  if (!c || !out_needed || (!buf && buf_size > 0)) return bad_arg("ember_context_state_save", "ctx and out_needed must not be NULL");
  return guarded("ember_context_state_save", nullptr, [&] {
    const std::vector<uint8_t> s = c->ctx->save_state();
    if (buf && buf_size >= s.size()) std::memcpy(buf, s.data(), s.size());
    *out_needed = s.size();
    if (buf_size > 0 && buf_size < s.size())
      return fail(ember::invalid_argument("ember_context_state_save: the buffer holds " + std::to_string(buf_size) + " bytes, the state needs " +
                                          std::to_string(s.size())));
    return ok();
  });
}

ember_status ember_context_state_load(ember_context* c, const void* data, size_t size) {
  if (!c || !data) return bad_arg("ember_context_state_load", "ctx and data must not be NULL");
  return guarded("ember_context_state_load", c, [&] {
    if (Status s = c->ctx->load_state(static_cast<const uint8_t*>(data), size); !s) return fail(s, c);
    c->hidden_rows = 0;
    return ok(c);
  });
}

// ---- sampling -----------------------------------------------------------------------------------

void ember_sampler_params_init(ember_sampler_params* p) {
  if (!p) return;
  std::memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  const ember::SamplerParams d;
  p->temperature = d.temperature;
  p->top_k = d.top_k;
  p->top_p = d.top_p;
  p->min_p = d.min_p;
  p->repeat_penalty = d.repeat_penalty;
  p->repeat_last_n = d.repeat_last_n;
  p->presence_penalty = d.presence_penalty;
  p->frequency_penalty = d.frequency_penalty;
  p->seed = d.seed;
}

ember_status ember_sampler_create(const ember_model* m, const ember_sampler_params* params, ember_sampler** out) {
  if (!m || !params || !out) return bad_arg("ember_sampler_create", "model, params and out_sampler must not be NULL");
  ember_sampler_params sparams;
  if (!read_params(params, kSamplerParamsSizes, ember_sampler_params_init, &sparams))
    return bad_arg("ember_sampler_create", struct_size_error("params", params, "ember_sampler_params_init").c_str());
  const ember_sampler_params* p = &sparams;
  return guarded("ember_sampler_create", nullptr, [&] {
    ember::SamplerParams sp;
    sp.temperature = p->temperature;
    sp.top_k = p->top_k;
    sp.top_p = p->top_p;
    sp.min_p = p->min_p;
    sp.repeat_penalty = p->repeat_penalty;
    sp.repeat_last_n = p->repeat_last_n;
    sp.presence_penalty = p->presence_penalty;
    sp.frequency_penalty = p->frequency_penalty;
    sp.seed = p->seed;
    if (Status s = ember::validate(sp); !s) return fail(s);
    *out = new ember_sampler{std::make_unique<ember::Sampler>(sp, m->model->desc().n_vocab)};
    return ok();
  });
}

void ember_sampler_free(ember_sampler* s) { delete s; }

void ember_sampler_reseed(ember_sampler* s, uint64_t seed) {
  if (s) s->sampler->reseed(seed);
}

ember_status ember_sampler_sample(ember_sampler* s, const ember_context* c, int32_t* out_token) {
  if (!s || !c || !out_token) return bad_arg("ember_sampler_sample", "sampler, ctx and out_token must not be NULL");
  if (c->ctx->n_past() == 0) return bad_arg("ember_sampler_sample", "the context has no logits yet (decode first)");
  return guarded("ember_sampler_sample", nullptr, [&] {
    if (Status v = ember::check_vocabulary(*s->sampler, c->ctx->model().desc().n_vocab); !v) return fail(v);
    *out_token = s->sampler->sample(c->ctx->logits(), c->ctx->tokens());
    return ok();
  });
}

// ---- generation ---------------------------------------------------------------------------------

void ember_generate_params_init(ember_generate_params* p) {
  if (!p) return;
  std::memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->max_tokens = 256;
  p->add_special = 1;
}

void ember_generate_result_init(ember_generate_result* r) {
  if (!r) return;
  std::memset(r, 0, sizeof *r);
  r->struct_size = sizeof *r;
}

ember_status ember_generate(ember_context* c, ember_sampler* sampler, const char* prompt, const ember_generate_params* params,
                            ember_text_callback callback, void* user_data, ember_generate_result* result) {
  if (!c || !prompt) return bad_arg("ember_generate", "ctx and prompt must not be NULL");
  ember_generate_params gparams;
  if (!read_params(params, kGenerateParamsSizes, ember_generate_params_init, &gparams))
    return bad_arg("ember_generate", struct_size_error("params", params, "ember_generate_params_init").c_str());
  const ember_generate_params* p = &gparams;
  if (p->n_stop > 0 && !p->stop) return bad_arg("ember_generate", "stop is NULL but n_stop > 0");
  for (size_t i = 0; i < p->n_stop; ++i)
    if (!p->stop[i]) return bad_arg("ember_generate", ("stop[" + std::to_string(i) + "] is NULL").c_str());
  if (result && !released_size(struct_size_of(result), kGenerateResultSizes))
    return bad_arg("ember_generate", struct_size_error("result", result, "ember_generate_result_init").c_str());
  return guarded("ember_generate", c, [&] {
    const ember::Model& m = c->ctx->model();
    std::vector<int32_t> tokens;
    if (*prompt) {
      const bool bos = p->add_special && c->ctx->n_past() == 0;
      auto t = bos ? ember::prompt_tokens(m, prompt, p->parse_special != 0) : m.tokenizer().encode(prompt, false, p->parse_special != 0);
      if (!t) return fail(t.status(), c);
      tokens = std::move(*t);
    }
    if (tokens.empty() && c->ctx->n_past() == 0) return fail(ember::invalid_argument("ember_generate: empty prompt and empty context"), c);
    ember::GenerateParams gp;
    gp.max_tokens = p->max_tokens;
    for (size_t i = 0; i < p->n_stop; ++i)
      if (p->stop[i] && *p->stop[i]) gp.stop.emplace_back(p->stop[i]);
    const ember::Vocab& v = m.tokenizer().vocab();
    gp.strip_leading_space = v.model == ember::Vocab::Model::kSpm && !tokens.empty() && tokens.back() == v.bos;
    std::unique_ptr<ember::Sampler> greedy;
    ember::Sampler* s = sampler ? sampler->sampler.get() : nullptr;
    if (!s) {
      ember::SamplerParams sp;
      sp.temperature = 0;
      sp.seed = c->seed;
      greedy = std::make_unique<ember::Sampler>(sp, m.desc().n_vocab);
      s = greedy.get();
    }
    auto r = ember::generate(*c->ctx, *s, tokens, gp, [&](std::string_view text) {
      return !callback || callback(text.data(), text.size(), user_data) == 0;
    });
    if (!r) return fail(r.status(), c);
    if (result) {  // as many fields as the caller's struct holds
      ember_generate_result full;
      ember_generate_result_init(&full);
      full.n_prompt_tokens = int64_t(tokens.size());
      full.n_generated_tokens = int64_t(r->tokens.size());
      full.stop_reason = static_cast<ember_stop_reason>(static_cast<int>(r->reason));
      full.prefill_seconds = r->prefill_seconds;
      full.decode_seconds = r->decode_seconds;
      const size_t sz = struct_size_of(result);
      std::memcpy(static_cast<void*>(result), &full, sz);
      result->struct_size = sz;
    }
    c->hidden_rows = 0;
    return ok(c);
  });
}

}  // extern "C"
