// safetensors files and sharded checkpoints, config.json and GGUF metadata mapped to one model
// description, and Hugging Face tensor names mapped to GGUF's.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "ember/core/half.h"
#include "ember/formats/gguf.h"
#include "ember/formats/model_description.h"
#include "ember/formats/safetensors.h"
#include "test_util.h"

namespace ember {
namespace {

struct StTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// 8-byte length, the header, then the tensors' bytes (built in a string: GCC 12 misreports
// vector::insert into a freshly sized vector as out of bounds).
std::vector<uint8_t> with_header(const std::string& header, const std::vector<StTensor>& ts, size_t extra_zeros = 0) {
  std::string s(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(s.data(), &n, 8);
  s += header;
  for (const StTensor& t : ts) s.append(t.bytes.begin(), t.bytes.end());
  s.append(extra_zeros, '\0');
  return std::vector<uint8_t>(s.begin(), s.end());
}

// A safetensors file as the format defines it (what the `safetensors` package writes).
std::vector<uint8_t> safetensors_bytes(const std::vector<StTensor>& ts, const nlohmann::json& meta = nullptr) {
  nlohmann::json h = nlohmann::json::object();
  if (!meta.is_null()) h["__metadata__"] = meta;
  size_t off = 0;
  for (const StTensor& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string header = h.dump();
  while ((8 + header.size()) % 8) header += ' ';
  return with_header(header, ts);
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(Safetensors, ReadsTensorsAsViewsWithReversedDims) {
  std::vector<uint8_t> bf(6 * 2), hf(4 * 2);
  for (int i = 0; i < 6; ++i) {
    const uint16_t b = f32_to_bf16(float(i) - 2.5f);
    std::memcpy(bf.data() + 2 * i, &b, 2);
  }
  for (int i = 0; i < 4; ++i) {
    const uint16_t h = f32_to_fp16(0.25f * float(i));
    std::memcpy(hf.data() + 2 * i, &h, 2);
  }
  const auto file = safetensors_bytes({{"a.weight", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})},
                                       {"b", "BF16", {3, 2}, bf},
                                       {"c", "F16", {4}, hf}},
                                      {{"format", "pt"}});
  auto f = SafetensorsFile::from_memory(file.data(), file.size(), "t.safetensors");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ((*f)->metadata().at("format"), "pt");
  const auto* a = (*f)->find("a.weight");
  ASSERT_NE(a, nullptr);
  const Tensor v = (*f)->view(*a);
  EXPECT_EQ(v.ne[0], 3);  // the contiguous dimension comes first in Ember's dims
  EXPECT_EQ(v.ne[1], 2);
  EXPECT_EQ(v.as<float>()[4], 5.0f);
  std::vector<float> out(6);
  dequantize_row(DType::BF16, (*f)->view(*(*f)->find("b")).data, out.data(), 6);
  EXPECT_EQ(out[5], 2.5f);
  EXPECT_EQ((*f)->find("c")->dtype, DType::F16);
}

Status parse(const std::vector<uint8_t>& b) { return SafetensorsFile::from_memory(b.data(), b.size(), "bad.safetensors").status(); }

TEST(Safetensors, MalformedFilesAreFormatErrorsNamingTheTensor) {
  const auto good = safetensors_bytes({{"w", "F32", {2, 2}, f32_bytes({1, 2, 3, 4})}});
  ASSERT_TRUE(parse(good).is_ok());
  for (size_t n = 0; n < good.size(); ++n) {
    const Status s = parse(std::vector<uint8_t>(good.begin(), good.begin() + long(n)));
    ASSERT_FALSE(s.is_ok()) << "accepted a file cut to " << n;
    ASSERT_EQ(s.code(), StatusCode::kFormat) << s.to_string();
  }
  auto expect = [](const std::vector<uint8_t>& b, StatusCode code, const std::string& needle) {
    const Status s = parse(b);
    ASSERT_FALSE(s.is_ok()) << needle;
    EXPECT_EQ(s.code(), code) << s.to_string();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.to_string();
    EXPECT_NE(s.message().find("bad.safetensors"), std::string::npos);
  };
  expect(safetensors_bytes({{"w", "I64", {1}, std::vector<uint8_t>(8)}}), StatusCode::kUnsupported, "dtype I64");
  expect(safetensors_bytes({{"w", "F32", {3}, f32_bytes({1, 2})}}), StatusCode::kFormat, "tensor 'w' holds 8 bytes");
  std::vector<uint8_t> b = good;
  const uint64_t huge = ~uint64_t(0) >> 1;
  std::memcpy(b.data(), &huge, 8);
  expect(b, StatusCode::kFormat, "runs past the end");
  b = good;
  b[8] = '[';
  expect(b, StatusCode::kFormat, "not a JSON object");
  // Two tensors claiming the same bytes.
  nlohmann::json h = {{"a", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}},
                      {"b", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}}};
  expect(with_header(h.dump(), {}, 4), StatusCode::kFormat, "overlap");
}

TEST(Safetensors, ShardedCheckpointsOpenAsOneSet) {
  // One folder per process: ctest runs this binary several times at once.
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / ("ember_sharded_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::vector<uint8_t>& b) {
    std::FILE* f = std::fopen((dir / name).c_str(), "wb");
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  };
  write("model-00001-of-00002.safetensors", safetensors_bytes({{"model.embed_tokens.weight", "F32", {2, 2}, f32_bytes({1, 2, 3, 4})}}));
  write("model-00002-of-00002.safetensors", safetensors_bytes({{"lm_head.weight", "F32", {2, 2}, f32_bytes({5, 6, 7, 8})}}));
  nlohmann::json index = {{"metadata", {{"total_size", 32}}},
                          {"weight_map", {{"model.embed_tokens.weight", "model-00001-of-00002.safetensors"},
                                          {"lm_head.weight", "model-00002-of-00002.safetensors"}}}};
  const std::string idx = index.dump();
  write("model.safetensors.index.json", std::vector<uint8_t>(idx.begin(), idx.end()));
  auto set = SafetensorsSet::open_dir(dir.string());
  ASSERT_TRUE(set.is_ok()) << set.status().to_string();
  const auto* e = (*set)->find("lm_head.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->file->view(*e->info).as<float>()[3], 8.0f);
  index["weight_map"]["model.norm.weight"] = "model-00002-of-00002.safetensors";
  const std::string bad = index.dump();
  write("model.safetensors.index.json", std::vector<uint8_t>(bad.begin(), bad.end()));
  auto missing = SafetensorsSet::open_dir(dir.string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("model.norm.weight"), std::string::npos);
  index["weight_map"]["model.norm.weight"] = "../evil.safetensors";
  const std::string evil = index.dump();
  write("model.safetensors.index.json", std::vector<uint8_t>(evil.begin(), evil.end()));
  auto escaped = SafetensorsSet::open_dir(dir.string());
  ASSERT_FALSE(escaped.is_ok());
  EXPECT_NE(escaped.status().message().find("not a plain file name"), std::string::npos);
}

// Qwen2.5-0.5B-Instruct's config.json (numbers as published) and the GGUF metadata llama.cpp's
// converter writes for it describe the same model.
TEST(ModelDescription, QwenConfigAndGgufMetadataAgree) {
  const char* config = R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 896, "intermediate_size": 4864,
    "max_position_embeddings": 32768, "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "tie_word_embeddings": true, "vocab_size": 151936})";
  auto hf = describe_hf_config(config, "config.json");
  ASSERT_TRUE(hf.is_ok()) << hf.status().to_string();
  gguf::GgufWriter w;
  w.add("general.architecture", gguf::Value::string("qwen2"));
  w.add("qwen2.embedding_length", gguf::Value::u32(896));
  w.add("qwen2.feed_forward_length", gguf::Value::u32(4864));
  w.add("qwen2.context_length", gguf::Value::u32(32768));
  w.add("qwen2.attention.head_count", gguf::Value::u32(14));
  w.add("qwen2.block_count", gguf::Value::u32(24));
  w.add("qwen2.attention.head_count_kv", gguf::Value::u32(2));
  w.add("qwen2.attention.layer_norm_rms_epsilon", gguf::Value::f32(1e-6f));
  w.add("qwen2.rope.freq_base", gguf::Value::f32(1000000.0f));
  w.add("qwen2.vocab_size", gguf::Value::u32(151936));
  static const std::vector<float> bias(128, 0.0f);
  ASSERT_TRUE(w.add_tensor("blk.0.attn_q.bias", DType::F32, {128}, bias.data()).is_ok());
  const auto bytes = w.bytes();
  auto g = gguf::GgufFile::from_memory(bytes.data(), bytes.size(), "qwen.gguf");
  ASSERT_TRUE(g.is_ok());
  auto gd = describe_gguf(**g);
  ASSERT_TRUE(gd.is_ok()) << gd.status().to_string();
  for (const ModelDescription* d : {&*hf, &*gd}) {
    EXPECT_EQ(d->architecture, "qwen2");
    EXPECT_EQ(d->n_embd, 896);
    EXPECT_EQ(d->n_layer, 24);
    EXPECT_EQ(d->n_head, 14);
    EXPECT_EQ(d->n_head_kv, 2);
    EXPECT_EQ(d->head_dim, 64);
    EXPECT_EQ(d->rope_dim, 64);
    EXPECT_EQ(d->n_ff, 4864);
    EXPECT_EQ(d->n_vocab, 151936);
    EXPECT_EQ(d->rope_theta, 1000000.0f);
    EXPECT_EQ(d->rope_style, RopeStyle::kNeox);
    EXPECT_TRUE(d->attn_qkv_bias);
    EXPECT_TRUE(d->tied_embeddings);
  }
}

TEST(ModelDescription, DeepSeekV2LiteAndV3Configs) {
  const char* v2lite = R"({"architectures": ["DeepseekV2ForCausalLM"], "hidden_size": 2048, "intermediate_size": 10944,
    "kv_lora_rank": 512, "q_lora_rank": null, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "moe_intermediate_size": 1408, "n_routed_experts": 64, "n_shared_experts": 2, "num_experts_per_tok": 6,
    "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1, "norm_topk_prob": false, "routed_scaling_factor": 1.0,
    "num_attention_heads": 16, "num_key_value_heads": 16, "num_hidden_layers": 27, "vocab_size": 102400,
    "rms_norm_eps": 1e-06, "rope_theta": 10000, "scoring_func": "softmax",
    "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096, "beta_fast": 32,
                     "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}})";
  auto d = describe_hf_config(v2lite, "v2lite");
  ASSERT_TRUE(d.is_ok()) << d.status().to_string();
  EXPECT_EQ(d->family, ModelFamily::kDeepseek);
  EXPECT_EQ(d->q_lora_rank, 0);
  EXPECT_EQ(d->kv_lora_rank, 512);
  EXPECT_EQ(d->head_dim, 192);
  EXPECT_EQ(d->rope_dim, 64);
  EXPECT_EQ(d->rope_style, RopeStyle::kInterleaved);
  EXPECT_EQ(d->gating, ModelDescription::Gating::kSoftmax);
  EXPECT_EQ(d->rope_scaling.type, "yarn");
  EXPECT_FLOAT_EQ(d->rope_scaling.mscale_all_dim, 0.707f);
  const char* v3 = R"({"architectures": ["DeepseekV3ForCausalLM"], "hidden_size": 7168, "intermediate_size": 18432,
    "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
    "moe_intermediate_size": 2048, "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
    "first_k_dense_replace": 3, "n_group": 8, "topk_group": 4, "norm_topk_prob": true, "routed_scaling_factor": 2.5,
    "num_attention_heads": 128, "num_key_value_heads": 128, "num_hidden_layers": 61, "vocab_size": 129280,
    "rms_norm_eps": 1e-06, "rope_theta": 10000, "scoring_func": "sigmoid", "num_nextn_predict_layers": 1})";
  auto d3 = describe_hf_config(v3, "v3");
  ASSERT_TRUE(d3.is_ok()) << d3.status().to_string();
  EXPECT_EQ(d3->gating, ModelDescription::Gating::kSigmoid);
  EXPECT_EQ(d3->n_group, 8);
  EXPECT_FLOAT_EQ(d3->routed_scaling, 2.5f);
  EXPECT_EQ(hf_to_gguf_name("model.layers.60.mlp.experts.17.down_proj.weight", *d3), "blk.60.ffn_down_exps.17.weight");
  EXPECT_EQ(hf_to_gguf_name("model.layers.61.self_attn.q_a_proj.weight", *d3), std::nullopt) << "MTP layer is ignored";
  EXPECT_EQ(hf_to_gguf_name("model.layers.3.mlp.gate.e_score_correction_bias", *d3), "blk.3.exp_probs_b.bias");
  EXPECT_EQ(hf_to_gguf_name("model.layers.0.self_attn.kv_a_proj_with_mqa.weight", *d3), "blk.0.attn_kv_a_mqa.weight");
  EXPECT_EQ(hf_to_gguf_name("lm_head.weight", *d3), "output.weight");
}

TEST(ModelDescription, BadConfigsAreClearErrors) {
  auto unknown = describe_hf_config(R"({"architectures": ["GPT2LMHeadModel"]})", "c.json");
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("GPT2LMHeadModel"), std::string::npos);
  auto heads = describe_hf_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 1,
    "num_attention_heads": 6, "num_key_value_heads": 4, "intermediate_size": 128, "vocab_size": 10})", "c.json");
  EXPECT_EQ(heads.status().code(), StatusCode::kFormat);
  EXPECT_NE(heads.status().message().find("KV heads"), std::string::npos);
  auto type = describe_hf_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": "big"})", "c.json");
  EXPECT_EQ(type.status().code(), StatusCode::kFormat);
  EXPECT_FALSE(describe_hf_config("{not json", "c.json").is_ok());
}

}  // namespace
}  // namespace ember
