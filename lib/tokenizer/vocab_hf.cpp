// Hugging Face tokenizer.json (the `tokenizers` library's format) for byte-level BPE models.
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "ember/tokenizer/tokenizer.h"
#include "formats/mapped_file.h"

namespace ember {
namespace {

using nlohmann::json;

// GPT-2's split regex: what a ByteLevel pre-tokenizer with use_regex=true applies.
const char* const kByteLevelRegex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Status collect_pre_tokenizers(const json& p, const std::string& path, std::vector<std::string>* patterns) {
  if (p.is_null()) return Status::ok();
  const std::string type = p.value("type", "");
  if (type == "Sequence") {
    for (const json& q : p.at("pretokenizers"))
      if (Status s = collect_pre_tokenizers(q, path, patterns); !s) return s;
    return Status::ok();
  }
  if (type == "Split") {
    if (p.value("behavior", "") != "Isolated" || p.value("invert", false))
      return unsupported(path + ": Split pre-tokenizer with behavior '" + p.value("behavior", "") + "' is not supported");
    const json& pat = p.at("pattern");
    if (pat.contains("Regex")) {
      patterns->push_back(pat["Regex"].get<std::string>());
    } else {
      return unsupported(path + ": Split pre-tokenizer with a String pattern is not supported");
    }
    return Status::ok();
  }
  if (type == "ByteLevel") {
    if (p.value("add_prefix_space", false)) return unsupported(path + ": ByteLevel add_prefix_space is not supported");
    if (p.value("use_regex", true)) patterns->push_back(kByteLevelRegex);
    return Status::ok();
  }
  return unsupported(path + ": pre-tokenizer '" + type + "' is not supported");
}

// A token id: must be a JSON integer in [0, 2^24) (a float such as 4e20 would be undefined
// behaviour to convert, and no vocabulary is that large).
int64_t token_id(const json& v) {
  if (!v.is_number_integer()) throw std::runtime_error("a token id is not an integer");
  const int64_t id = v.get<int64_t>();
  if (id < 0 || id >= (int64_t(1) << 24)) throw std::runtime_error("token id " + std::to_string(id) + " is out of range");
  return id;
}

// tokenizer_config.json names the BOS/EOS tokens (a string, or {"content": ...}) and whether
// BOS is added; the ids come from the vocabulary.
Status apply_tokenizer_config(std::string_view text, const std::string& path, Vocab* v) {
  const json c = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (c.is_discarded() || !c.is_object()) return format_error(path + ": tokenizer_config.json is not a JSON object");
  auto special = [&](const char* key, int32_t* out) {
    const json t = c.value(key, json());
    const std::string name = t.is_string() ? t.get<std::string>() : t.is_object() ? t.value("content", std::string()) : std::string();
    if (name.empty()) return;
    for (size_t i = 0; i < v->tokens.size(); ++i)
      if (v->tokens[i] == name) *out = int32_t(i);
  };
  special("bos_token", &v->bos);
  special("eos_token", &v->eos);
  special("unk_token", &v->unk);
  special("pad_token", &v->pad);
  if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) v->add_bos = c["add_bos_token"].get<bool>();
  if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean()) v->add_eos = c["add_eos_token"].get<bool>();
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json(const std::string& path) {
  auto text = read_regular_file(path);
  if (!text) return text.status();
  return from_hf_json_text(*text, path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_hf_json_text(std::string_view text, const std::string& path,
                                                                 std::string_view tokenizer_config) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return format_error(path + ": not valid JSON");
  try {
    const json& model = j.at("model");
    if (model.value("type", "") != "BPE")
      return unsupported(path + ": tokenizer model '" + model.value("type", "") + "' is not supported (BPE is)");
    if (model.value("byte_fallback", false)) return unsupported(path + ": BPE byte_fallback is not supported yet");
    Vocab v;
    v.model = Vocab::Model::kBpe;
    v.add_space_prefix = false;
    const json& vocab = model.at("vocab");
    size_t n = 0;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) n = std::max(n, size_t(token_id(it.value())) + 1);
    for (const json& a : j.value("added_tokens", json::array())) n = std::max(n, size_t(token_id(a.at("id"))) + 1);
    v.tokens.assign(n, std::string());
    v.types.assign(n, TokenType::kUnused);
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      const int64_t id = token_id(it.value());
      v.tokens[size_t(id)] = it.key();
      v.types[size_t(id)] = TokenType::kNormal;
    }
    for (const json& a : j.value("added_tokens", json::array())) {
      const size_t id = size_t(token_id(a.at("id")));
      v.tokens[id] = a.at("content").get<std::string>();
      v.types[id] = a.value("special", false) ? TokenType::kControl : TokenType::kUserDefined;
    }
    for (const json& m : model.at("merges")) {
      // Older files: "a b"; newer: ["a", "b"].
      v.merges.push_back(m.is_string() ? m.get<std::string>() : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
    }
    const json& norm = j.value("normalizer", json());
    if (!norm.is_null()) {
      if (norm.value("type", "") == "NFC") {
        v.nfc = true;
      } else {
        return unsupported(path + ": normalizer '" + norm.value("type", "") + "' is not supported");
      }
    }
    if (Status s = collect_pre_tokenizers(j.value("pre_tokenizer", json()), path, &v.pre_patterns); !s) return s;
    if (v.pre_patterns.empty()) return unsupported(path + ": no pre-tokenizer regex");
    // Special ids from the names Hugging Face models use.
    for (size_t i = 0; i < n; ++i) {
      const std::string& t = v.tokens[i];
      if (t == "<|endoftext|>" && v.eos < 0) v.eos = int32_t(i);
      if (t == "<|im_end|>") v.eot = int32_t(i);
    }
    if (!tokenizer_config.empty())
      if (Status s = apply_tokenizer_config(tokenizer_config, path, &v); !s) return s;
    auto tok = from_vocab(std::move(v));
    if (!tok) return Status(tok.status().code(), path + ": " + tok.status().message());
    return tok;
  } catch (const std::exception& e) {
    return format_error(path + ": unexpected tokenizer.json structure: " + e.what());
  }
}

}  // namespace ember
