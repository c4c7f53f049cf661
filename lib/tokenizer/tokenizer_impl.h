// Tokenizer's private state, shared by the files that implement its algorithms.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "ember/tokenizer/tokenizer.h"
#include "tokenizer/pretokenizer.h"

namespace ember {

struct Tokenizer::Impl {
  std::unique_ptr<PreTokenizer> pre;
  // Special tokens matched in raw text, longest first: (text, id, always) — user-defined tokens
  // are always matched, control tokens only when the caller asks (parse_special).
  struct Special {
    std::string text;
    int32_t id;
    bool always;
  };
  std::vector<Special> specials;
  std::array<int32_t, 256> byte_token{};  // SPM: <0xXX> token of each byte, or -1
  size_t max_token_bytes = 0;             // WPM: the longest match worth trying
};

}  // namespace ember
