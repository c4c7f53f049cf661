// ember-tokenize: token ids of text, with the tokenizer of a GGUF model or a tokenizer.json (the
// Python oracle tests drive it with --jsonl). Options: kHelp below.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/tokenizer.h"
#include "common/cli.h"

using namespace ember;

namespace {

const ember_cli::Help kHelp = {
    "ember-tokenize",
    "ember-tokenize (--gguf FILE | --hf-json FILE) [--special] [--jsonl] < text",
    "Prints the token ids of the text on standard input.\n"
    "\n"
    "  --gguf FILE      the tokenizer of a GGUF model\n"
    "  --hf-json FILE   a Hugging Face tokenizer.json\n"
    "  --special        special tokens written in the text (<|im_start|>) become their ids\n"
    "  --jsonl          every input line is a JSON string, every output line the JSON array of its ids\n"
    "  -h, --help       this help\n"};

}  // namespace

int main(int argc, char** argv) {
  std::string gguf_path, json_path;
  bool special = false, jsonl = false;
  ember_cli::handle_help(kHelp, argc, argv);
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
      ember_cli::usage_error(kHelp, std::string("unknown or incomplete argument '") + argv[i] + "'");
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
