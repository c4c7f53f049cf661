// Tokenizers against published vectors: llama.cpp's vocab-only GGUF files with their .inp/.out
// files (expected ids computed by each model's Hugging Face tokenizer). Every line of every vector
// file whose vocabulary is present must match.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/tokenizer.h"
#include "test_util.h"

namespace ember {
namespace {

std::string vocab_dir() { return std::string(EMBER_SHARED_DATA) + "/vectors/llama.cpp-vocab/"; }

struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

// .inp: inputs separated by "\n__ggml_vocab_test__\n"; .out: one line of ids per input.
bool load_vectors(const std::string& base, std::vector<VectorCase>* cases) {
  std::vector<uint8_t> inp, out;
  if (!test::read_file(base + ".inp", &inp) || !test::read_file(base + ".out", &out)) return false;
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::string all(inp.begin(), inp.end());
  std::vector<std::string> texts;
  size_t pos = 0;
  for (size_t hit; (hit = all.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) texts.push_back(all.substr(pos, hit - pos));
  std::istringstream lines(std::string(out.begin(), out.end()));
  std::string line;
  for (const std::string& t : texts) {
    if (!std::getline(lines, line)) return false;
    VectorCase c{t, {}};
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) c.ids.push_back(id);
    cases->push_back(std::move(c));
  }
  return true;
}

// Every case of vector file `base` (.inp/.out) through `tok`; returns the number of mismatches.
int check_vectors(const Tokenizer& tok, const std::string& base, const std::string& label) {
  std::vector<VectorCase> cases;
  EXPECT_TRUE(load_vectors(base, &cases)) << base;
  EXPECT_GE(cases.size(), 40u);
  int failures = 0;
  for (const VectorCase& c : cases) {
    auto ids = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_TRUE(ids.is_ok()) << ids.status().to_string();
    if (!ids) continue;
    if (*ids != c.ids) {
      ++failures;
      std::ostringstream got, want;
      for (int32_t id : *ids) got << ' ' << id;
      for (int32_t id : c.ids) want << ' ' << id;
      ADD_FAILURE() << label << " input \"" << c.text << "\"\n  got: " << got.str() << "\n want: " << want.str();
    } else if (tok.vocab().model == Vocab::Model::kWpm) {
      // WordPiece normalizes away case, accents and spacing: there is no exact way back.
    } else if (!tok.vocab().nfc) {
      EXPECT_EQ(tok.decode(*ids), c.text) << label << ": decoding gives the input back";
    } else {
      EXPECT_EQ(tok.decode(*ids), nfc(c.text)) << label << ": decoding gives the (NFC) input back";
    }
  }
  return failures;
}

class VocabVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabVectors, EveryLineMatches) {
  const std::string base = vocab_dir() + "ggml-vocab-" + GetParam() + ".gguf";
  auto f = gguf::GgufFile::open(base);
  if (!f && f.status().code() == StatusCode::kIo) GTEST_SKIP() << "vocabulary not present: " << base;
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  auto tok = Tokenizer::from_gguf(**f);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_EQ(check_vectors(**tok, base, GetParam()), 0);
}

// Qwen2 and DeepSeek-R1-Distill-Qwen use Qwen's byte-level BPE; the Qwen3 tokenizer.json in the
// shared data carries the same vocabulary and merges (SOURCES.md).
// The vocabulary's lookup table: every string found at its first index, absent ones not at all,
// also where strings collide in the table (more strings than the first table sizes).
TEST(StringIndex, FindsFirstIndicesAndNothingElse) {
  std::vector<std::string> s;
  for (int i = 0; i < 5000; ++i) {
    std::string t = std::to_string(i * 7);  // ("t" + to_string trips GCC 12's -Wrestrict)
    t.insert(t.begin(), 't');
    s.push_back(t);
  }
  s.push_back("t0");  // a duplicate: index 0 keeps it
  s.push_back("");
  StringIndex idx;
  idx.build(s);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(idx.find(s[size_t(i)], s), i);
  EXPECT_EQ(idx.find("", s), 5001);
  EXPECT_EQ(idx.find("t1", s), -1);
  EXPECT_EQ(idx.find("t00", s), -1);
  EXPECT_LE(idx.memory_bytes(), 4u * 4 * s.size());
  StringIndex empty;
  EXPECT_EQ(empty.find("x", {}), -1);
  empty.build({});
  EXPECT_EQ(empty.find("x", {}), -1);
}

TEST(HfTokenizerJson, QwenFamilyVectorsMatch) {
  const std::string path = std::string(EMBER_SHARED_DATA) + "/tokenizers/qwen3/tokenizer.json";
  auto tok = Tokenizer::from_hf_json(path);
  if (!tok && tok.status().code() == StatusCode::kIo) GTEST_SKIP() << "not present: " << path;
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_TRUE((*tok)->vocab().nfc);
  for (const char* name : {"qwen2", "deepseek-r1-qwen"})
    EXPECT_EQ(check_vectors(**tok, vocab_dir() + "ggml-vocab-" + name + ".gguf", name), 0) << name;
  // Special tokens: matched in text when asked, spelled out otherwise.
  auto ids = (*tok)->encode("<|im_start|>user\nhi<|im_end|>", false, /*parse_special=*/true);
  ASSERT_TRUE(ids.is_ok());
  ASSERT_GE(ids->size(), 3u);
  EXPECT_EQ(ids->front(), 151644);
  EXPECT_EQ(ids->back(), 151645);
  auto plain = (*tok)->encode("<|im_start|>", false, /*parse_special=*/false);
  EXPECT_GT(plain->size(), 1u);
}

// Llama 2's SentencePiece model, with the encodings llama2.c's test.c asserts (BOS included).
TEST(SentencePieceModel, Llama2EncodingsMatch) {
  const std::string model = std::string(EMBER_SHARED_DATA) + "/tokenizers/llama2-spm/tokenizer.model";
  auto tok = Tokenizer::from_sentencepiece(model);
  if (!tok && tok.status().code() == StatusCode::kIo) GTEST_SKIP() << "not present: " << model;
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->n_tokens(), 32000);
  std::vector<uint8_t> raw;
  ASSERT_TRUE(test::read_file(std::string(EMBER_SHARED_DATA) + "/vectors/llama2-tokenizer/llama2c_test_c_encodings.json", &raw));
  const nlohmann::json j = nlohmann::json::parse(raw.begin(), raw.end());
  ASSERT_GE(j.at("cases").size(), 5u);
  for (const auto& c : j.at("cases")) {
    const std::string text = c.at("text");
    auto ids = (*tok)->encode(text, /*add_special=*/true);
    ASSERT_TRUE(ids.is_ok());
    EXPECT_EQ(*ids, c.at("expected_ids").get<std::vector<int32_t>>()) << text;
  }
}

