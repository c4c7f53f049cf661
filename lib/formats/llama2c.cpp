#include "ember/formats/llama2c.h"

#include <cstring>
#include <iterator>
#include "formats/mapped_file.h"

namespace ember {

Result<Llama2cCheckpoint> read_llama2c(const std::string& path) {
  auto read = read_regular_file(path);
  if (!read) return read.status();
  const std::vector<char> bytes(read->begin(), read->end());
  Llama2cCheckpoint c;
  int32_t h[7];
  if (bytes.size() < sizeof h) return format_error(path + ": too short for a llama2.c header (28 bytes)");
  std::memcpy(h, bytes.data(), sizeof h);
  c.dim = h[0], c.hidden_dim = h[1], c.n_layers = h[2], c.n_heads = h[3], c.n_kv_heads = h[4], c.vocab_size = h[5], c.seq_len = h[6];
  c.shared_classifier = c.vocab_size > 0;
  if (c.vocab_size < 0) c.vocab_size = -c.vocab_size;  // negative: a separate classifier follows
  const int64_t lim = int64_t(1) << 20;
  for (int64_t v : {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len})
    if (v <= 0 || v > lim) return format_error(path + ": header value " + std::to_string(v) + " is not a plausible size");
  if (c.dim % c.n_heads || c.n_heads % c.n_kv_heads || (c.dim / c.n_heads) % 2)
    return format_error(path + ": " + std::to_string(c.n_heads) + " heads (" + std::to_string(c.n_kv_heads) +
                        " KV) do not divide a width of " + std::to_string(c.dim) + " into even head sizes");
  const int64_t D = c.dim, F = c.hidden_dim, L = c.n_layers, V = c.vocab_size, hs = D / c.n_heads, kv = D * c.n_kv_heads / c.n_heads;
  const int64_t floats = V * D + L * D + L * D * D + 2 * L * kv * D + L * D * D + L * D + 3 * L * F * D + D +
                         2 * c.seq_len * hs / 2 + (c.shared_classifier ? 0 : V * D);
  const size_t want = sizeof h + size_t(floats) * 4;
  if (bytes.size() != want)
    return format_error(path + ": " + std::to_string(bytes.size()) + " bytes, but the header describes " + std::to_string(want));
  c.data.resize(size_t(floats));
  std::memcpy(c.data.data(), bytes.data() + sizeof h, size_t(floats) * 4);
  return c;
}

Status llama2c_to_gguf(const Llama2cCheckpoint& c, const std::string& name, gguf::GgufWriter& w) {
  using gguf::Value;
  const int64_t D = c.dim, F = c.hidden_dim, L = c.n_layers, V = c.vocab_size, hs = D / c.n_heads, kv = D * c.n_kv_heads / c.n_heads;
  w.add("general.architecture", Value::string("llama"));
  w.add("general.name", Value::string(name));
  w.add("general.file_type", Value::u32(0));  // all F32
  w.add("llama.vocab_size", Value::u32(uint32_t(V)));
  w.add("llama.context_length", Value::u32(uint32_t(c.seq_len)));
  w.add("llama.embedding_length", Value::u32(uint32_t(D)));
  w.add("llama.feed_forward_length", Value::u32(uint32_t(F)));
  w.add("llama.block_count", Value::u32(uint32_t(L)));
  w.add("llama.attention.head_count", Value::u32(uint32_t(c.n_heads)));
  w.add("llama.attention.head_count_kv", Value::u32(uint32_t(c.n_kv_heads)));
  w.add("llama.rope.dimension_count", Value::u32(uint32_t(hs)));
  w.add("llama.rope.freq_base", Value::f32(10000.0f));                 // run.c's constant
  w.add("llama.attention.layer_norm_rms_epsilon", Value::f32(1e-5f));  // run.c's rmsnorm

  const float* p = c.data.data();
  auto take = [&](int64_t n) {
    const float* q = p;
    p += n;
    return q;
  };
  // Arrays are stored all layers at a time: wq of layer 0..L-1, then wk, ...
  const float* emb = take(V * D);
  const float* att_norm = take(L * D);
  const float* wq = take(L * D * D);
  const float* wk = take(L * kv * D);
  const float* wv = take(L * kv * D);
  const float* wo = take(L * D * D);
  const float* ffn_norm = take(L * D);
  const float* w1 = take(L * F * D);
  const float* w2 = take(L * D * F);
  const float* w3 = take(L * F * D);
  const float* out_norm = take(D);
  take(2 * c.seq_len * hs / 2);  // legacy RoPE tables: run.c recomputes them
  const float* wcls = c.shared_classifier ? nullptr : take(V * D);

  Status st;
  auto add = [&](const std::string& n, std::vector<int64_t> ne, const float* data) {
    if (st) st = w.add_tensor(n, DType::F32, std::move(ne), data);
  };
  add("token_embd.weight", {D, V}, emb);
  for (int64_t l = 0; l < L; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", {D}, att_norm + l * D);
    add(b + "attn_q.weight", {D, D}, wq + l * D * D);
    add(b + "attn_k.weight", {D, kv}, wk + l * kv * D);
    add(b + "attn_v.weight", {D, kv}, wv + l * kv * D);
    add(b + "attn_output.weight", {D, D}, wo + l * D * D);
    add(b + "ffn_norm.weight", {D}, ffn_norm + l * D);
    add(b + "ffn_gate.weight", {D, F}, w1 + l * F * D);
    add(b + "ffn_down.weight", {F, D}, w2 + l * D * F);
    add(b + "ffn_up.weight", {D, F}, w3 + l * F * D);
  }
  add("output_norm.weight", {D}, out_norm);
  if (wcls) add("output.weight", {D, V}, wcls);
  return st;
}

}  // namespace ember
