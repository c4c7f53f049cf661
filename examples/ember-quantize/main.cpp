// ember-quantize: convert a GGUF model's weights to another block format or llama.cpp's mixes.
//
//   ember-quantize INPUT.gguf OUTPUT.gguf TYPE      (TYPE: Q4_K_M, Q8_0, Q4_0, Q6_K, F16, ...)
//
// Metadata is copied unchanged (general.file_type updated); norms and biases stay F32.
#include <cstdio>

#include "ember/formats/gguf.h"
#include "formats/quantize_model.h"

using namespace ember;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s INPUT.gguf OUTPUT.gguf TYPE\n", argv[0]);
    return 2;
  }
  auto target = parse_quant_target(argv[3]);
  if (!target) {
    std::fprintf(stderr, "ember-quantize: %s\n", target.status().to_string().c_str());
    return 2;
  }
  auto in = gguf::GgufFile::open(argv[1]);
  if (!in) {
    std::fprintf(stderr, "ember-quantize: %s\n", in.status().to_string().c_str());
    return 1;
  }
  if (Status s = quantize_gguf(**in, argv[2], *target, stdout); !s) {
    std::fprintf(stderr, "ember-quantize: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
