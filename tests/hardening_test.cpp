// Regression tests of the hardening findings (tests/RELIABILITY.md): hostile or mistaken input
// ends in a clear error, promptly, through the C API as through the C++ one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ember.h"
#include "ember/runtime/generate.h"
#include "ember/tokenizer/chat_template.h"
#include "ember/tokenizer/tokenizer.h"
#include "random_model.h"

namespace ember {
namespace {

const std::string kStories = std::string(EMBER_MODELS_DIR) + "/stories260K.gguf";

// A sampler made for one model's vocabulary, used on a context of another: refused, never a read
// past the logits (it returned a token from beyond a 512-token model's logits).
TEST(Hardening, ASamplerOfAnotherModelIsRefused) {
  test::RandomModel rm;  // 300 tokens
  const std::string other = rm.write("other-vocab");
  ember_model *stories = nullptr, *small = nullptr;
  ASSERT_EQ(ember_model_load(kStories.c_str(), nullptr, &stories), EMBER_OK);
  ASSERT_EQ(ember_model_load(other.c_str(), nullptr, &small), EMBER_OK);
  ASSERT_NE(ember_model_n_vocab(stories), ember_model_n_vocab(small));
  ember_sampler_params sp;
  ember_sampler_params_init(&sp);
  ember_sampler* s = nullptr;
  ASSERT_EQ(ember_sampler_create(small, &sp, &s), EMBER_OK);
  ember_context* ctx = nullptr;
  ASSERT_EQ(ember_context_create(stories, nullptr, &ctx), EMBER_OK);
  const int32_t t[2] = {1, 403};
  ASSERT_EQ(ember_decode(ctx, t, 2), EMBER_OK);
  int32_t tok = -7;
  EXPECT_EQ(ember_sampler_sample(s, ctx, &tok), EMBER_INVALID_ARGUMENT);
  EXPECT_EQ(tok, -7);
  EXPECT_NE(std::string(ember_last_error()).find("300 tokens"), std::string::npos) << ember_last_error();
  EXPECT_EQ(ember_generate(ctx, s, "Once", nullptr, nullptr, nullptr, nullptr), EMBER_INVALID_ARGUMENT);
  ember_sampler_free(s);
  ember_context_free(ctx);
  ember_model_free(small);
  ember_model_free(stories);
  std::remove(other.c_str());
}

// A FIFO (or any non-regular file) given as a model, a tokenizer or a folder's config.json is an
// IO error at once: opening one for reading used to wait for a writer, forever.
TEST(Hardening, AFifoIsRefusedAtOnce) {
  const std::string dir = ::testing::TempDir() + "/ember-fifo-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string fifo = dir + "/model.gguf";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((dir + "/config.json").c_str(), 0600), 0);
  ember_model* m = nullptr;  // (before the fix each of these waited for a writer: the test timed out)
  EXPECT_EQ(ember_model_load(fifo.c_str(), nullptr, &m), EMBER_IO);
  EXPECT_NE(std::string(ember_last_error()).find("not a regular file"), std::string::npos) << ember_last_error();
  ember_model_params mp;
  ember_model_params_init(&mp);
  mp.use_mmap = 0;
  EXPECT_EQ(ember_model_load(fifo.c_str(), &mp, &m), EMBER_IO);
  EXPECT_EQ(ember_model_load(dir.c_str(), nullptr, &m), EMBER_IO);  // a folder whose config.json is a FIFO
  auto tok = Tokenizer::from_hf_json(fifo);
  ASSERT_FALSE(tok);
  EXPECT_EQ(tok.status().code(), StatusCode::kIo);
  EXPECT_EQ(m, nullptr);
  std::filesystem::remove_all(dir);
}

TEST(Hardening, ANullStopStringIsAnError) {
  ember_model* m = nullptr;
  ASSERT_EQ(ember_model_load(kStories.c_str(), nullptr, &m), EMBER_OK);
  ember_context* ctx = nullptr;
  ASSERT_EQ(ember_context_create(m, nullptr, &ctx), EMBER_OK);
  const char* stops[2] = {"Lily", nullptr};
  ember_generate_params gp;
  ember_generate_params_init(&gp);
  gp.stop = stops;
  gp.n_stop = 2;
  EXPECT_EQ(ember_generate(ctx, nullptr, "Once upon a time", &gp, nullptr, nullptr, nullptr), EMBER_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ember_last_error()).find("stop[1]"), std::string::npos) << ember_last_error();
  EXPECT_EQ(ember_context_n_past(ctx), 0);
  ember_context_free(ctx);
  ember_model_free(m);
}

// A tokenizer.json whose pre-tokenizer regex does not compile is a broken file (FORMAT), not a bug
// in Ember (INTERNAL).
TEST(Hardening, ABadPreTokenizerRegexIsAFormatError) {
  const std::string json = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":[]},
    "pre_tokenizer":{"type":"Split","pattern":{"Regex":"(unclosed"},"behavior":"Isolated","invert":false}})";
  auto tok = Tokenizer::from_hf_json_text(json, "bad-regex.json");
  ASSERT_FALSE(tok);
  EXPECT_EQ(tok.status().code(), StatusCode::kFormat) << tok.status().to_string();
}

}  // namespace
}  // namespace ember

