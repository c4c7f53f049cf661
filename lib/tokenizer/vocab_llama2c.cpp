// llama2.c's tokenizer.bin: uint32 max_token_length, then per id a float32 score, a uint32 length
// and the bytes. It is a SentencePiece BPE vocabulary with U+2581 already turned into spaces and
// BOS/EOS written "\n<s>\n" / "\n</s>\n"; we undo both to get the SentencePiece vocabulary back.
#include <cstring>
#include <iterator>

#include "ember/tokenizer/tokenizer.h"
#include "formats/mapped_file.h"

namespace ember {

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_llama2c(const std::string& path, int64_t n_vocab) {
  auto read = read_regular_file(path);
  if (!read) return read.status();
  const std::string& bytes = *read;
  size_t at = 4;  // max_token_length: not needed
  if (bytes.size() < at) return format_error(path + ": too short for a llama2.c tokenizer");
  Vocab v;
  v.model = Vocab::Model::kSpm;
  v.unk = 0, v.bos = 1, v.eos = 2, v.add_bos = true;
  for (int64_t id = 0; id < n_vocab; ++id) {
    float score;
    uint32_t len;
    if (bytes.size() - at < 8) return format_error(path + ": ends at token " + std::to_string(id) + " of " + std::to_string(n_vocab));
    std::memcpy(&score, bytes.data() + at, 4);
    std::memcpy(&len, bytes.data() + at + 4, 4);
    at += 8;
    if (len > bytes.size() - at) return format_error(path + ": token " + std::to_string(id) + " runs past the end of the file");
    std::string text = bytes.substr(at, len);
    at += len;
    TokenType type = TokenType::kNormal;
    if (id == 0) {
      type = TokenType::kUnknown;
    } else if (text == "\n<s>\n" || text == "\n</s>\n") {
      text = text.substr(1, text.size() - 2);
      type = TokenType::kControl;
    } else if (text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>') {
      type = TokenType::kByte;
    } else {
      std::string s;
      for (char c : text) s += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
      text = std::move(s);
    }
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  }
  if (at != bytes.size()) return format_error(path + ": " + std::to_string(bytes.size() - at) + " bytes left after " + std::to_string(n_vocab) + " tokens");
  auto t = from_vocab(std::move(v));
  if (!t) return Status(t.status().code(), path + ": " + t.status().message());
  return t;
}

}  // namespace ember
