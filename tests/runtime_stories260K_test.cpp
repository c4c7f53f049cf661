// The bundled model (stories260K, a real trained Llama) end to end: it must reproduce llama2.c's
// published generations and the derived reference logits, and the runtime's identities must hold
// on it (incremental decode == prefill, context shift == a fresh context, saved state == live).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "ember/formats/llama2c.h"
#include "ember/runtime/context.h"
#include "ember/runtime/generate.h"
#include "test_util.h"

namespace ember {
namespace {

const std::string kModel = std::string(EMBER_MODELS_DIR) + "/stories260K.gguf";
const std::string kShared = EMBER_SHARED_DATA;

std::shared_ptr<const Model> model() {
  static std::shared_ptr<const Model> m = [] {
    auto r = Model::load(kModel);
    EXPECT_TRUE(r) << r.status().to_string();
    return r ? *r : nullptr;
  }();
  return m;
}

std::unique_ptr<Context> context(ContextParams p = {}) {
  if (p.n_threads == 0) p.n_threads = 1;
  auto c = Context::create(model(), p);
  EXPECT_TRUE(c) << c.status().to_string();
  return c ? std::move(*c) : nullptr;
}

nlohmann::json derived() {
  std::ifstream in(kShared + "/vectors/stories260K/stories260K_reference_ids_logits.derived.json");
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

std::string read_text(const std::string& path) {
  std::vector<uint8_t> b;
  if (!test::read_file(path, &b)) return {};
  return std::string(b.begin(), b.end());
}

GenerateResult run(Context& ctx, const SamplerParams& sp, int64_t n, std::vector<std::string> stop = {}) {
  Sampler sampler(sp, ctx.n_vocab());
  GenerateParams gp;
  gp.max_tokens = n;
  gp.strip_leading_space = true;  // the prompt is BOS alone
  gp.stop = std::move(stop);
  auto r = generate(ctx, sampler, {1}, gp, [](std::string_view) { return true; });
  EXPECT_TRUE(r) << r.status().to_string();
  return r ? *r : GenerateResult();
}

TEST(Stories260K, BundledFileIsTheConversionOfTheUpstreamCheckpoint) {
  const std::string dir = kShared + "/models/stories260K";
  auto ck = read_llama2c(dir + "/stories260K.bin");
  if (!ck && ck.status().code() == StatusCode::kIo) GTEST_SKIP() << "shared data absent: " << dir;
  ASSERT_TRUE(ck) << ck.status().to_string();
  auto tok = Tokenizer::from_llama2c(dir + "/tok512.bin", ck->vocab_size);
  ASSERT_TRUE(tok) << tok.status().to_string();
  gguf::GgufWriter w;
  ASSERT_TRUE(llama2c_to_gguf(*ck, "stories260K", w));
  write_vocab_gguf((*tok)->vocab(), w);
  std::vector<uint8_t> bundled;
  ASSERT_TRUE(test::read_file(kModel, &bundled));
  EXPECT_TRUE(w.bytes() == bundled) << "models/stories260K.gguf differs from ember-convert's output";
}

TEST(Stories260K, GreedyReproducesLlama2cRunC) {
  auto ctx = context();
  SamplerParams sp;
  sp.temperature = 0;
  const GenerateResult r = run(*ctx, sp, 256);
  const std::string want256 = read_text(kShared + "/vectors/stories260K/runc_t0_n256.expected.txt");
  if (want256.empty()) GTEST_SKIP() << "shared data absent";
  EXPECT_EQ(r.text, want256);
  const nlohmann::json d = derived();
  EXPECT_EQ(r.tokens, d["greedy"]["generated_ids"].get<std::vector<int32_t>>());
  // run.c -n 200: the same text cut at 200 tokens.
  auto ctx2 = context();
  EXPECT_EQ(run(*ctx2, sp, 200).text, read_text(kShared + "/vectors/stories260K/runc_t0_n200.expected.txt"));
}

TEST(Stories260K, SeededTopPReproducesLlama2cRunC) {
  auto ctx = context();
  SamplerParams sp;
  sp.style = SamplerParams::Style::kLlama2c;
  sp.temperature = 1.0f;
  sp.top_p = 0.9f;
  sp.seed = 133742;
  const GenerateResult r = run(*ctx, sp, 256);
  const std::string want = read_text(kShared + "/vectors/stories260K/runc_t1.0_p0.9_s133742_n256.expected.txt");
  if (want.empty()) GTEST_SKIP() << "shared data absent";
  EXPECT_EQ(r.text, want);
  EXPECT_EQ(r.tokens, derived()["sampled"]["generated_ids"].get<std::vector<int32_t>>());
}

TEST(Stories260K, LogitsMatchTheDerivedReference) {
  const nlohmann::json d = derived();
  if (d.is_null()) GTEST_SKIP() << "shared data absent";
  const auto ids = d["greedy"]["generated_ids"].get<std::vector<int32_t>>();
  const auto rows = d["greedy"]["logits_at_pos"]["rows"].get<std::vector<std::vector<float>>>();
  const std::vector<int32_t> input = {1, ids[0], ids[1], ids[2]};
  for (int64_t batch : {1, 4}) {
    auto ctx = context({.n_batch = batch});
    std::vector<float> logits(input.size() * 512);
    ASSERT_TRUE(ctx->eval(input.data(), 4, logits.data()));
    for (size_t pos = 0; pos < rows.size(); ++pos)
      for (size_t i = 0; i < 512; ++i) ASSERT_NEAR(logits[pos * 512 + i], rows[pos][i], 1e-4) << "pos " << pos << " id " << i;
  }
}

// Any split of a sequence into eval calls gives the logits one whole prefill gives.
TEST(Stories260K, IncrementalDecodeEqualsPrefill) {
  std::vector<int32_t> seq = {1};
  std::mt19937 rng(7);
  for (int i = 0; i < 60; ++i) seq.push_back(int32_t(3 + rng() % 509));
  const int64_t n = int64_t(seq.size()), V = 512;
  std::vector<float> whole(size_t(n * V));
  ASSERT_TRUE(context({.n_batch = 64})->eval(seq.data(), n, whole.data()));
  for (int trial = 0; trial < 6; ++trial) {
    auto ctx = context({.n_batch = int64_t(1 + rng() % 9)});
    std::vector<float> part(size_t(n * V));
    for (int64_t done = 0; done < n;) {
      const int64_t k = std::min<int64_t>(n - done, 1 + rng() % 12);
      ASSERT_TRUE(ctx->eval(seq.data() + done, k, part.data() + done * V));
      done += k;
    }
    float worst = 0;
    for (size_t i = 0; i < whole.size(); ++i) worst = std::max(worst, std::abs(whole[i] - part[i]));
    EXPECT_LT(worst, 1e-4f) << "trial " << trial;
  }
}

TEST(Stories260K, FullContextIsAnErrorUnlessShiftingIsOn) {
  std::vector<int32_t> seq(40, 300);
  seq[0] = 1;
  auto ctx = context({.n_ctx = 32, .n_batch = 8});
  Status s = ctx->eval(seq);
  EXPECT_EQ(s.code(), StatusCode::kContextFull) << s.to_string();
  EXPECT_EQ(ctx->n_past(), 0);  // decided before any batch: nothing half-processed stays
}

// After a shift the cache holds the kept tokens at new positions with re-rotated keys. Layer 0's
// keys and values depend only on each token and its position (deeper layers also saw the dropped
// tokens), so there the shifted cache must equal a fresh context's cache of the kept tokens.
TEST(Stories260K, ContextShiftReRotatesKeysToTheirNewPositions) {
  std::vector<int32_t> seq = {1};
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) seq.push_back(int32_t(3 + rng() % 509));
  auto ctx = context({.n_ctx = 32, .n_batch = 4, .context_shift = true, .n_keep = 1});
  for (int32_t t : seq) ASSERT_TRUE(ctx->eval(&t, 1));
  EXPECT_LE(ctx->n_past(), 32);
  const std::vector<int32_t> kept = ctx->tokens();
  EXPECT_EQ(kept.front(), 1);
  EXPECT_EQ(std::vector<int32_t>(kept.begin() + 1, kept.end()), std::vector<int32_t>(seq.end() - int64_t(kept.size()) + 1, seq.end()));
  auto fresh = context({.n_ctx = 32});
  ASSERT_TRUE(fresh->eval(kept));
  const int64_t width = ctx->kv_cache().shape().k_width;
  for (int64_t i = 0; i < int64_t(kept.size()) * width; ++i) {
    ASSERT_NEAR(ctx->kv_cache().k_f32(0)[i], fresh->kv_cache().k_f32(0)[i], 1e-5) << "key float " << i;
    ASSERT_NEAR(ctx->kv_cache().v_f32(0)[i], fresh->kv_cache().v_f32(0)[i], 1e-5) << "value float " << i;
  }
}

// The same with an F16 cache: moved rows keep their bits, and re-rotated keys are rounded to F16
// once more. A rotated value mixes its RoPE pair, so its error is an F16 rounding (2^-11
// relative) of the pair's size, not its own: the bound is two roundings of the largest key.
TEST(Stories260K, ContextShiftWithAHalfCache) {
  std::vector<int32_t> seq = {1};
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) seq.push_back(int32_t(3 + rng() % 509));
  auto ctx = context({.n_ctx = 32, .n_batch = 4, .context_shift = true, .n_keep = 1, .kv_type = DType::F16});
  for (int32_t t : seq) ASSERT_TRUE(ctx->eval(&t, 1));
  const std::vector<int32_t> kept = ctx->tokens();
  auto fresh = context({.n_ctx = 32, .kv_type = DType::F16});
  ASSERT_TRUE(fresh->eval(kept));
  const KvCache& a = ctx->kv_cache();
  const KvCache& b = fresh->kv_cache();
  const int64_t width = a.shape().k_width, n = int64_t(kept.size());
  std::vector<float> ka(size_t(n * width)), kb(ka.size()), va(ka.size()), vb(ka.size());
  a.load_rows(a.k(0), width, 0, ka.data(), n);
  b.load_rows(b.k(0), width, 0, kb.data(), n);
  a.load_rows(a.v(0), width, 0, va.data(), n);
  b.load_rows(b.v(0), width, 0, vb.data(), n);
  float largest = 0;
  for (float k : kb) largest = std::max(largest, std::abs(k));
  for (size_t i = 0; i < ka.size(); ++i) {
    ASSERT_NEAR(ka[i], kb[i], 2.0f * 0x1p-11f * largest) << "key " << i;
    // Layer 0's values depend on the token alone; the two caches' F32 rows differ only by
    // summation order (batch against single tokens), now and then an F16 rounding step apart.
    ASSERT_NEAR(va[i], vb[i], 0x1p-10f * std::abs(vb[i]) + 1e-6f) << "value " << i;
  }
}

TEST(Stories260K, SavedStateRestoresIntoAnotherContext) {
  auto a = context();
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  ASSERT_TRUE(a->eval(prompt));
  const std::vector<uint8_t> state = a->save_state();
  auto b = context();
  ASSERT_TRUE(b->load_state(state.data(), state.size()));
  EXPECT_EQ(b->tokens(), prompt);
  const int32_t next = 432;
  ASSERT_TRUE(a->eval(&next, 1));
  ASSERT_TRUE(b->eval(&next, 1));
  for (int i = 0; i < 512; ++i) ASSERT_EQ(a->logits()[i], b->logits()[i]);
  // Damaged or foreign states are refused, and the context is left as it was.
  std::vector<uint8_t> bad = state;
  bad[0] = 'X';
  EXPECT_EQ(b->load_state(bad.data(), bad.size()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b->load_state(state.data(), state.size() - 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b->load_state(nullptr, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(b->n_past(), 6);
  auto small = context({.n_ctx = 4});
  EXPECT_EQ(small->load_state(state.data(), state.size()).code(), StatusCode::kInvalidArgument);
}

TEST(Stories260K, StopStringsEndTheTextBeforeThem) {
  auto ctx = context();
  SamplerParams sp;
  sp.temperature = 0;
  const GenerateResult r = run(*ctx, sp, 100, {"Lily"});
  EXPECT_EQ(r.reason, StopReason::kStopString);
  EXPECT_EQ(r.text, "Once upon a time, there was a little girl named ");
}

TEST(Stories260K, CallbackAndInterruptStopGeneration) {
  auto ctx = context();
  SamplerParams sp;
  sp.temperature = 0;
  Sampler sampler(sp, 512);
  GenerateParams gp;
  gp.max_tokens = 50;
  int calls = 0;
  auto r = generate(*ctx, sampler, {1}, gp, [&](std::string_view) { return ++calls < 3; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, StopReason::kCallback);
  EXPECT_EQ(calls, 3);
  // An interrupt while generating (here from the callback; any thread may call it) stops it at
  // the next step.
  ctx->reset();
  calls = 0;
  r = generate(*ctx, sampler, {1}, gp, [&](std::string_view) {
    if (++calls == 3) ctx->interrupt();
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, StopReason::kCancelled);
  EXPECT_LE(r->tokens.size(), 5u);
  // One while nothing runs has no effect on the next call (as sqlite3_interrupt).
  ctx->reset();
  ctx->interrupt();
  r = generate(*ctx, sampler, {1}, gp, [](std::string_view) { return true; });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, StopReason::kMaxTokens);
  EXPECT_EQ(r->tokens.size(), 50u);
}

TEST(Stories260K, ChainSamplerIsReproducibleFromItsSeed) {
  SamplerParams sp;
  sp.temperature = 1.0f;
  sp.seed = 42;
  auto a = context(), b = context();
  const GenerateResult ra = run(*a, sp, 64), rb = run(*b, sp, 64);
  EXPECT_EQ(ra.tokens, rb.tokens);
  sp.seed = 43;
  auto c = context();
  EXPECT_NE(run(*c, sp, 64).tokens, ra.tokens);
  // top_k = 1 leaves only the best token: greedy whatever the temperature.
  sp.top_k = 1;
  SamplerParams greedy;
  greedy.temperature = 0;
  auto d = context(), e = context();
  EXPECT_EQ(run(*d, sp, 64).tokens, run(*e, greedy, 64).tokens);
}

TEST(Stories260K, BadInputGetsClearErrors) {
  auto ctx = context();
  const int32_t bad[] = {1, 512};
  Status s = ctx->eval(bad, 2);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("512"), std::string::npos) << s.message();
  EXPECT_EQ(ctx->n_past(), 0);
  EXPECT_EQ(ctx->eval(nullptr, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Model::load("/nonexistent/model.gguf").status().code(), StatusCode::kIo);
  EXPECT_EQ(Context::create(nullptr, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Context::create(model(), {.n_ctx = -1}).status().code(), StatusCode::kInvalidArgument);
  SamplerParams sp;
  sp.top_p = 0;
  EXPECT_EQ(validate(sp).code(), StatusCode::kInvalidArgument);
  sp = {};
  sp.temperature = -1;
  EXPECT_EQ(validate(sp).code(), StatusCode::kInvalidArgument);
}

TEST(Stories260K, TruncatedFileIsAFormatError) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(test::read_file(kModel, &bytes));
  const std::string path = ::testing::TempDir() + "/truncated-" + std::to_string(::getpid()) + ".gguf";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size() / 2));
  }
  auto m = Model::load(path);
  std::remove(path.c_str());
  ASSERT_FALSE(m);
  EXPECT_EQ(m.status().code(), StatusCode::kFormat) << m.status().to_string();
}

}  // namespace
}  // namespace ember
