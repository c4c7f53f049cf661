// ember-quantize: convert a model's weights to another block format or llama.cpp's mixes.
// Options: kHelp below.
#include <sys/stat.h>

#include <cstdio>
#include <set>
#include <string>

#include "common/cli.h"
#include "ember/formats/gguf.h"
#include "formats/quantize_model.h"
#include "models/convert_hf.h"

using namespace ember;

namespace {

const ember_cli::Help kHelp = {
    "ember-quantize",
    "ember-quantize INPUT OUTPUT.gguf TYPE",
    "Writes INPUT's weights in TYPE: a block format or one of llama.cpp's mixes. INPUT is a GGUF file\n"
    "(metadata copied unchanged, general.file_type updated) or a Hugging Face folder (config.json,\n"
    "*.safetensors in F32/F16/BF16, tokenizer.json), written as llama.cpp's converter lays it out.\n"
    "Norms and biases stay F32. Each tensor is reported as it is written ([i/N]).\n"
    "\n"
    "  TYPE   F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q3_K_M, Q4_K, Q4_K_S, Q4_K_M,\n"
    "         Q5_K, Q5_K_S, Q5_K_M, Q6_K (any case: q4_k_m is Q4_K_M)\n"
    "  -h, --help   this help\n"};

}  // namespace

int main(int argc, char** argv) {
  ember_cli::handle_help(kHelp, argc, argv);
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] == '-' && argv[i][1] != '\0') ember_cli::usage_error(kHelp, std::string("unknown option '") + argv[i] + "'");
  if (argc != 4) ember_cli::usage_error(kHelp, argc < 4 ? "INPUT, OUTPUT and TYPE are required" : "too many arguments");
  auto target = parse_quant_target(argv[3]);
  if (!target) ember_cli::usage_error(kHelp, target.status().message());
  struct stat st {};
  Status s;
  if (::stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
    s = convert_hf_to_gguf(argv[1], argv[2], *target, stdout);
  } else {
    auto in = gguf::GgufFile::open(argv[1]);
    if (in) {
      // Quantizing quantized weights again compounds the rounding: say so, and from what.
      std::set<std::string> quantized;
      for (const gguf::TensorInfo& t : (*in)->tensors())
        if (t.n_dims >= 2 && dtype_is_quantized(t.dtype)) quantized.insert(std::string(dtype_name(t.dtype)));
      if (!quantized.empty()) {
        std::string types;
        for (const std::string& q : quantized) types += (types.empty() ? "" : ", ") + q;
        std::fprintf(stderr,
                     "ember-quantize: warning: %s is already quantized (%s); re-quantizing loses more precision than "
                     "quantizing its F16/F32 original\n",
                     argv[1], types.c_str());
      }
    }
    s = in ? quantize_gguf(**in, argv[2], *target, stdout) : in.status();
  }
  if (!s) {
    std::fprintf(stderr, "ember-quantize: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}
