#include "ember/tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <queue>

#include "ember/formats/gguf.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/utf8.h"

#include <utf8proc.h>

namespace ember {

namespace {

// The byte a "<0xAB>" token stands for, or -1 (exactly two hex digits: sscanf would take signs).
int byte_token_value(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace


Tokenizer::Tokenizer(Vocab v) : vocab_(std::move(v)), impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_vocab(Vocab vocab) {
  std::unique_ptr<Tokenizer> t(new Tokenizer(std::move(vocab)));
  if (Status s = t->init(); !s) return s;
  return t;
}

Status Tokenizer::init() {
  Vocab& v = vocab_;
  const size_t n = v.tokens.size();
  if (n == 0) return format_error("tokenizer has an empty vocabulary");
  if (!v.scores.empty() && v.scores.size() != n) return format_error("tokenizer scores and tokens differ in length");
  if (!v.types.empty() && v.types.size() != n) return format_error("tokenizer token types and tokens differ in length");
  if (v.types.empty()) v.types.assign(n, TokenType::kNormal);
  if (v.scores.empty()) v.scores.assign(n, 0.0f);
  for (int32_t* id : {&v.bos, &v.eos, &v.eot, &v.unk, &v.pad})
    if (*id < 0) *id = -1;  // "none"
  for (int32_t* id : {&v.bos, &v.eos, &v.eot, &v.unk, &v.pad})
    if (*id >= int32_t(n)) return format_error("special token id " + std::to_string(*id) + " is outside the vocabulary of " + std::to_string(n));
  v.index();
  if (v.model == Vocab::Model::kBpe) {
    auto pre = v.pre_patterns.empty() ? PreTokenizer::for_name(v.pre) : PreTokenizer::from_patterns(v.pre_patterns);
    if (!pre) return pre.status();
    impl_->pre = std::move(pre.value());
  }
  impl_->byte_token.fill(-1);
  for (const std::string& t : v.tokens) impl_->max_token_bytes = std::max(impl_->max_token_bytes, t.size());
  for (size_t i = 0; i < n; ++i) {
    const TokenType type = v.types[i];
    if (type == TokenType::kControl || type == TokenType::kUserDefined) {
      if (!v.tokens[i].empty()) impl_->specials.push_back({v.tokens[i], int32_t(i), type == TokenType::kUserDefined});
    }
    if (type == TokenType::kByte) {
      const int b = byte_token_value(v.tokens[i]);
      if (b >= 0 && impl_->byte_token[size_t(b)] < 0) impl_->byte_token[size_t(b)] = int32_t(i);
    }
  }
  std::stable_sort(impl_->specials.begin(), impl_->specials.end(),
                   [](const Impl::Special& a, const Impl::Special& b) { return a.text.size() > b.text.size(); });
  return Status::ok();
}

// ---- GGUF ---------------------------------------------------------------------------------------

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const gguf::GgufFile& f) {
  using gguf::Value;
  auto str = [&](const char* key) -> std::string {
    const Value* v = f.find(key);
    return v && v->as_string() ? std::string(*v->as_string()) : std::string();
  };
  const std::string model = str("tokenizer.ggml.model");
  Vocab v;
  if (model == "gpt2") {
    v.model = Vocab::Model::kBpe;
    v.add_space_prefix = false;
  } else if (model == "llama") {
    v.model = Vocab::Model::kSpm;
    v.bos = 1, v.eos = 2, v.unk = 0, v.add_bos = true;  // SentencePiece's defaults, as llama.cpp's
  } else if (model == "bert") {
    v.model = Vocab::Model::kWpm;
    v.add_space_prefix = false;
  } else if (model.empty()) {
    return format_error(f.name() + ": no tokenizer (key 'tokenizer.ggml.model' is missing)");
  } else {
    return unsupported(f.name() + ": tokenizer model '" + model + "' is not supported (gpt2, llama and bert are)");
  }
  v.pre = str("tokenizer.ggml.pre");
  // Qwen2's own tokenizer normalizes to NFC before splitting (tokenizer.json "normalizer": NFC);
  // GGUF has no key for it, so the pre-tokenizer name stands for it.
  v.nfc = v.pre == "qwen2" || v.pre == "deepseek-r1-qwen";
  const Value* tokens = f.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->array_type() != gguf::ValueType::kString)
    return format_error(f.name() + ": key 'tokenizer.ggml.tokens' must be an array of strings");
  for (std::string_view t : tokens->strings()) v.tokens.emplace_back(t);
  if (const Value* s = f.find("tokenizer.ggml.scores")) {
    auto scores = s->float_array();
    if (!scores) return format_error(f.name() + ": key 'tokenizer.ggml.scores' must be an array of numbers");
    for (double d : *scores) v.scores.push_back(float(d));
  }
  if (const Value* t = f.find("tokenizer.ggml.token_type")) {
    auto types = t->int_array();
    if (!types) return format_error(f.name() + ": key 'tokenizer.ggml.token_type' must be an array of integers");
    for (int64_t x : *types) v.types.push_back(TokenType(x));
  }
  if (v.model == Vocab::Model::kBpe) {
    const Value* merges = f.find("tokenizer.ggml.merges");
    if (!merges || merges->array_type() != gguf::ValueType::kString)
      return format_error(f.name() + ": BPE tokenizer needs 'tokenizer.ggml.merges' (array of strings)");
    v.merges.reserve(merges->strings().size());
    for (std::string_view m : merges->strings()) v.merges.emplace_back(m);
  }
  auto id = [&](const char* key, int32_t* out) {
    if (const Value* x = f.find(key))
      if (auto u = x->as_int()) *out = int32_t(*u);
  };
  id("tokenizer.ggml.bos_token_id", &v.bos);
  id("tokenizer.ggml.eos_token_id", &v.eos);
  id("tokenizer.ggml.eot_token_id", &v.eot);
  id("tokenizer.ggml.unknown_token_id", &v.unk);
  id("tokenizer.ggml.padding_token_id", &v.pad);
  auto flag = [&](const char* key, bool* out) {
    if (const Value* x = f.find(key))
      if (auto b = x->as_bool()) *out = *b;
  };
  flag("tokenizer.ggml.add_bos_token", &v.add_bos);
  flag("tokenizer.ggml.add_eos_token", &v.add_eos);
  flag("tokenizer.ggml.add_space_prefix", &v.add_space_prefix);
  auto t = from_vocab(std::move(v));
  if (!t) return Status(t.status().code(), f.name() + ": " + t.status().message());
  return t;
}

// ---- encoding -------------------------------------------------------------------------------------

namespace {

// A symbol of a word being merged: a byte range of the word, linked to its neighbours.
struct Symbol {
  size_t start, len;
  int prev, next;
};

// A candidate merge of symbols left and right; `priority` orders them (lower first) and ties go
// to the leftmost. `len` detects candidates made stale by an earlier merge.
struct Candidate {
  double priority;
  int left, right;
  size_t len;
  bool operator<(const Candidate& o) const {  // std::priority_queue pops the largest
    return priority > o.priority || (priority == o.priority && left > o.left);
  }
};

std::vector<Symbol> characters(std::string_view word) {
  std::vector<Symbol> s;
  for (size_t i = 0; i < word.size();) {
    const size_t n = std::min(utf8::seq_len(uint8_t(word[i])), word.size() - i);
    s.push_back({i, n, int(s.size()) - 1, -1});
    i += n;
  }
  for (size_t k = 0; k + 1 < s.size(); ++k) s[k].next = int(k + 1);
  return s;
}

// Merges adjacent symbols in order of `priority_of(left_text, right_text)` (nullopt: no merge).
template <class PriorityOf>
std::vector<Symbol> merge_symbols(std::string_view word, PriorityOf priority_of) {
  std::vector<Symbol> sym = characters(word);
  std::priority_queue<Candidate> queue;
  auto consider = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const auto p = priority_of(word.substr(sym[size_t(l)].start, sym[size_t(l)].len),
                               word.substr(sym[size_t(r)].start, sym[size_t(r)].len));
    if (p) queue.push({*p, l, r, sym[size_t(l)].len + sym[size_t(r)].len});
  };
  for (size_t k = 0; k + 1 < sym.size(); ++k) consider(int(k), int(k + 1));
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[size_t(c.left)];
    Symbol& r = sym[size_t(c.right)];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.len) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[size_t(r.next)].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }
  std::vector<Symbol> out;
  for (const Symbol& s : sym)
    if (s.len) out.push_back(s);
  return out;
}

}  // namespace

