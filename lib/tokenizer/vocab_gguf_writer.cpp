// Vocab -> GGUF tokenizer.ggml.* keys, the inverse of Tokenizer::from_gguf (converters use it).
#include <algorithm>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/tokenizer.h"

namespace ember {

void write_vocab_gguf(const Vocab& v, gguf::GgufWriter& w) {
  using gguf::Value;
  using gguf::ValueType;
  const char* model = v.model == Vocab::Model::kSpm ? "llama" : v.model == Vocab::Model::kWpm ? "bert" : "gpt2";
  w.add("tokenizer.ggml.model", Value::string(model));
  if (!v.pre.empty()) w.add("tokenizer.ggml.pre", Value::string(v.pre));
  w.add("tokenizer.ggml.tokens", Value::string_array(v.tokens));
  if (!v.scores.empty()) {
    std::vector<Value> scores;
    for (float s : v.scores) scores.push_back(Value::f32(s));
    w.add("tokenizer.ggml.scores", Value::array_of(ValueType::kFloat32, std::move(scores)));
  }
  if (!v.types.empty()) {
    std::vector<Value> types;
    for (TokenType t : v.types) types.push_back(Value::i32(int32_t(t)));
    w.add("tokenizer.ggml.token_type", Value::array_of(ValueType::kInt32, std::move(types)));
  }
  if (v.model == Vocab::Model::kBpe) {
    w.add("tokenizer.ggml.merges", Value::string_array(v.merges));
  }
  auto id = [&](const char* key, int32_t value) {
    if (value >= 0) w.add(key, Value::u32(uint32_t(value)));
  };
  id("tokenizer.ggml.bos_token_id", v.bos);
  id("tokenizer.ggml.eos_token_id", v.eos);
  id("tokenizer.ggml.eot_token_id", v.eot);
  id("tokenizer.ggml.unknown_token_id", v.unk);
  id("tokenizer.ggml.padding_token_id", v.pad);
  w.add("tokenizer.ggml.add_bos_token", Value::boolean(v.add_bos));
  w.add("tokenizer.ggml.add_eos_token", Value::boolean(v.add_eos));
  if (v.model == Vocab::Model::kSpm) w.add("tokenizer.ggml.add_space_prefix", Value::boolean(v.add_space_prefix));
}

}  // namespace ember
