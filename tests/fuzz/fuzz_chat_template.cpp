// libFuzzer target: any template source must parse to a template or an error, and rendering a
// parsed template must finish with text or an error (no crash, no unbounded recursion on input).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // templates are small; keep each run fast
  auto t = ember::ChatTemplate::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t) return 0;
  (void)t->apply({{"system", "S"}, {"user", "Hi"}, {"assistant", "<think>x</think>y"}, {"user", "?"}}, true, "<s>", "</s>");
  return 0;
}
