// ember-chat: talk to a model from the terminal. Options and commands: kHelp below.
//
// Ctrl-C while a reply streams stops it and returns to the prompt; Ctrl-C at the prompt (or a
// second one before the reply has stopped) or Ctrl-D quits. On a terminal, lines are read with
// libedit (editing, history) where the build found it.
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ember/runtime/chat.h"
#include "ember/runtime/context.h"
#include "ember/runtime/generate.h"
#include "common/cli.h"
#include "common/progress.h"

#if defined(EMBER_HAVE_LIBEDIT)
#include <editline/readline.h>
#endif

using namespace ember;

namespace {

const ember_cli::Help kHelp = {
    "ember-chat",
    "ember-chat -m MODEL [-p FIRST_MESSAGE] [options]",
    "Talk to a model. MODEL is a GGUF file or a Hugging Face folder. With a chat template (instruct\n"
    "models) each line is a user message and the answer streams back; the conversation stays in the\n"
    "context, and only what is new is evaluated each turn. Without one (a base model such as the\n"
    "bundled stories260K) each line is the start of a text the model continues. Reads standard input\n"
    "until its end, so it also runs from a script or a pipe.\n"
    "\n"
    "  -m, --model MODEL      the model\n"
    "  -p, --prompt TEXT      the first message\n"
    "  --system TEXT          the system message\n"
    "  -n N                   most tokens per reply (default 256)\n"
    "  --temp T               temperature (default 0.7; 0: greedy)\n"
    "  --top-k K, --top-p P, --min-p P\n"
    "                         sampling filters (defaults 40, 0.95, 0.05)\n"
    "  --repeat-penalty R     (default 1.1)\n"
    "  --seed S               the sampler's seed (default: from the clock)\n"
    "  -c N                   context size in tokens (default: the model's, at most 4096)\n"
    "  -t N                   threads (default: the physical cores)\n"
    "  -h, --help             this help\n"
    "\n"
    "Commands: /reset (forget the conversation), /system TEXT (a new system message, and reset),\n"
    "/quit. A line starting with // sends one starting with /. Ctrl-C stops a reply; at the prompt\n"
    "it quits, as Ctrl-D does.\n"};

[[noreturn]] void usage(const std::string& msg) { ember_cli::usage_error(kHelp, msg); }
double number(const std::string& flag, const char* v) { return ember_cli::number(kHelp, flag, v); }

// Ctrl-C. While a reply streams (g_replying), the first stops it through the context's interrupt
// (an atomic store, safe in a signal handler); otherwise the terminal is put back as it was and
// the program ends, as a shell's Ctrl-C would end it.
std::atomic<Context*> g_ctx{nullptr};
volatile sig_atomic_t g_replying = 0, g_stop_asked = 0;
struct termios g_saved_terminal;
bool g_have_terminal = false;

extern "C" void on_sigint(int) {
  if (g_replying && !g_stop_asked) {
    g_stop_asked = 1;
    if (Context* c = g_ctx.load()) c->interrupt();
    return;
  }
  if (g_have_terminal) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_terminal);
  const char nl = '\n';
  (void)!write(STDERR_FILENO, &nl, 1);
  _exit(130);
}

void catch_ctrl_c() {
  g_have_terminal = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g_saved_terminal) == 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

// One line of input: libedit's editor and history on a terminal, plain reads otherwise. False
// at the end of input (Ctrl-D).
bool read_line(bool interactive, std::string& line) {
#if defined(EMBER_HAVE_LIBEDIT)
  if (interactive) {
    char* got = readline("> ");
    if (!got) return false;
    line = got;
    std::free(got);
    if (!line.empty()) add_history(line.c_str());
    return true;
  }
#endif
  if (interactive) std::fprintf(stderr, "> ");
  return bool(std::getline(std::cin, line));
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
    g_stop_asked = 0;
    g_replying = 1;
    auto r = generate(*ctx, *sampler, *fresh, gp, [](std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    g_replying = 0;
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
  ember_cli::handle_help(kHelp, argc, argv);
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
  ember_cli::ProgressBar bar("loading " + model_path);
  auto model = Model::load(model_path, [&](float f) { return bar.update(f); });
  bar.finish();
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
  g_ctx = chat.ctx.get();
  catch_ctrl_c();
  Sampler sampler(sp, chat.model->desc().n_vocab);
  chat.sampler = &sampler;
  chat.interactive = isatty(STDIN_FILENO);
  const ModelDescription& d = chat.model->desc();
  std::fprintf(stderr, "ember-chat: %s (%s, %lld layers, width %lld, %.1f MiB), context %lld tokens, %s\n", model_path.c_str(),
               d.architecture.c_str(), static_cast<long long>(d.n_layer), static_cast<long long>(d.n_embd),
               double(chat.model->weight_bytes()) / (1 << 20), static_cast<long long>(chat.ctx->n_ctx()),
               chat.has_template() ? "chat template: yes (type a message)" : "no chat template: each line is continued as text");
  if (chat.interactive) std::fprintf(stderr, "commands: /reset, /system TEXT, /quit; Ctrl-C stops a reply, Ctrl-D quits\n");
  if (!first.empty()) {
    if (chat.has_template()) std::printf("> %s\n", first.c_str());
    chat.turn(first);
  }
  std::string line;
  while (read_line(chat.interactive, line)) {
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
    if (line.rfind("//", 0) == 0) {
      line.erase(0, 1);  // a message that starts with "/"
    } else if (!line.empty() && line[0] == '/') {
      std::fprintf(stderr, "ember-chat: unknown command '%s' (commands: /reset, /system TEXT, /quit; // starts a message with /)\n",
                   line.c_str());
      continue;
    }
    if (line.empty() && chat.has_template()) continue;
    chat.turn(line);
  }
  if (chat.interactive) std::fprintf(stderr, "\n");
  return 0;
}