TEST(SentencePieceModel, MalformedFilesAreFormatErrors) {
  const std::string path = ::testing::TempDir() + "/bad" + std::to_string(::getpid()) + ".model";
  for (const std::string& bytes : {std::string("\x0a\xff\xff\xff\xff\x0f"), std::string("not a protobuf at all"), std::string()}) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    auto tok = Tokenizer::from_sentencepiece(path);
    ASSERT_FALSE(tok.is_ok());
    EXPECT_EQ(tok.status().code(), StatusCode::kFormat) << tok.status().to_string();
  }
}

// Inputs the fuzzers once crashed on (tests/data/fuzz-regressions), replayed through the same
// entry point as fuzz_sentencepiece: model bytes in the first half, text in the second.
TEST(SentencePieceModel, FuzzRegressionsLoadOrFailCleanly) {
  for (const char* name : {"sentencepiece-negative-byte-token"}) {
    std::vector<uint8_t> raw;
    ASSERT_TRUE(test::read_file(test::test_data(std::string("fuzz-regressions/") + name), &raw));
    const std::string_view all(reinterpret_cast<const char*>(raw.data()), raw.size());
    auto tok = Tokenizer::from_sentencepiece_bytes(all.substr(0, raw.size() / 2), name);
    if (tok) {
      auto ids = (*tok)->encode(all.substr(raw.size() / 2), true, true);
      if (ids) (void)(*tok)->decode(*ids, true);
    }
  }
}

TEST(TokenizerErrors, InvalidUtf8IsRefusedAndStreamingHoldsBackPartialCharacters) {
  auto f = gguf::GgufFile::open(vocab_dir() + "ggml-vocab-gpt-2.gguf");
  if (!f) GTEST_SKIP() << "vocabulary not present";
  auto tok = Tokenizer::from_gguf(**f);
  ASSERT_TRUE(tok.is_ok());
  for (const char* bad : {"\xff", "abc\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"}) {
    auto ids = (*tok)->encode(bad);
    ASSERT_FALSE(ids.is_ok()) << "accepted invalid UTF-8";
    EXPECT_EQ(ids.status().code(), StatusCode::kInvalidArgument);
  }
  // "🦙" is 4 bytes that GPT-2 spreads over several byte tokens: nothing comes out mid-character.
  auto ids = (*tok)->encode("a\xf0\x9f\xa6\x99" "b");
  ASSERT_TRUE(ids.is_ok());
  StreamDecoder stream(**tok);
  std::string text;
  for (int32_t id : *ids) {
    const std::string part = stream.push(id);
    EXPECT_TRUE(is_valid_utf8(part)) << "a partial character reached the caller";
    text += part;
  }
  text += stream.flush();
  EXPECT_EQ(text, "a\xf0\x9f\xa6\x99" "b");
}

INSTANTIATE_TEST_SUITE_P(LlamaCpp, VocabVectors,
                         ::testing::Values("gpt-2", "deepseek-coder", "deepseek-llm", "falcon", "mpt", "starcoder",
                                           "refact", "llama-spm", "phi-3", "bert-bge"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace ember
