// ember-template: render a chat template (a .jinja file, or the tokenizer.chat_template of a GGUF).
// Options: kHelp below.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/chat_template.h"
#include "common/cli.h"

using namespace ember;

namespace {

const ember_cli::Help kHelp = {
    "ember-template",
    "ember-template (--file T.jinja | --gguf MODEL.gguf) < contexts.jsonl",
    "Renders a chat template. Every input line is a JSON object (the template's context: messages,\n"
    "add_generation_prompt, bos_token, ...); every output line is {\"text\": ...} or {\"error\": ...}.\n"
    "\n"
    "  --file T.jinja       a template file\n"
    "  --gguf MODEL.gguf    the tokenizer.chat_template of a GGUF file\n"
    "  -h, --help           this help\n"};

}  // namespace

int main(int argc, char** argv) {
  std::string source;
  ember_cli::handle_help(kHelp, argc, argv);
  if (argc == 3 && !std::strcmp(argv[1], "--file")) {
    std::ifstream in(argv[2], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "ember-template: cannot open %s\n", argv[2]);
      return 1;
    }
    source.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else if (argc == 3 && !std::strcmp(argv[1], "--gguf")) {
    auto f = gguf::GgufFile::open(argv[2]);
    if (!f) {
      std::fprintf(stderr, "ember-template: %s\n", f.status().to_string().c_str());
      return 1;
    }
    const gguf::Value* t = (*f)->find("tokenizer.chat_template");
    if (!t || !t->as_string()) {
      std::fprintf(stderr, "ember-template: %s has no tokenizer.chat_template\n", argv[2]);
      return 1;
    }
    source = std::string(*t->as_string());
  } else {
    ember_cli::usage_error(kHelp, "give --file T.jinja or --gguf MODEL.gguf");
  }
  auto tmpl = ChatTemplate::parse(source);
  for (std::string line; std::getline(std::cin, line);) {
    nlohmann::json out;
    if (!tmpl) {
      out["error"] = tmpl.status().to_string();
    } else if (auto r = tmpl->render_json(line)) {
      out["text"] = *r;
    } else {
      out["error"] = r.status().to_string();
    }
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
  }
  return 0;
}
