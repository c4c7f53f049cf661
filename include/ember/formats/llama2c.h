// llama2.c checkpoints (Karpathy's run.c "legacy" format, version 0) and tokenizers, converted to
// GGUF as llama.cpp's convert-llama2c tool does: the same Llama architecture keys and tensor names,
// weights copied as F32 (their pairs are already adjacent: Meta's RoPE order, no permutation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/status.h"
#include "ember/formats/gguf.h"

namespace ember {

struct Llama2cCheckpoint {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;  // vocab_size stored positive: the LM head is the embedding
  std::vector<float> data;        // every float after the header, in file order
};

// Reads and checks a checkpoint: header values positive and consistent, size exactly as the
// header implies (FORMAT naming the file otherwise).
Result<Llama2cCheckpoint> read_llama2c(const std::string& path);

// Adds the model's metadata (general.*, llama.*) and tensors to `w`; the tensors point into `ck`,
// which must outlive w.write(). The tokenizer is the caller's (write_vocab_gguf).
Status llama2c_to_gguf(const Llama2cCheckpoint& ck, const std::string& name, gguf::GgufWriter& w);

}  // namespace ember
