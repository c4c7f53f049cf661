// SentencePiece tokenizer.model files (a ModelProto protocol buffer): the Llama-2 family and
// llama2.c models ship their tokenizer this way. Only the fields a BPE model needs are read:
//   ModelProto      1: repeated SentencePiece pieces, 2: TrainerSpec, 3: NormalizerSpec
//   SentencePiece   1: string piece, 2: float score, 3: enum type (same numbering as TokenType)
//   TrainerSpec     3: model_type (1 unigram, 2 BPE), 40-43: unk/bos/eos/pad ids
//   NormalizerSpec  3: add_dummy_prefix
#include <cstring>
#include <iterator>

#include "ember/tokenizer/tokenizer.h"
#include "formats/mapped_file.h"

namespace ember {
namespace {

// A bounds-checked reader of protobuf wire format.
struct Proto {
  const uint8_t* p;
  size_t n, pos = 0;
  bool ok = true;

  bool done() const { return !ok || pos >= n; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= n) {
        ok = false;
        return 0;
      }
      const uint8_t b = p[pos++];
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  // Next field: its number and wire type; for length-delimited fields `bytes` views the payload.
  bool field(uint32_t* number, uint32_t* wire, std::string_view* bytes, uint64_t* value) {
    const uint64_t key = varint();
    if (!ok) return false;
    *number = uint32_t(key >> 3);
    *wire = uint32_t(key & 7);
    switch (*wire) {
      case 0: *value = varint(); return ok;
      case 1:
        if (n - pos < 8) return ok = false;
        std::memcpy(value, p + pos, 8);
        pos += 8;
        return true;
      case 5: {
        if (n - pos < 4) return ok = false;
        uint32_t v32;
        std::memcpy(&v32, p + pos, 4);
        *value = v32;
        pos += 4;
        return true;
      }
      case 2: {
        const uint64_t len = varint();
        if (!ok || len > n - pos) return ok = false;
        *bytes = std::string_view(reinterpret_cast<const char*>(p + pos), size_t(len));
        pos += size_t(len);
        return true;
      }
      default: return ok = false;
    }
  }
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_sentencepiece(const std::string& path) {
  auto data = read_regular_file(path);
  if (!data) return data.status();
  return from_sentencepiece_bytes(*data, path);
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_sentencepiece_bytes(std::string_view data, const std::string& path) {
  Vocab v;
  v.model = Vocab::Model::kSpm;
  v.unk = 0, v.bos = 1, v.eos = 2, v.add_bos = true;
  int model_type = 1;
  Proto top{reinterpret_cast<const uint8_t*>(data.data()), data.size()};
  uint32_t num, wire;
  std::string_view bytes;
  uint64_t value = 0;
  while (!top.done() && top.field(&num, &wire, &bytes, &value)) {
    if (wire != 2) continue;
    Proto sub{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
    std::string_view b2;
    uint64_t v2 = 0;
    uint32_t n2, w2;
    if (num == 1) {  // SentencePiece
      std::string piece;
      float score = 0;
      int32_t type = 1;
      while (!sub.done() && sub.field(&n2, &w2, &b2, &v2)) {
        if (n2 == 1 && w2 == 2) piece = std::string(b2);
        if (n2 == 2 && w2 == 5) {
          const uint32_t bits = uint32_t(v2);
          std::memcpy(&score, &bits, 4);
        }
        if (n2 == 3 && w2 == 0) type = int32_t(v2);
      }
      if (!sub.ok) break;
      v.tokens.push_back(std::move(piece));
      v.scores.push_back(score);
      v.types.push_back(TokenType(type));
    } else if (num == 2) {  // TrainerSpec
      while (!sub.done() && sub.field(&n2, &w2, &b2, &v2)) {
        if (w2 != 0) continue;
        if (n2 == 3) model_type = int(v2);
        if (n2 == 40) v.unk = int32_t(v2);
        if (n2 == 41) v.bos = int32_t(v2);
        if (n2 == 42) v.eos = int32_t(v2);
        if (n2 == 43) v.pad = int32_t(v2);
      }
    } else if (num == 3) {  // NormalizerSpec
      while (!sub.done() && sub.field(&n2, &w2, &b2, &v2))
        if (n2 == 3 && w2 == 0) v.add_space_prefix = v2 != 0;
    }
    if (!sub.ok) return format_error(path + ": malformed SentencePiece model (field " + std::to_string(num) + ")");
  }
  if (!top.ok) return format_error(path + ": malformed SentencePiece model (truncated or not a protobuf)");
  if (v.tokens.empty()) return format_error(path + ": SentencePiece model has no pieces");
  if (model_type != 2) return unsupported(path + ": SentencePiece model type " + std::to_string(model_type) + " (only BPE, 2, is supported)");
  // Ids of -1 mean "none" in SentencePiece.
  auto tok = from_vocab(std::move(v));
  if (!tok) return Status(tok.status().code(), path + ": " + tok.status().message());
  return tok;
}

}  // namespace ember
