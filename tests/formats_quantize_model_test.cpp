// ember-quantize's conversion: llama.cpp's Q4_K_M mix rules, fallbacks, values within each format's
// resolution, and metadata carried over.
#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include "ember/core/quantize.h"
#include "ember/formats/gguf.h"
#include "formats/quantize_model.h"
#include "test_util.h"

namespace ember {
namespace {

TEST(QuantizeModel, Q4KMGivesSensitiveTensorsMoreBitsAsLlamaCppDoes) {
  auto t = parse_quant_target("Q4_K_M");
  ASSERT_TRUE(t.is_ok());
  const int64_t n = 24;  // more bits: layers 0-2, 21-23, and 3 + 3k + 2 in between
  std::vector<int64_t> more;
  for (int64_t l = 0; l < n; ++l)
    if (choose_dtype(*t, "blk." + std::to_string(l) + ".attn_v.weight", 2, 1536, n) == DType::Q6_K) more.push_back(l);
  EXPECT_EQ(more, (std::vector<int64_t>{0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23}));
  EXPECT_EQ(choose_dtype(*t, "blk.4.attn_q.weight", 2, 1536, n), DType::Q4_K);
  EXPECT_EQ(choose_dtype(*t, "blk.0.ffn_down.weight", 2, 8960, n), DType::Q6_K);
  EXPECT_EQ(choose_dtype(*t, "output.weight", 2, 1536, n), DType::Q6_K);
  EXPECT_EQ(choose_dtype(*t, "blk.0.attn_norm.weight", 1, 1536, n), DType::F32);
  // 896 values (Qwen2.5-0.5B) are no whole number of 256-value blocks: llama.cpp's fallbacks.
  EXPECT_EQ(choose_dtype(*t, "blk.4.attn_q.weight", 2, 896, n), DType::Q5_0);
  EXPECT_EQ(choose_dtype(*t, "output.weight", 2, 896, n), DType::Q8_0);
  EXPECT_EQ(choose_dtype(*t, "blk.0.attn_q.weight", 2, 100, n), DType::F16);
  EXPECT_FALSE(parse_quant_target("Q9_X").is_ok());
}

TEST(QuantizeModel, ConvertsAWholeFileKeepingMetadata) {
  gguf::GgufWriter w;
  w.add("general.architecture", gguf::Value::string("llama"));
  w.add("llama.block_count", gguf::Value::u32(2));
  w.add("general.file_type", gguf::Value::u32(0));
  w.add("tokenizer.ggml.tokens", gguf::Value::string_array({"a", "b"}));
  const auto wq = test::random_floats(512 * 4, 1, 0.5f), norm = test::random_floats(512, 2);
  ASSERT_TRUE(w.add_tensor("blk.0.attn_q.weight", DType::F32, {512, 4}, wq.data()).is_ok());
  ASSERT_TRUE(w.add_tensor("blk.0.attn_norm.weight", DType::F32, {512}, norm.data()).is_ok());
  const std::string in_path = ::testing::TempDir() + "/q_in" + std::to_string(::getpid()) + ".gguf";
  const std::string out_path = ::testing::TempDir() + "/q_out" + std::to_string(::getpid()) + ".gguf";
  ASSERT_TRUE(w.write(in_path).is_ok());
  auto in = gguf::GgufFile::open(in_path);
  ASSERT_TRUE(in.is_ok());
  ASSERT_TRUE(quantize_gguf(**in, out_path, *parse_quant_target("Q4_K_M"), nullptr).is_ok());
  auto out = gguf::GgufFile::open(out_path);
  ASSERT_TRUE(out.is_ok()) << out.status().to_string();
  EXPECT_EQ(*(*out)->find("general.file_type")->as_uint(), 15u);
  EXPECT_EQ((*out)->find("tokenizer.ggml.tokens")->strings().size(), 2u);
  const gguf::TensorInfo* q = (*out)->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::Q4_K);
  EXPECT_EQ((*out)->find_tensor("blk.0.attn_norm.weight")->dtype, DType::F32);
  std::vector<float> back(512 * 4);
  for (int r = 0; r < 4; ++r)
    dequantize_row(DType::Q4_K, static_cast<const char*>((*out)->tensor_view(*q).data) + r * row_bytes(DType::Q4_K, 512),
                   back.data() + r * 512, 512);
  double se = 0, sx = 0;
  for (size_t i = 0; i < back.size(); ++i) {
    se += (back[i] - wq[i]) * (back[i] - wq[i]);
    sx += wq[i] * wq[i];
  }
  EXPECT_LT(std::sqrt(se / sx), 0.12);
  std::remove(in_path.c_str());
  std::remove(out_path.c_str());
}

}  // namespace
}  // namespace ember
