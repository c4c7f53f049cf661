// ember-chat: talk to a model from the terminal.
//
//   ember-chat -m MODEL [-p FIRST_MESSAGE] [--system TEXT] [-n MAX_TOKENS] [--temp T] [--top-k K]
//              [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [-c N_CTX] [-t THREADS]
//
// MODEL is a GGUF file or a Hugging Face folder. With a chat template (instruct models) each line
// is a user message and the answer streams back; the conversation stays in the context, and only
// what is new is evaluated each turn. Without one (a base model such as the bundled stories260K)
// each line is the start of a text the model continues. Commands: /reset, /system TEXT, /quit.
// Reads stdin until end of file, so it also runs from a script or a pipe.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ember/runtime/chat.h"
#include "ember/runtime/context.h"
#include "ember/runtime/generate.h"

using namespace ember;

namespace {

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr, "ember-chat: %s\n", msg.c_str());
  std::fprintf(stderr,
               "usage: ember-chat -m MODEL [-p FIRST_MESSAGE] [--system TEXT] [-n MAX_TOKENS] [--temp T] [--top-k K]\n"
               "       [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [-c N_CTX] [-t THREADS]\n");
  std::exit(2);
}

double number(const std::string& flag, const char* v) {
  char* end = nullptr;
  const double x = std::strtod(v, &end);
  if (!*v || *end) usage(flag + " needs a number, got '" + v + "'");
  return x;
}

struct Chat {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Context> ctx;
  Sampler* sampler = nullptr;
  int64_t max_tokens = 256;
  std::string system;
  std::vector<ChatMessage> history;
  bool interactive = false;

  bool has_template() const { return !model->chat_template().empty(); }

  // Evaluates only what differs from what the context already holds.
  Result<std::vector<int32_t>> new_tokens(const std::vector<int32_t>& prompt) {
    const std::vector<int32_t>& have = ctx->tokens();
    size_t common = 0;
    while (common < have.size() && common < prompt.size() && have[common] == prompt[common]) ++common;
    if (common == prompt.size() && common > 0) --common;  // re-evaluate the last one for fresh logits
    if (Status s = ctx->truncate(int64_t(common)); !s) return s;
    return std::vector<int32_t>(prompt.begin() + int64_t(common), prompt.end());
  }

  void turn(const std::string& line) {
    Result<std::vector<int32_t>> prompt = std::vector<int32_t>();
    if (has_template()) {
      std::vector<ChatMessage> msgs;
      if (!system.empty()) msgs.push_back({"system", system});
      msgs.insert(msgs.end(), history.begin(), history.end());
      msgs.push_back({"user", line});
      prompt = chat_prompt_tokens(*model, msgs, true);
    } else {
      ctx->reset();
      prompt = prompt_tokens(*model, line, false);
    }
    if (!prompt) {
      std::fprintf(stderr, "ember-chat: %s\n", prompt.status().to_string().c_str());
      return;
    }
    if (int64_t(prompt->size()) >= ctx->n_ctx()) {
      std::fprintf(stderr, "ember-chat: the conversation no longer fits the context (%lld tokens); /reset to start over\n",
                   static_cast<long long>(ctx->n_ctx()));
      return;
    }
    auto fresh = new_tokens(*prompt);
    if (!fresh) return;
    GenerateParams gp;
    gp.max_tokens = max_tokens;
    gp.strip_leading_space = !has_template() && !prompt->empty() && prompt->back() == model->tokenizer().vocab().bos;
    if (!has_template() && !line.empty()) std::printf("%s", line.c_str());
    auto r = generate(*ctx, *sampler, *fresh, gp, [](std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::printf("\n");
    if (!r) {
      std::fprintf(stderr, "ember-chat: %s\n", r.status().to_string().c_str());
      return;
    }
    const double prefill_tps = r->prefill_seconds > 0 ? double(fresh->size()) / r->prefill_seconds : 0;
    const double decode_tps = r->decode_seconds > 0 ? double(r->tokens.size()) / r->decode_seconds : 0;
    std::fprintf(stderr, "[%zu prompt tokens at %.1f tok/s, %zu generated at %.1f tok/s, stop: %s]\n", fresh->size(), prefill_tps,
                 r->tokens.size(), decode_tps, stop_reason_name(r->reason));
    if (has_template()) {
      history.push_back({"user", line});
      history.push_back({"assistant", r->text});
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, first;
  SamplerParams sp;
  sp.temperature = 0.7f;
  sp.repeat_penalty = 1.1f;
  bool have_seed = false;
  ContextParams cp;
  Chat chat;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "-m" || a == "--model") model_path = next();
    else if (a == "-p" || a == "--prompt") first = next();
    else if (a == "--system") chat.system = next();
    else if (a == "-n") chat.max_tokens = int64_t(number(a, next()));
    else if (a == "--temp") sp.temperature = float(number(a, next()));
    else if (a == "--top-k") sp.top_k = int32_t(number(a, next()));
    else if (a == "--top-p") sp.top_p = float(number(a, next()));
    else if (a == "--min-p") sp.min_p = float(number(a, next()));
    else if (a == "--repeat-penalty") sp.repeat_penalty = float(number(a, next()));
    else if (a == "--seed") sp.seed = uint64_t(number(a, next())), have_seed = true;
    else if (a == "-c") cp.n_ctx = int64_t(number(a, next()));
    else if (a == "-t") cp.n_threads = int(number(a, next()));
    else usage("unknown argument '" + a + "'");
  }
  if (model_path.empty()) usage("-m MODEL is required");
  if (!have_seed) sp.seed = uint64_t(time(nullptr));
  if (Status s = validate(sp); !s) usage(s.message());
  auto model = Model::load(model_path);
  if (!model) {
    std::fprintf(stderr, "ember-chat: %s\n", model.status().to_string().c_str());
    return 1;
  }
  chat.model = *model;
  auto ctx = Context::create(chat.model, cp);
  if (!ctx) {
    std::fprintf(stderr, "ember-chat: %s\n", ctx.status().to_string().c_str());
    return 1;
  }
  chat.ctx = std::move(*ctx);
  Sampler sampler(sp, chat.model->desc().n_vocab);
  chat.sampler = &sampler;
  chat.interactive = isatty(STDIN_FILENO);
  const ModelDescription& d = chat.model->desc();
  std::fprintf(stderr, "ember-chat: %s (%s, %lld layers, width %lld, %.1f MiB), context %lld tokens, %s\n", model_path.c_str(),
               d.architecture.c_str(), static_cast<long long>(d.n_layer), static_cast<long long>(d.n_embd),
               double(chat.model->weight_bytes()) / (1 << 20), static_cast<long long>(chat.ctx->n_ctx()),
               chat.has_template() ? "chat template: yes (type a message)" : "no chat template: each line is continued as text");
  if (chat.interactive) std::fprintf(stderr, "commands: /reset, /system TEXT, /quit\n");
  if (!first.empty()) {
    if (chat.has_template()) std::printf("> %s\n", first.c_str());
    chat.turn(first);
  }
  std::string line;
  while (true) {
    if (chat.interactive) std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/reset") {
      chat.history.clear();
      chat.ctx->reset();
      continue;
    }
    if (line.rfind("/system ", 0) == 0) {
      chat.system = line.substr(8);
      chat.history.clear();
      continue;
    }
    if (line.empty() && chat.has_template()) continue;
    chat.turn(line);
  }
  return 0;
}
