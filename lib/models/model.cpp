// Model::load: the two front doors (a GGUF file, a Hugging Face folder) lead to one description,
// one set of named weights and one tokenizer; the family file builds the forward pass.
#include <sys/stat.h>

#include "ember/core/quantize.h"
#include "ember/kernels/kernels.h"
#include "families.h"
#include "hf_folder.h"

namespace ember {

Model::~Model() = default;

struct ModelLoader {
  static Result<std::shared_ptr<const Model>> finish(Result<std::unique_ptr<Model>> m, std::unique_ptr<Tokenizer> tok,
                                                     std::string chat_template) {
    if (!m) return m.status();
    std::unique_ptr<Model> model = std::move(*m);
    if (tok->n_tokens() > model->desc_.n_vocab)
      return format_error("the tokenizer has " + std::to_string(tok->n_tokens()) + " tokens but the model only " +
                          std::to_string(model->desc_.n_vocab) + " embeddings");
    model->tokenizer_ = std::move(tok);
    model->chat_template_ = std::move(chat_template);
    return std::shared_ptr<const Model>(std::move(model));
  }
};

namespace {

Result<std::unique_ptr<Model>> make_model(const ModelDescription& d, std::unique_ptr<Weights> w) {
  if (d.family == ModelFamily::kLlama) return make_llama_model(d, std::move(w));
  return make_deepseek_model(d, std::move(w));
}

Result<std::shared_ptr<const Model>> load_gguf(Result<std::unique_ptr<gguf::GgufFile>> file, const Model::Progress& progress,
                                               std::shared_ptr<std::vector<uint8_t>> bytes = nullptr) {
  if (!file) return file.status();
  auto desc = describe_gguf(**file);
  if (!desc) return desc.status();
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok) return tok.status();
  std::string tmpl;
  if (const gguf::Value* t = (*file)->find("tokenizer.chat_template"); t && t->as_string()) tmpl = std::string(*t->as_string());
  auto weights = Weights::from_gguf(std::move(*file), progress);
  if (!weights) return weights.status();
  if (bytes) (*weights)->keep_alive(std::move(bytes));
  return ModelLoader::finish(make_model(*desc, std::move(*weights)), std::move(*tok), std::move(tmpl));
}

// A Hugging Face folder: config.json, tokenizer.json (+ tokenizer_config.json for the special
// tokens and chat template), model.safetensors or its sharded index.
Result<std::shared_ptr<const Model>> load_hf_dir(const std::string& dir) {
  auto f = read_hf_folder(dir);
  if (!f) return f.status();
  return ModelLoader::finish(make_model(f->desc, std::move(f->weights)), std::move(f->tokenizer), std::move(f->chat_template));
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::load(const std::string& path, const Progress& progress) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error("cannot open '" + path + "': no such file or folder");
  if (S_ISDIR(st.st_mode)) return load_hf_dir(path);
  return load_gguf(gguf::GgufFile::open(path), progress);
}

Result<std::shared_ptr<const Model>> Model::load_from_memory(std::vector<uint8_t> bytes, const std::string& name,
                                                             const Progress& progress) {
  auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  return load_gguf(gguf::GgufFile::from_memory(owned->data(), owned->size(), name, /*owned=*/true), progress, owned);
}

const gguf::GgufFile* Model::gguf() const { return weights_->gguf(); }

const Tensor* Model::weight(std::string_view name) const {
  auto it = weights_->all().find(name);
  return it == weights_->all().end() ? nullptr : &it->second;
}

namespace model_util {

// Tokens per task of the elementwise steps: enough work (a few microseconds) to cover a dispatch.
constexpr int64_t kTokensPerTask = 8;

void linear(const Tensor& W, const float* x, int64_t m, float* y, ThreadPool* pool) {
  const int64_t rows = W.ne[1], cols = W.ne[0];
  if (m == 1) {
    matvec(W.dtype, W.data, rows, cols, x, y, pool);
  } else {
    matmul(W.dtype, W.data, rows, cols, x, m, y, pool);
  }
}

void linear_many(std::initializer_list<std::pair<const Tensor*, float*>> products, const float* x, int64_t m,
                 ThreadPool* pool) {
  constexpr size_t kMax = 8;
  if (products.size() > kMax) {
    for (const auto& [W, y] : products) linear(*W, x, m, y, pool);
    return;
  }
  MatvecJob jobs[kMax];
  int n = 0;
  for (const auto& [W, y] : products) jobs[n++] = {W->dtype, W->data, W->ne[1], y};
  if (m == 1) {
    matvec_many(jobs, n, products.begin()->first->ne[0], x, pool);
  } else {
    matmul_many(jobs, n, products.begin()->first->ne[0], x, m, pool);
  }
}

Tensor rows(const Tensor& m, int64_t r0, int64_t n) {
  Tensor t = m;
  t.data = m.row(r0);
  t.ne[1] = n;
  t.nb[2] = t.nb[3] = t.nb[1] * size_t(n);
  return t;
}

void ffn(const Tensor& wg, const Tensor& wu, const Tensor& wd, const float* x, int64_t m, float* gate, float* up,
         int64_t hidden, float* y, float* part, ThreadPool* pool) {
  const int64_t f = wg.ne[1], E = wd.ne[1];
  const int64_t step = m * f <= hidden ? f : std::max(kFfnSlice, hidden / m / kFfnSlice * kFfnSlice);
  const size_t down_stride = row_bytes(wd.dtype, f);
  for (int64_t f0 = 0; f0 < f; f0 += step) {
    const int64_t fc = std::min(step, f - f0);
    const Tensor g = rows(wg, f0, fc), u = rows(wu, f0, fc);
    linear_many({{&g, gate}, {&u, up}}, x, m, pool);
    for_tokens(m, pool, [&](int64_t t0, int64_t t1) {
      swiglu(gate + t0 * fc, up + t0 * fc, gate + t0 * fc, (t1 - t0) * fc);
    });
    float* out = f0 == 0 ? y : part;
    if (fc == f) {
      linear(wd, gate, m, out, pool);
    } else {
      matmul_strided(wd.dtype, static_cast<const char*>(wd.data) + row_bytes(wd.dtype, f0), down_stride, E, fc, gate, m,
                     out, pool);
    }
    if (f0 > 0) add_rows(y, part, m, E, pool);
  }
}

void for_tokens(int64_t n, ThreadPool* pool, FunctionRef<void(int64_t, int64_t)> fn) {
  parallel_for(pool, n, kTokensPerTask, fn);
}

void rmsnorm_rows(const float* x, const float* w, float* out, int64_t n, int64_t width, float eps, ThreadPool* pool) {
  for_tokens(n, pool, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) rmsnorm(x + t * width, w, out + t * width, width, eps);
  });
}