namespace ember {
namespace {

// Streamed text is valid UTF-8 even when a vocabulary's pieces are not: bytes that cannot start
// or continue a character become U+FFFD (bytes ff fe 80 0d once reached the text callback).
TEST(Hardening, StreamedTextIsValidUtf8WhateverThePieces) {
  // Byte-level BPE: each character of a token stands for one byte (GPT-2's table), so these
  // tokens are the bytes ff, fe, c3 (a lead byte), a9 (a continuation), "a" and "\r".
  const std::string json = R"({"model":{"type":"BPE","vocab":{"ÿ":0,"þ":1,"Ã":2,"©":3,"a":4,"č":5},"merges":[]},
    "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
    "decoder":{"type":"ByteLevel"}})";
  auto tok = Tokenizer::from_hf_json_text(json, "invalid-pieces.json");
  ASSERT_TRUE(tok) << tok.status().to_string();
  ASSERT_EQ((*tok)->piece(0, false), "\xff");
  StreamDecoder d(**tok);
  std::string all;
  auto push = [&](int32_t id) {
    const std::string out = d.push(id);
    EXPECT_TRUE(is_valid_utf8(out)) << "after token " << id;
    all += out;
    return out;
  };
  EXPECT_EQ(push(0), "\xef\xbf\xbd");  // ff
  EXPECT_EQ(push(1), "\xef\xbf\xbd");  // fe
  EXPECT_EQ(push(3), "\xef\xbf\xbd");  // a stray continuation byte
  EXPECT_EQ(push(5), "\r");
  EXPECT_EQ(push(2), "");              // c3: held, it may start "é"
  EXPECT_EQ(push(3), "\xc3\xa9");      // é
  EXPECT_EQ(push(2), "");
  EXPECT_EQ(push(4), "\xef\xbf\xbd" "a");  // c3 then "a": the lead byte was not a character
  EXPECT_EQ(push(2), "");
  EXPECT_EQ(d.flush(), "\xef\xbf\xbd");
  EXPECT_TRUE(is_valid_utf8(all));
}

}  // namespace
}  // namespace ember

namespace ember {
namespace {

// Templates come from model files: one that would run for minutes or grow without bound stops
// at a budget, promptly, as a FORMAT error naming it, never exhausting the host.
TEST(Hardening, ChatTemplatesRunUnderBudgets) {
  struct Case {
    const char* name;
    const char* source;
    const char* limit;  // in the message
  };
  const Case cases[] = {
      {"three nested loops", "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                             "{% endfor %}{% endfor %}{% endfor %}",
       "steps"},
      {"a list doubled in a loop", "{% set ns = namespace(x=[1]) %}{% for i in range(64) %}{% set ns.x = ns.x + ns.x %}"
                                   "{% endfor %}{{ ns.x | length }}",
       "list longer"},
      {"a string doubled in a loop", "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
                                     "{% endfor %}{{ ns.s }}",
       "string longer"},
      {"output without end", "{% for i in range(1000000) %}{{ 'x' * 100000 }}{% endfor %}", "output longer"},
  };
  for (const Case& c : cases) {
    auto t = ChatTemplate::parse(c.source);
    ASSERT_TRUE(t) << c.name << ": " << t.status().to_string();
    auto out = t->render_json(R"({"messages": []})");  // bounded by the budgets (about a second here)
    ASSERT_FALSE(out) << c.name;
    EXPECT_EQ(out.status().code(), StatusCode::kFormat) << c.name << ": " << out.status().to_string();
    EXPECT_NE(out.status().message().find(c.limit), std::string::npos) << c.name << ": " << out.status().to_string();
  }
  // Through the C API (a GGUF's template is rendered by ember_chat_apply_template) the same
  // limits hold; an ordinary conversation is far within them.
  auto ok = ChatTemplate::parse("{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}");
  ASSERT_TRUE(ok);
  std::vector<ChatMessage> many(5000, ChatMessage{"user", std::string(200, 'a')});
  auto long_chat = ok->apply(many, true, "", "");
  ASSERT_TRUE(long_chat) << long_chat.status().to_string();
  EXPECT_GT(long_chat->size(), 5000u * 200);
}

}  // namespace
}  // namespace ember

namespace ember {
namespace {

// A decode that cannot fit is refused before any of it is processed: it used to leave the
// batches that fitted in the cache, half a prompt the caller did not know about.
TEST(Hardening, AFullContextRefusesTheWholeBatchUntouched) {
  ember_model* m = nullptr;
  ASSERT_EQ(ember_model_load(kStories.c_str(), nullptr, &m), EMBER_OK);
  ember_context_params cp;
  ember_context_params_init(&cp);
  cp.n_ctx = 64;
  cp.n_batch = 16;
  cp.n_threads = 1;
  ember_context* ctx = nullptr;
  ASSERT_EQ(ember_context_create(m, &cp, &ctx), EMBER_OK);
  std::vector<int32_t> t(40);
  for (size_t i = 0; i < t.size(); ++i) t[i] = int32_t(3 + i * 7 % 500);
  ASSERT_EQ(ember_decode(ctx, t.data(), t.size()), EMBER_OK);
  const std::vector<float> before(ember_get_logits(ctx), ember_get_logits(ctx) + ember_model_n_vocab(m));
  EXPECT_EQ(ember_decode(ctx, t.data(), t.size()), EMBER_CONTEXT_FULL);
  EXPECT_EQ(ember_context_n_past(ctx), 40);
  EXPECT_EQ(std::vector<float>(ember_get_logits(ctx), ember_get_logits(ctx) + ember_model_n_vocab(m)), before);
  EXPECT_EQ(ember_decode(ctx, t.data(), 24), EMBER_OK);  // what fits still goes in
  EXPECT_EQ(ember_context_n_past(ctx), 64);
  ember_context_free(ctx);
  ember_model_free(m);
}

}  // namespace
}  // namespace ember
