// BERT's WordPiece (Hugging Face BertNormalizer + BertPreTokenizer + WordPiece, as llama.cpp's GGUF
// conversion stores it: word-initial tokens carry U+2581, "##" continuations are bare):
//  1. normalize: drop NUL/U+FFFD/control characters, NFD, drop accents (Mn), lowercase;
//  2. split at whitespace; punctuation, ASCII symbols and CJK ideographs are words of their own;
//  3. each word: greedy longest match from the left; a word with an unmatched piece becomes [UNK].
#include <utf8proc.h>

#include <algorithm>

#include "ember/tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

namespace ember {
namespace {

bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_punct(uint32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  switch (utf8proc_category(utf8proc_int32_t(c))) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF: case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_space(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || utf8proc_category(utf8proc_int32_t(c)) == UTF8PROC_CATEGORY_ZS;
}

bool is_control(uint32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  const auto cat = utf8proc_category(utf8proc_int32_t(c));
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF;
}

}  // namespace

void Tokenizer::encode_wpm(std::string_view text, std::vector<int32_t>* out) const {
  // 1. Normalize, code point by code point (NFD decomposes accented letters; marks are dropped).
  std::vector<std::string> words(1);
  auto end_word = [&] {
    if (!words.back().empty()) words.emplace_back();
  };
  for (size_t i = 0; i < text.size();) {
    const uint32_t cp = utf8::next(text, i);
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
    utf8proc_int32_t decomposed[8];
    int last = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(utf8proc_int32_t(cp), decomposed, 8, UTF8PROC_DECOMPOSE, &last);
    for (utf8proc_ssize_t k = 0; k < std::max<utf8proc_ssize_t>(n, 0); ++k) {
      const uint32_t c = uint32_t(decomposed[k]);
      if (utf8proc_category(utf8proc_int32_t(c)) == UTF8PROC_CATEGORY_MN) continue;  // accent
      if (is_space(c)) {
        end_word();
        continue;
      }
      const uint32_t lower = uint32_t(utf8proc_tolower(utf8proc_int32_t(c)));
      if (is_punct(c) || is_cjk(c)) {
        end_word();
        utf8::append(words.back(), lower);
        words.emplace_back();
      } else {
        utf8::append(words.back(), lower);
      }
    }
  }
  // 2-3. Greedy longest match per word, the word's first piece with the U+2581 marker.
  const size_t max_len = impl_->max_token_bytes;
  for (const std::string& w : words) {
    if (w.empty()) continue;
    const std::string word = "\xe2\x96\x81" + w;
    const size_t start = out->size();
    bool ok = true;
    for (size_t i = 0; i < word.size() && ok;) {
      ok = false;
      for (size_t j = std::min(word.size(), i + max_len); j > i; --j) {
        if (const int32_t id = vocab_.token_id(std::string_view(word).substr(i, j - i)); id >= 0) {
          out->push_back(id);
          i = j;
          ok = true;
          break;
        }
      }
    }
    if (!ok) {
      out->resize(start);
      if (vocab_.unk >= 0) out->push_back(vocab_.unk);
    }
  }
}

}  // namespace ember
