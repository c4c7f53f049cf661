// ember-quantize: convert a model's weights to another block format or llama.cpp's mixes.
//
//   ember-quantize INPUT OUTPUT.gguf TYPE      (TYPE: Q4_K_M, Q8_0, Q4_0, Q6_K, F16, F32, ...)
//
// INPUT is a GGUF file (metadata copied unchanged, general.file_type updated) or a Hugging Face
// folder (config.json, *.safetensors in F32/F16/BF16, tokenizer.json), written as llama.cpp's
// converter lays it out. Norms and biases stay F32.
#include <sys/stat.h>

#include <cstdio>

#include "ember/formats/gguf.h"
#include "formats/quantize_model.h"
#include "models/convert_hf.h"

using namespace ember;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s INPUT(.gguf|HF folder) OUTPUT.gguf TYPE\n", argv[0]);
    return 2;
  }
  auto target = parse_quant_target(argv[3]);
  if (!target) {
    std::fprintf(stderr, "ember-quantize: %s\n", target.status().to_string().c_str());
    return 2;
  }
  struct stat st {};
  Status s;
  if (::stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
    s = convert_hf_to_gguf(argv[1], argv[2], *target, stdout);
  } else {
    auto in = gguf::GgufFile::open(argv[1]);
    s = in ? quantize_gguf(**in, argv[2], *target, stdout) : in.status();
  }
  if (!s) {
    std::fprintf(stderr, "ember-quantize: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
