// Model::load: the two front doors (a GGUF file, a Hugging Face folder) lead to one description,
// one set of named weights and one tokenizer; the family file builds the forward pass.
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "ember/core/quantize.h"
#include "ember/kernels/kernels.h"
#include "families.h"

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

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot open '" + path + "'");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Result<std::shared_ptr<const Model>> load_gguf(const std::string& path) {
  auto file = gguf::GgufFile::open(path);
  if (!file) return file.status();
  auto desc = describe_gguf(**file);
  if (!desc) return desc.status();
  auto tok = Tokenizer::from_gguf(**file);
  if (!tok) return tok.status();
  std::string tmpl;
  if (const gguf::Value* t = (*file)->find("tokenizer.chat_template"); t && t->as_string()) tmpl = std::string(*t->as_string());
  auto weights = Weights::from_gguf(std::move(*file));
  if (!weights) return weights.status();
  return ModelLoader::finish(make_model(*desc, std::move(*weights)), std::move(*tok), std::move(tmpl));
}

// A Hugging Face folder: config.json, tokenizer.json (+ tokenizer_config.json for the special
// tokens and chat template), model.safetensors or its sharded index.
Result<std::shared_ptr<const Model>> load_hf_dir(const std::string& dir) {
  auto config = read_text(dir + "/config.json");
  if (!config) return config.status();
  auto desc = describe_hf_config(*config, dir + "/config.json");
  if (!desc) return desc.status();
  auto tok_json = read_text(dir + "/tokenizer.json");
  if (!tok_json) return tok_json.status();
  std::string tok_config, tmpl;
  if (auto tc = read_text(dir + "/tokenizer_config.json")) {
    tok_config = std::move(*tc);
    const nlohmann::json c = nlohmann::json::parse(tok_config, nullptr, false);
    if (c.is_object() && c.contains("chat_template")) {
      const nlohmann::json& t = c["chat_template"];
      if (t.is_string()) tmpl = t.get<std::string>();
      if (t.is_array())  // [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        for (const auto& e : t)
          if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
            tmpl = e["template"].get<std::string>();
    }
  }
  auto tok = Tokenizer::from_hf_json_text(*tok_json, dir + "/tokenizer.json", tok_config);
  if (!tok) return tok.status();
  auto set = SafetensorsSet::open_dir(dir);
  if (!set) return set.status();
  auto weights = Weights::from_safetensors(std::move(*set), *desc, dir);
  if (!weights) return weights.status();
  return ModelLoader::finish(make_model(*desc, std::move(*weights)), std::move(*tok), std::move(tmpl));
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error("cannot open '" + path + "': no such file or folder");
  if (S_ISDIR(st.st_mode)) return load_hf_dir(path);
  return load_gguf(path);
}

namespace model_util {

void linear(const Tensor& W, const float* x, int64_t m, float* y, ThreadPool* pool) {
  const int64_t rows = W.ne[1], cols = W.ne[0];
  if (m == 1) {
    matvec(W.dtype, W.data, rows, cols, x, y, pool);
  } else {
    matmul(W.dtype, W.data, rows, cols, x, m, y, pool);
  }
}

void add_bias(float* x, const float* b, int64_t m, int64_t n) {
  for (int64_t t = 0; t < m; ++t)
    for (int64_t i = 0; i < n; ++i) x[t * n + i] += b[i];
}

void embed(const Tensor& table, int32_t id, float* out) { dequantize_row(table.dtype, table.row(id), out, table.ne[0]); }

}  // namespace model_util

}  // namespace ember
