// A Hugging Face model folder read once: config.json -> description, tokenizer.json (+
// tokenizer_config.json: special tokens, chat template) -> tokenizer, *.safetensors -> weights.
// Model::load and the GGUF converter both start here.
#pragma once

#include <memory>
#include <string>

#include "ember/formats/model_description.h"
#include "ember/tokenizer/tokenizer.h"
#include "weights.h"

namespace ember {

struct HfFolder {
  ModelDescription desc;
  std::unique_ptr<Tokenizer> tokenizer;
  std::string chat_template;
  std::unique_ptr<Weights> weights;
};

Result<HfFolder> read_hf_folder(const std::string& dir);

}  // namespace ember
