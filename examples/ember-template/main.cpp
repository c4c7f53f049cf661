// ember-template: render a chat template (a .jinja file, or the tokenizer.chat_template of a GGUF).
//
//   ember-template (--file T.jinja | --gguf MODEL.gguf)
//
// Every input line is a JSON object (the template context: messages, add_generation_prompt,
// bos_token, ...); every output line is a JSON object {"text": ...} or {"error": ...}.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/chat_template.h"

using namespace ember;

int main(int argc, char** argv) {
  std::string source;
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
    std::fprintf(stderr, "usage: %s (--file T.jinja | --gguf MODEL.gguf) < contexts.jsonl\n", argv[0]);
    return 2;
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
