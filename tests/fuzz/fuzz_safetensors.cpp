// libFuzzer target: safetensors bytes -> tensors or a clear error; every view must be readable
// end to end; and the same bytes as a config.json must describe a model or fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/formats/model_description.h"
#include "ember/formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = ember::SafetensorsFile::from_memory(data, size, "fuzz.safetensors");
  if (f) {
    volatile uint8_t sink = 0;
    for (const auto& t : (*f)->tensors()) {
      const auto* p = static_cast<const uint8_t*>((*f)->view(t).data);
      if (t.n_bytes) sink = sink + p[0] + p[t.n_bytes - 1];
    }
  }
  (void)ember::describe_hf_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  return 0;
}
