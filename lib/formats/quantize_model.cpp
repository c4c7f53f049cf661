#include "formats/quantize_model.h"

#include <cctype>
#include <cstdio>
#include <vector>

#include "ember/core/quantize.h"

namespace ember {

Result<QuantTarget> parse_quant_target(const std::string& name) {
  std::string n = name;  // q4_k_m as well as Q4_K_M
  for (char& c : n) c = char(std::toupper(static_cast<unsigned char>(c)));
  struct Row {
    const char* name;
    DType base, sensitive, output;
    uint32_t ftype;
  };
  static const Row kRows[] = {
      {"F32", DType::F32, DType::F32, DType::F32, 0},       {"F16", DType::F16, DType::F16, DType::F16, 1},
      {"BF16", DType::BF16, DType::BF16, DType::BF16, 32},  {"Q8_0", DType::Q8_0, DType::Q8_0, DType::Q8_0, 7},
      {"Q4_0", DType::Q4_0, DType::Q4_0, DType::Q6_K, 2},   {"Q4_1", DType::Q4_1, DType::Q4_1, DType::Q6_K, 3},
      {"Q5_0", DType::Q5_0, DType::Q5_0, DType::Q6_K, 8},   {"Q5_1", DType::Q5_1, DType::Q5_1, DType::Q6_K, 9},
      {"Q2_K", DType::Q2_K, DType::Q2_K, DType::Q6_K, 10},  {"Q3_K", DType::Q3_K, DType::Q3_K, DType::Q6_K, 12},
      {"Q3_K_M", DType::Q3_K, DType::Q4_K, DType::Q6_K, 12}, {"Q4_K", DType::Q4_K, DType::Q4_K, DType::Q6_K, 14},
      {"Q4_K_S", DType::Q4_K, DType::Q4_K, DType::Q6_K, 14}, {"Q4_K_M", DType::Q4_K, DType::Q6_K, DType::Q6_K, 15},
      {"Q5_K", DType::Q5_K, DType::Q5_K, DType::Q6_K, 16},  {"Q5_K_S", DType::Q5_K, DType::Q5_K, DType::Q6_K, 16},
      {"Q5_K_M", DType::Q5_K, DType::Q6_K, DType::Q6_K, 17}, {"Q6_K", DType::Q6_K, DType::Q6_K, DType::Q6_K, 18},
  };
  for (const Row& r : kRows)
    if (n == r.name) return QuantTarget{n, r.base, r.sensitive, r.output, r.ftype};
  return invalid_argument("unknown quantization type '" + name + "' (F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q3_K_M, Q4_K, Q4_K_S, Q4_K_M, Q5_K, Q5_K_S, Q5_K_M, Q6_K)");
}

namespace {

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third in between.
bool more_bits(int64_t layer, int64_t n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

int64_t layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  const size_t dot = name.find('.', 4);
  try {
    return std::stoll(name.substr(4, dot - 4));
  } catch (...) {
    return -1;
  }
}

}  // namespace

DType choose_dtype(const QuantTarget& t, const std::string& name, int n_dims, int64_t ne0, int64_t n_layer) {
  if (n_dims < 2) return DType::F32;
  DType want = t.base;
  if (name == "output.weight") {
    want = t.output;
  } else if (name.find("attn_v.weight") != std::string::npos || name.find("ffn_down") != std::string::npos) {
    const int64_t layer = layer_of(name);
    if (layer >= 0 && more_bits(layer, n_layer)) want = t.sensitive;
  }
  if (ne0 % dtype_block_size(want) == 0) return want;
  // Rows that are no whole number of 256-value super-blocks (Qwen2.5-0.5B is 896 wide): the
  // 32-value format of about the same size, as llama.cpp falls back.
  switch (want) {
    case DType::Q2_K: case DType::Q3_K: want = DType::Q4_0; break;
    case DType::Q4_K: want = DType::Q5_0; break;
    case DType::Q5_K: want = DType::Q5_1; break;
    case DType::Q6_K: want = DType::Q8_0; break;
    default: break;
  }
  if (ne0 % dtype_block_size(want) == 0) return want;
  return DType::F16;
}

Status quantize_gguf(const gguf::GgufFile& in, const std::string& out_path, const QuantTarget& target, std::FILE* log) {
  int64_t n_layer = 0;
  if (const gguf::Value* arch = in.find("general.architecture"); arch && arch->as_string())
    if (const gguf::Value* bc = in.find(std::string(*arch->as_string()) + ".block_count"))
      n_layer = bc->as_int().value_or(0);
  gguf::GgufWriter w(in.alignment());
  for (const std::string& k : in.keys()) {
    if (k == "general.file_type" || k == "general.quantization_version") continue;
    w.add(k, *in.find(k));
  }
  w.add("general.file_type", gguf::Value::u32(target.file_type));
  w.add("general.quantization_version", gguf::Value::u32(2));
  std::vector<std::vector<uint8_t>> blobs;
  blobs.reserve(in.tensors().size());
  size_t bytes_in = 0, bytes_out = 0;
  std::vector<float> row;
  size_t index = 0;
  for (const gguf::TensorInfo& t : in.tensors()) {
    ++index;
    const DType dt = choose_dtype(target, t.name, t.n_dims, t.ne[0], n_layer);
    const Tensor src = in.tensor_view(t);
    const int64_t rows = src.n_rows();
    blobs.emplace_back(row_bytes(dt, t.ne[0]) * size_t(rows));
    row.resize(size_t(t.ne[0]));
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_row(t.dtype, static_cast<const char*>(src.data) + size_t(r) * src.nb[1], row.data(), t.ne[0]);
      quantize_row(dt, row.data(), blobs.back().data() + size_t(r) * row_bytes(dt, t.ne[0]), t.ne[0]);
    }
    if (Status s = w.add_tensor(t.name, dt, std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims), blobs.back().data()); !s)
      return s;
    bytes_in += t.n_bytes;
    bytes_out += blobs.back().size();
    if (log)
      std::fprintf(log, "[%4zu/%zu] %-40s %-5s -> %-5s %10zu -> %10zu bytes\n", index, in.tensors().size(), t.name.c_str(),
                   std::string(dtype_name(t.dtype)).c_str(), std::string(dtype_name(dt)).c_str(), t.n_bytes, blobs.back().size());
    if (log) std::fflush(log);
  }
  if (log) std::fprintf(log, "%s: %.1f MiB -> %.1f MiB\n", out_path.c_str(), double(bytes_in) / (1 << 20), double(bytes_out) / (1 << 20));
  return w.write(out_path);
}

}  // namespace ember