void Tokenizer::encode_bpe(std::string_view text, std::vector<int32_t>* out) const {
  const utf8::ByteMap& bm = utf8::ByteMap::get();
  std::string mapped, key;
  for (std::string_view word : impl_->pre->split(text)) {
    mapped.clear();
    for (char c : word) mapped += bm.byte_to_utf8[uint8_t(c)];
    const auto merged = merge_symbols(mapped, [&](std::string_view a, std::string_view b) -> std::optional<double> {
      key.assign(a);
      key += ' ';
      key += b;
      const int32_t rank = vocab_.merge_rank(key);
      if (rank < 0) return std::nullopt;
      return double(rank);
    });
    for (const Symbol& s : merged) {
      const std::string_view piece = std::string_view(mapped).substr(s.start, s.len);
      if (const int32_t id = vocab_.token_id(piece); id >= 0) {
        out->push_back(id);
        continue;
      }
      // No token for a merged symbol (a vocabulary that lacks some merge results): its characters
      // one by one, as llama.cpp does; unknown characters become UNK if the model has one.
      for (size_t i = 0; i < piece.size();) {
        const size_t n = utf8::seq_len(uint8_t(piece[i]));
        if (const int32_t c = vocab_.token_id(piece.substr(i, n)); c >= 0) {
          out->push_back(c);
        } else if (vocab_.unk >= 0) {
          out->push_back(vocab_.unk);
        }
        i += n;
      }
    }
  }
}