void add_rows(float* x, const float* y, int64_t n, int64_t width, ThreadPool* pool) {
  for_tokens(n, pool, [&](int64_t t0, int64_t t1) {
    for (int64_t i = t0 * width; i < t1 * width; ++i) x[i] += y[i];
  });
}

void add_bias(float* x, const float* b, int64_t m, int64_t n, ThreadPool* pool) {
  for_tokens(m, pool, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t i = 0; i < n; ++i) x[t * n + i] += b[i];
  });
}

void embed(const Tensor& table, int32_t id, float* out) { dequantize_row(table.dtype, table.row(id), out, table.ne[0]); }

void lm_head(const float* x, int64_t n, bool all_logits, const float* norm, const Tensor& w_out, float eps, float* work,
             float* logits, float* hidden, ThreadPool* pool) {
  const int64_t E = w_out.ne[0], first = all_logits ? 0 : n - 1;
  if (hidden) {
    rmsnorm_rows(x, norm, hidden, n, E, eps, pool);
    linear(w_out, hidden + first * E, n - first, logits, pool);
    return;
  }
  rmsnorm_rows(x + first * E, norm, work, n - first, E, eps, pool);
  linear(w_out, work, n - first, logits, pool);
}

Tensor TensorGetter::mat(const std::string& name, int64_t cols, int64_t rows) {
  if (!st_) return Tensor();
  auto r = w_.matrix(name, cols, rows);
  if (!r) {
    st_ = r.status();
    return Tensor();
  }
  return *r;
}

const float* TensorGetter::vec(const std::string& name, int64_t n, bool required) {
  if (!st_ || (!required && !w_.has(name))) return nullptr;
  auto r = w_.vector(name, n);
  if (!r) {
    st_ = r.status();
    return nullptr;
  }
  return *r;
}

Status check_batch(const ModelDescription& d, const int32_t* tokens, int64_t n, int64_t pos0, const KvCache& kv,
                   const Scratch& scratch) {
  if (n <= 0 || n > scratch.n_batch)
    return invalid_argument("batch of " + std::to_string(n) + " tokens (1.." + std::to_string(scratch.n_batch) + " allowed)");
  if (pos0 < 0 || pos0 + n > kv.n_ctx())
    return Status(StatusCode::kContextFull, "context of " + std::to_string(kv.n_ctx()) + " tokens is full");
  for (int64_t t = 0; t < n; ++t)
    if (tokens[t] < 0 || tokens[t] >= d.n_vocab)
      return invalid_argument("token id " + std::to_string(tokens[t]) + " is outside the vocabulary of " + std::to_string(d.n_vocab));
  return Status::ok();
}

}  // namespace model_util

}  // namespace ember
