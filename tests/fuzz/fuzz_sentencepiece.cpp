// libFuzzer target: SentencePiece model bytes -> Tokenizer or a clear error; a tokenizer that loads
// must then encode and decode arbitrary text (the tail of the input) without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t split = size / 2;
  auto tok = ember::Tokenizer::from_sentencepiece_bytes(all.substr(0, split), "fuzz.model");
  if (!tok) return 0;
  auto ids = (*tok)->encode(all.substr(split), true, true);
  if (ids) (void)(*tok)->decode(*ids, true);
  return 0;
}
