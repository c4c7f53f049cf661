// Pre-tokenization of byte-level BPE models: the text is cut into words by the model's regexes
// before BPE runs inside each word. Regexes run in sequence, each over the pieces the previous one
// left; the text between matches stays as pieces of its own (Hugging Face's Split with "isolated"
// behaviour, as llama.cpp reproduces it). PCRE2 with Unicode properties does the matching.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"

namespace ember {

class PreTokenizer {
 public:
  // The regexes of pre-tokenizer `name` (GGUF tokenizer.ggml.pre); UNSUPPORTED if unknown.
  static Result<std::unique_ptr<PreTokenizer>> for_name(const std::string& name);
  static Result<std::unique_ptr<PreTokenizer>> from_patterns(const std::vector<std::string>& patterns);
  // The GGUF name (tokenizer.ggml.pre) of a pre-tokenizer that splits exactly as `patterns` do
  // (tokenizer.json spells regexes differently from llama.cpp, so they are compared on probe
  // texts, not as strings); "" when none does.
  static std::string name_matching(const std::vector<std::string>& patterns);
  ~PreTokenizer();
  // Pieces of `text` (valid UTF-8), in order; they concatenate to `text`.
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  PreTokenizer() = default;
  struct Regex;
  std::vector<std::unique_ptr<Regex>> regexes_;
};

}  // namespace ember
