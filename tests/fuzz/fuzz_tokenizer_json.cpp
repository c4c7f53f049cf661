// libFuzzer target: tokenizer.json text -> Tokenizer or a clear error; a tokenizer that loads must
// encode and decode a fixed text without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tok = ember::Tokenizer::from_hf_json_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!tok) return 0;
  auto ids = (*tok)->encode("Hello, world! <|im_start|> 123 \xf0\x9f\xa6\x99", true, true);
  if (ids) (void)(*tok)->decode(*ids, true);
  return 0;
}
