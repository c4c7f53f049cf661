// libFuzzer target: any byte string given to the GGUF parser must yield a GgufFile or an error,
// never a crash, a hang, an out-of-bounds read or a huge allocation; a parsed file's values and
// tensor views must be safe to read in full.
#include <cstddef>
#include <cstdint>

#include "ember/formats/gguf.h"

using namespace ember::gguf;

static uint64_t touch(const Value& v) {
  uint64_t h = uint64_t(v.type());
  if (auto s = v.as_string()) h += s->size();
  if (v.is_array()) {
    h += v.array_size();
    for (std::string_view s : v.strings()) h += s.empty() ? 0 : uint8_t(s.back());
    for (const Value& item : v.items()) h += touch(item);
    if (v.array_type() != ValueType::kString && v.array_type() != ValueType::kArray)
      for (size_t i = 0; i < v.array_size(); ++i) h += v.element(i).as_uint().value_or(1);
  }
  return h;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = GgufFile::from_memory(data, size, "fuzz.gguf");
  if (!f) return 0;
  volatile uint64_t sink = 0;
  for (const auto& [key, v] : (*f)->metadata()) sink = sink + touch(v) + key.size();
  for (const TensorInfo& t : (*f)->tensors()) {
    const ember::Tensor view = (*f)->tensor_view(t);
    const auto* p = static_cast<const uint8_t*>(view.data);
    if (t.n_bytes) sink = sink + p[0] + p[t.n_bytes - 1];  // first and last byte are in bounds
  }
  return 0;
}
