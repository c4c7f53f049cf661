// ember-tokenize: token ids of text, with the tokenizer of a GGUF model or a tokenizer.json.
//
//   ember-tokenize (--gguf FILE | --hf-json FILE) [--special] [--jsonl]
//
// Reads text from standard input and prints its ids. With --jsonl, every input line is a JSON
// string and every output line the JSON array of its ids (how the Python oracle tests drive it).
// --special lets special tokens written in the text (e.g. <|im_start|>) become their ids.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/tokenizer.h"

using namespace ember;

int main(int argc, char** argv) {
  std::string gguf_path, json_path;
  bool special = false, jsonl = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--gguf") && i + 1 < argc) {
      gguf_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--hf-json") && i + 1 < argc) {
      json_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--special")) {
      special = true;
    } else if (!std::strcmp(argv[i], "--jsonl")) {
      jsonl = true;
    } else {
      std::fprintf(stderr, "usage: %s (--gguf FILE | --hf-json FILE) [--special] [--jsonl] < text\n", argv[0]);
      return 2;
    }
  }
  std::unique_ptr<gguf::GgufFile> file;
  Result<std::unique_ptr<Tokenizer>> tok = invalid_argument("give --gguf FILE or --hf-json FILE");
  if (!gguf_path.empty()) {
    auto f = gguf::GgufFile::open(gguf_path);
    if (!f) {
      std::fprintf(stderr, "ember-tokenize: %s\n", f.status().to_string().c_str());
      return 1;
    }
    file = std::move(f.value());
    tok = Tokenizer::from_gguf(*file);
  } else if (!json_path.empty()) {
    tok = Tokenizer::from_hf_json(json_path);
  }
  if (!tok) {
    std::fprintf(stderr, "ember-tokenize: %s\n", tok.status().to_string().c_str());
    return 1;
  }
  auto run = [&](const std::string& text) -> nlohmann::json {
    auto ids = (*tok)->encode(text, false, special);
    if (!ids) return {{"error", ids.status().to_string()}};
    return *ids;
  };
  if (jsonl) {
    for (std::string line; std::getline(std::cin, line);) {
      const nlohmann::json in = nlohmann::json::parse(line, nullptr, false);
      if (!in.is_string()) {
        std::printf("{\"error\":\"input line is not a JSON string\"}\n");
      } else {
        std::printf("%s\n", run(in.get<std::string>()).dump().c_str());
      }
      std::fflush(stdout);
    }
    return 0;
  }
  const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  std::printf("%s\n", run(text).dump().c_str());
  return 0;
}