void Tokenizer::encode_spm(std::string_view text, std::vector<int32_t>* out) const {
  // Merge by the score of the token the pair would form, highest first. A pair merges only into a
  // token, so every merged symbol is one; single characters without a token fall back to their
  // bytes (<0xXX>, else the byte as a token, else UNK).
  std::string joined;
  const auto merged = merge_symbols(text, [&](std::string_view a, std::string_view b) -> std::optional<double> {
    joined.assign(a);
    joined += b;
    const int32_t id = vocab_.token_id(joined);
    if (id < 0) return std::nullopt;
    return -double(vocab_.scores[size_t(id)]);
  });
  for (const Symbol& sym : merged) {
    const std::string_view s = text.substr(sym.start, sym.len);
    if (const int32_t id = vocab_.token_id(s); id >= 0) {
      out->push_back(id);
      continue;
    }
    for (char c : s) {
      const int32_t b = impl_->byte_token[uint8_t(c)];
      const int32_t single = vocab_.token_id(std::string_view(&c, 1));
      if (b >= 0) {
        out->push_back(b);
      } else if (single >= 0) {
        out->push_back(single);
      } else if (vocab_.unk >= 0) {
        out->push_back(vocab_.unk);
      }
    }
  }
}

void Tokenizer::encode_fragment(std::string_view text, bool after_special, std::vector<int32_t>* out) const {
  std::string normalized;
  if (vocab_.nfc) {
    normalized = nfc(text);
    text = normalized;
  }
  if (vocab_.model == Vocab::Model::kBpe) {
    encode_bpe(text, out);
    return;
  }
  if (vocab_.model == Vocab::Model::kWpm) {
    encode_wpm(text, out);
    return;
  }
  // SentencePiece: a dummy space before the text (after BOS or a special token), and every space
  // spelled U+2581.
  std::string s;
  if (vocab_.add_space_prefix && after_special) s = "\xe2\x96\x81";
  for (char c : text) {
    if (c == ' ') {
      s += "\xe2\x96\x81";
    } else {
      s += c;
    }
  }
  encode_spm(s, out);
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  if (!is_valid_utf8(text)) return invalid_argument("text to tokenize is not valid UTF-8");
  std::vector<int32_t> out;
  if (add_special && vocab_.add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  // Special tokens first: the text between them is tokenized normally.
  size_t pos = 0, plain_start = 0;
  bool after_special = true;
  auto flush_plain = [&](size_t end) {
    if (end > plain_start) {
      encode_fragment(text.substr(plain_start, end - plain_start), after_special, &out);
      after_special = false;
    }
  };
  while (pos < text.size()) {
    const Impl::Special* hit = nullptr;
    for (const Impl::Special& sp : impl_->specials) {
      if ((sp.always || parse_special) && text.compare(pos, sp.text.size(), sp.text) == 0) {
        hit = &sp;
        break;
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    flush_plain(pos);
    out.push_back(hit->id);
    after_special = true;
    pos += hit->text.size();
    plain_start = pos;
  }
  flush_plain(text.size());
  if (add_special && vocab_.add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

// ---- decoding -------------------------------------------------------------------------------------

std::string Tokenizer::piece(int32_t id, bool special) const {
  if (id < 0 || id >= n_tokens()) return {};
  const std::string& t = vocab_.tokens[size_t(id)];
  const TokenType type = vocab_.types[size_t(id)];
  if (type == TokenType::kControl || type == TokenType::kUnknown) return special ? t : std::string();
  if (type == TokenType::kUserDefined) return t;
  if (vocab_.model == Vocab::Model::kWpm) {  // word starts carry U+2581; continuations are bare
    return t.compare(0, 3, "\xe2\x96\x81") == 0 ? " " + t.substr(3) : t;
  }
  if (vocab_.model == Vocab::Model::kSpm) {
    if (type == TokenType::kByte) {
      const int b = byte_token_value(t);
      if (b >= 0) return std::string(1, char(b));
    }
    std::string s;
    for (size_t i = 0; i < t.size();) {
      if (t.compare(i, 3, "\xe2\x96\x81") == 0) {
        s += ' ';
        i += 3;
      } else {
        s += t[i++];
      }
    }
    return s;
  }
  // Byte-level BPE: every character of the token stands for one byte.
  const utf8::ByteMap& bm = utf8::ByteMap::get();
  std::string s;
  for (size_t i = 0; i < t.size();) {
    const uint32_t cp = utf8::next(t, i);
    if (cp < bm.cp_to_byte.size() && bm.cp_to_byte[cp] >= 0) s += char(bm.cp_to_byte[cp]);
  }
  return s;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool special) const {
  std::string s;
  for (int32_t id : ids) s += piece(id, special);
  // SentencePiece decoding drops the dummy-prefix space it added when encoding.
  if (vocab_.model == Vocab::Model::kSpm && vocab_.add_space_prefix && !s.empty() && s[0] == ' ') s.erase(0, 1);
  if (vocab_.model == Vocab::Model::kWpm && !s.empty() && s[0] == ' ') s.erase(0, 1);
  return s;
}

// ---- streaming ------------------------------------------------------------------------------------

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.piece(id, special_);
  // Whole, well-formed characters go out; a character cut short at the end waits for the next
  // token; a byte that cannot start or continue one (a vocabulary's invalid piece) goes out as
  // U+FFFD, so the text handed on is always valid UTF-8.
  std::string out;
  const auto* p = reinterpret_cast<const uint8_t*>(pending_.data());
  size_t i = 0;
  while (i < pending_.size()) {
    bool incomplete = false;
    const size_t len = utf8::char_len(p + i, pending_.size() - i, incomplete);
    if (incomplete) break;
    if (len == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(pending_, i, len);
      i += len;
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  for (size_t i = 0; i < pending_.size(); ++i) out += "\xef\xbf\xbd";
  pending_.clear();
  return out;
}

std::string nfc(std::string_view s) {
  // utf8proc works on NUL-terminated strings; tokenizer input may hold NULs, so go piece by piece.
  std::string out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t nul = s.find('\0', start);
    const std::string_view part = s.substr(start, (nul == std::string_view::npos ? s.size() : nul) - start);
    if (!part.empty()) {
      utf8proc_uint8_t* r = nullptr;
      const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(part.data()),
                                              utf8proc_ssize_t(part.size()), &r, utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
      if (n >= 0 && r) {
        out.append(reinterpret_cast<const char*>(r), size_t(n));
      } else {
        out.append(part);  // not reachable for valid UTF-8; keep the text rather than drop it
      }
      std::free(r);
    }
    if (nul == std::string_view::npos) break;
    out += '\0';
    start = nul + 1;
  }
  return out;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = uint8_t(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if ((c >> 5) == 0x6) {
      n = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c >> 4) == 0xE) {
      n = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c >> 3) == 0x1E) {
      n = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const uint8_t cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

}  // namespace ember
