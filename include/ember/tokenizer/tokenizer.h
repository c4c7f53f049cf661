// Text <-> token ids, exactly as the model's own tokenizer does it.
//
// Three algorithms cover the models Ember runs (WordPiece for BERT-style embedding models):
//  - byte-level BPE (GPT-2 lineage: Qwen2/2.5, Llama-3, DeepSeek): the text is split by the model's
//    pre-tokenizer regexes, every byte is mapped to a printable character (GPT-2's bytes_to_unicode),
//    and adjacent symbols merge by the rank of their merge rule;
//  - SentencePiece BPE (Llama-2, llama2.c): spaces become U+2581, adjacent symbols merge by the score
//    of the token they form, and characters with no token fall back to <0xXX> byte tokens.
// Special tokens (control and user-defined) are matched in the raw text before either runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"

namespace ember {
namespace gguf {
class GgufFile;
class GgufWriter;
}

enum class TokenType : int32_t {  // GGUF tokenizer.ggml.token_type values (SentencePiece's)
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Strings -> their index in a list, first index on duplicates: an open-addressing table of
// indices over the list's own strings (4 bytes a slot, two slots a string), where a map from
// string copies would cost ~80 bytes a string (152k tokens and as many merges for Qwen2).
class StringIndex {
 public:
  void build(const std::vector<std::string>& strings);
  // Index of `s` in the list the index was built from (the same list, unchanged), or -1.
  int32_t find(std::string_view s, const std::vector<std::string>& strings) const;
  size_t memory_bytes() const { return slots_.size() * sizeof(int32_t); }

 private:
  std::vector<int32_t> slots_;  // index + 1; 0: empty. Size a power of two.
};

// The vocabulary and the rules that go with it, from GGUF or tokenizer.json.
struct Vocab {
  enum class Model { kBpe, kSpm, kWpm };  // WPM: BERT's WordPiece (embedding models)
  Model model = Model::kBpe;
  std::string pre;                 // pre-tokenizer name (GGUF tokenizer.ggml.pre)
  std::vector<std::string> tokens;
  std::vector<float> scores;       // SPM merge priority (higher first)
  std::vector<TokenType> types;
  std::vector<std::string> merges;  // BPE merge rules "left right", by rank (first = applied first)
  int32_t bos = -1, eos = -1, eot = -1, unk = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = true;    // SPM: prepend a space, as SentencePiece's dummy prefix
  bool nfc = false;                // normalize text to Unicode NFC first (Qwen2's tokenizer does)
  std::vector<std::string> pre_patterns;  // explicit pre-tokenizer regexes (tokenizer.json); else `pre`

  // Lookups (after index(), which Tokenizer::init calls): the id of a token's text, the rank of a
  // merge "left right"; -1 if there is none.
  void index();
  int32_t token_id(std::string_view text) const { return token_index.find(text, tokens); }
  int32_t merge_rank(std::string_view pair) const { return merge_index.find(pair, merges); }
  StringIndex token_index, merge_index;
};

class Tokenizer {
 public:
  // Reads tokenizer.ggml.* from a GGUF file (the tokenizer keeps its own copies of the strings).
  static Result<std::unique_ptr<Tokenizer>> from_gguf(const gguf::GgufFile& file);
  // Reads a Hugging Face tokenizer.json (BPE model, byte-level): vocab, merges, added tokens,
  // normalizer and Split pre-tokenizer regexes as the file gives them.
  static Result<std::unique_ptr<Tokenizer>> from_hf_json(const std::string& path);
  // `tokenizer_config` (optional) is the text of tokenizer_config.json: BOS/EOS names, add_bos_token.
  static Result<std::unique_ptr<Tokenizer>> from_hf_json_text(std::string_view json, const std::string& name,
                                                              std::string_view tokenizer_config = {});
  // Reads a SentencePiece tokenizer.model (BPE type: Llama-2 family, llama2.c models).
  static Result<std::unique_ptr<Tokenizer>> from_sentencepiece(const std::string& path);
  static Result<std::unique_ptr<Tokenizer>> from_sentencepiece_bytes(std::string_view data, const std::string& name);
  // Reads llama2.c's tokenizer.bin (n_vocab entries: the file does not say how many).
  static Result<std::unique_ptr<Tokenizer>> from_llama2c(const std::string& path, int64_t n_vocab);
  static Result<std::unique_ptr<Tokenizer>> from_vocab(Vocab vocab);
  ~Tokenizer();

  // Token ids of `text` (UTF-8; invalid UTF-8 is an INVALID_ARGUMENT error). add_special adds the
  // model's BOS/EOS as its metadata asks; parse_special lets control tokens written in the text
  // (e.g. "<|im_start|>") become their ids instead of being tokenized as characters.
  Result<std::vector<int32_t>> encode(std::string_view text, bool add_special = false, bool parse_special = false) const;

  // The bytes token `id` stands for (byte-level BPE undone, U+2581 -> space, <0xXX> -> byte).
  // Control tokens give their text only when `special` is true.
  std::string piece(int32_t id, bool special = false) const;
  // Concatenated pieces. The result may end in an incomplete UTF-8 character; StreamDecoder holds
  // such bytes back.
  std::string decode(const std::vector<int32_t>& ids, bool special = false) const;

  const Vocab& vocab() const { return vocab_; }
  int32_t n_tokens() const { return int32_t(vocab_.tokens.size()); }

 private:
  explicit Tokenizer(Vocab v);
  Status init();
  void encode_fragment(std::string_view text, bool first_fragment, std::vector<int32_t>* out) const;
  void encode_bpe(std::string_view text, std::vector<int32_t>* out) const;
  void encode_spm(std::string_view text, std::vector<int32_t>* out) const;
  void encode_wpm(std::string_view text, std::vector<int32_t>* out) const;

  Vocab vocab_;
 public:
  struct Impl;  // defined in tokenizer.cpp; the per-algorithm files read it

 private:
  std::unique_ptr<Impl> impl_;
};

// Writes the vocabulary as GGUF tokenizer.ggml.* metadata (what from_gguf reads back).
void write_vocab_gguf(const Vocab& v, gguf::GgufWriter& w);

// Turns a stream of token ids into whole UTF-8 characters: bytes of a character split across
// tokens are held back until it completes (DESIGN.md: callbacks never see a partial character).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& t, bool special = false) : tok_(t), special_(special) {}
  // Text that is complete after adding token `id` (possibly empty).
  std::string push(int32_t id);
  // Whatever is held back at the end (an incomplete character, as U+FFFD replacement characters).
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool special_;
  std::string pending_;
};

// `s` (valid UTF-8) in Unicode Normalization Form C (utf8proc).
std::string nfc(std::string_view s);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace ember
