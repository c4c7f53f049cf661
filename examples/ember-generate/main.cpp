// ember-generate: one prompt in, generated text out. A stable, scriptable interface for tests and
// for comparing Ember with other implementations. Options: kHelp below.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ember/runtime/chat.h"
#include "ember/runtime/context.h"
#include "ember/runtime/generate.h"
#include "common/cli.h"

using namespace ember;

namespace {

const ember_cli::Help kHelp = {
    "ember-generate",
    "ember-generate -m MODEL (-p PROMPT | -f FILE | --tokens ID,ID,...) [options]",
    "Continues one prompt and prints only the generated text (streamed), or with --json one object:\n"
    "prompt and generated token ids, text, stop reason and timing. MODEL is a GGUF file or a\n"
    "Hugging Face folder.\n"
    "\n"
    "  -m, --model MODEL        the model\n"
    "  -p, --prompt TEXT        the prompt\n"
    "  -f, --file FILE          the prompt, read from a file\n"
    "  --tokens ID,ID,...       the prompt as token ids\n"
    "  --chat                   render the prompt as a user message with the model's chat template\n"
    "  --system TEXT            a system message for --chat\n"
    "  -n, --n-predict N        tokens to generate (default 128; 0: only evaluate the prompt)\n"
    "  --temp T                 temperature (default 0.8; 0: greedy)\n"
    "  --top-k K, --top-p P, --min-p P, --repeat-penalty R\n"
    "                           sampling filters and the repeat penalty\n"
    "  --seed S                 the sampler's seed (default: from the clock)\n"
    "  --sampler chain|llama2c  the sampler: Ember's chain (default) or llama2.c's\n"
    "  -b, --batch B            prompt tokens per forward pass (default 256; 1: token by token)\n"
    "  -c, --ctx-size N         context size in tokens (default: the model's trained context, at most\n"
    "                           4096, or what the run needs; a run that needs more than the model's\n"
    "                           trained context is refused unless -c is given)\n"
    "  -ctk, --cache-type f32|f16  the KV cache's elements (default f32)\n"
    "  -t, --threads N          threads (default: the physical cores)\n"
    "  --logits-out FILE        write the float32 logits of every prompt position (n_prompt x n_vocab)\n"
    "  --json                   print one JSON object instead of the text\n"
    "  -h, --help               this help\n"};

[[noreturn]] void usage(const std::string& msg) { ember_cli::usage_error(kHelp, msg); }

int fail(const Status& s) {
  std::fprintf(stderr, "ember-generate: %s\n", s.to_string().c_str());
  return 1;
}

double number(const char* flag, const char* v) { return ember_cli::number(kHelp, flag, v); }

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, prompt, prompt_file, tokens_arg, logits_out, system_prompt, sampler_style = "chain";
  bool have_prompt = false, chat = false, json_out = false, have_seed = false;
  int64_t n_predict = 128, n_batch = 256, n_ctx = 0;
  int n_threads = 0;
  DType kv_type = DType::F32;
  SamplerParams sp;
  ember_cli::handle_help(kHelp, argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "-m" || a == "--model") model_path = next();
    else if (a == "-p" || a == "--prompt") prompt = next(), have_prompt = true;
    else if (a == "-f" || a == "--file") prompt_file = next();
    else if (a == "--tokens") tokens_arg = next();
    else if (a == "-n" || a == "--n-predict") n_predict = int64_t(number("-n", next()));
    else if (a == "--temp") sp.temperature = float(number("--temp", next()));
    else if (a == "--top-k") sp.top_k = int32_t(number("--top-k", next()));
    else if (a == "--top-p") sp.top_p = float(number("--top-p", next()));
    else if (a == "--min-p") sp.min_p = float(number("--min-p", next()));
    else if (a == "--repeat-penalty") sp.repeat_penalty = float(number("--repeat-penalty", next()));
    else if (a == "--seed") sp.seed = uint64_t(number("--seed", next())), have_seed = true;
    else if (a == "--sampler") sampler_style = next();
    else if (a == "--batch" || a == "-b") n_batch = int64_t(number("--batch", next()));
    else if (a == "-c" || a == "--ctx-size") n_ctx = int64_t(number("-c", next()));
    else if (a == "-ctk" || a == "--cache-type") {  // llama.cpp's -ctk: the KV cache's elements
      const std::string v = next();
      if (v == "f32") kv_type = DType::F32;
      else if (v == "f16") kv_type = DType::F16;
      else usage("--cache-type is f32 or f16");
    }
    else if (a == "-t" || a == "--threads") n_threads = int(number("-t", next()));
    else if (a == "--chat") chat = true;
    else if (a == "--system") system_prompt = next();
    else if (a == "--logits-out") logits_out = next();
    else if (a == "--json") json_out = true;
    else usage("unknown argument '" + a + "'");
  }
  if (model_path.empty()) usage("-m MODEL is required");
  if (int(have_prompt) + int(!prompt_file.empty()) + int(!tokens_arg.empty()) != 1) usage("give exactly one of -p, -f, --tokens");
  if (n_batch <= 0) usage("--batch must be positive");
  if (sampler_style == "llama2c") sp.style = SamplerParams::Style::kLlama2c;
  else if (sampler_style != "chain") usage("--sampler is chain or llama2c");
  if (!have_seed) sp.seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  if (Status s = validate(sp); !s) return fail(s);

  auto model = Model::load(model_path);
  if (!model) return fail(model.status());
  const Model& m = **model;

  std::vector<int32_t> tokens;
  if (!tokens_arg.empty()) {
    for (const char* p = tokens_arg.c_str(); *p;) {
      char* end = nullptr;
      const long v = std::strtol(p, &end, 10);
      if (end == p) usage("--tokens takes comma-separated integers");
      tokens.push_back(int32_t(v));
      p = *end == ',' ? end + 1 : end;
      if (*end && *end != ',') usage("--tokens takes comma-separated integers");
    }
  } else {
    if (!prompt_file.empty()) {
      std::ifstream in(prompt_file, std::ios::binary);
      if (!in) return fail(io_error("cannot open '" + prompt_file + "'"));
      prompt.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }
    Result<std::vector<int32_t>> t = std::vector<int32_t>();
    if (chat) {
      std::vector<ChatMessage> msgs;
      if (!system_prompt.empty()) msgs.push_back({"system", system_prompt});
      msgs.push_back({"user", prompt});
      t = chat_prompt_tokens(m, msgs, true);
    } else {
      t = prompt_tokens(m, prompt, false);
    }
    if (!t) return fail(t.status());
    tokens = std::move(*t);
  }
  if (tokens.empty()) return fail(invalid_argument("the prompt has no tokens"));

  ContextParams cp;
  cp.n_ctx = n_ctx;
  cp.n_batch = n_batch;
  cp.n_threads = n_threads;
  cp.kv_type = kv_type;
  if (cp.n_ctx == 0) {  // room for the whole run, within what the model was trained for
    const int64_t trained = m.desc().n_ctx_train > 0 ? m.desc().n_ctx_train : 4096;
    const int64_t needed = int64_t(tokens.size()) + std::max<int64_t>(n_predict, 0) + 1;
    if (needed > trained)
      return fail(invalid_argument("the prompt (" + std::to_string(tokens.size()) + " tokens) and -n " + std::to_string(n_predict) +
                                   " need a context of " + std::to_string(needed) + " tokens, more than the model's " +
                                   std::to_string(trained) + "; give -c to size it yourself"));
    cp.n_ctx = std::max<int64_t>(std::min<int64_t>(trained, 4096), needed);
  }
  auto ctx = Context::create(*model, cp);
  if (!ctx) return fail(ctx.status());

  // With --logits-out the prompt is evaluated here, keeping every row; generate() then continues.
  std::vector<int32_t> rest = tokens;
  auto t0 = std::chrono::steady_clock::now();
  if (!logits_out.empty()) {
    std::vector<float> all(tokens.size() * size_t(m.desc().n_vocab));
    if (Status s = (*ctx)->eval(tokens.data(), int64_t(tokens.size()), all.data()); !s) return fail(s);
    std::FILE* f = std::fopen(logits_out.c_str(), "wb");
    if (!f || std::fwrite(all.data(), sizeof(float), all.size(), f) != all.size() || std::fclose(f) != 0)
      return fail(io_error("cannot write '" + logits_out + "'"));
    rest.clear();
  }
  const double logits_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  GenerateParams gp;
  gp.max_tokens = n_predict;
  gp.strip_leading_space = tokens.back() == m.tokenizer().vocab().bos && m.tokenizer().vocab().model == Vocab::Model::kSpm;
  Sampler sampler(sp, m.desc().n_vocab);
  Result<GenerateResult> r = GenerateResult();
  if (n_predict != 0) {
    r = generate(**ctx, sampler, rest, gp, [&](std::string_view text) {
      if (!json_out) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
      }
      return true;
    });
    if (!r) return fail(r.status());
  }
  if (json_out) {
    nlohmann::json j;
    j["prompt_tokens"] = tokens;
    j["generated_tokens"] = r->tokens;
    j["text"] = r->text;
    j["stop_reason"] = stop_reason_name(r->reason);
    j["seed"] = sp.seed;
    // The cache this model keeps per token and layer, and what a plain multi-head cache of full
    // keys and values would need (they differ for DeepSeek's MLA, which caches only the latent).
    const ModelDescription& d = m.desc();
    const int64_t f32 = int64_t(sizeof(float));
    j["kv_bytes_per_token_per_layer"] = int64_t((*ctx)->kv_cache().bytes_per_token()) / d.n_layer;
    j["mha_kv_bytes_per_token_per_layer"] = d.family == ModelFamily::kDeepseek
                                                ? d.n_head * (d.qk_nope_head_dim + d.qk_rope_head_dim + d.v_head_dim) * f32
                                                : 2 * d.n_head_kv * d.head_dim * f32;
    const double prefill = logits_out.empty() ? r->prefill_seconds : logits_seconds;
    j["prefill_seconds"] = prefill;
    j["decode_seconds"] = r->decode_seconds;
    j["prefill_tokens_per_second"] = prefill > 0 ? double(tokens.size()) / prefill : 0.0;
    j["decode_tokens_per_second"] = r->decode_seconds > 0 ? double(r->tokens.size()) / r->decode_seconds : 0.0;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return 0;
}
