// ember-server: an OpenAI-compatible HTTP server over one model. Options: kHelp below.
//
// Requests run at once up to --parallel, each on a context of its own from a pool (the model is
// shared); more wait for a free context. Bad JSON, missing or wrong fields and prompts longer
// than a context get 400 (before any prefill), oversize bodies 413, unknown paths and models
// other than the one served 404, all as OpenAI-style JSON errors.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ember/runtime/chat.h"
#include "ember/runtime/context.h"
#include "ember/runtime/generate.h"
#include "common/cli.h"
#include "common/progress.h"

using namespace ember;
using nlohmann::json;

namespace {

constexpr size_t kMaxBody = 1 << 20;

json error_body(const std::string& message, const std::string& type) {
  return {{"error", {{"message", message}, {"type", type}, {"code", nullptr}}}};
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(error_body(message, status >= 500 ? "server_error" : "invalid_request_error").dump(), "application/json");
}

// Contexts handed to requests one at a time; requests beyond the pool wait.
class ContextPool {
 public:
  void add(std::unique_ptr<Context> c) { free_.push_back(std::move(c)); }
  std::unique_ptr<Context> take() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    auto c = std::move(free_.front());
    free_.pop_front();
    return c;
  }
  void give_back(std::unique_ptr<Context> c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Context>> free_;
};

// A request, validated: the prompt tokens and how to generate.
struct Job {
  std::vector<int32_t> prompt;
  SamplerParams sampler;
  GenerateParams gen;
  bool stream = false;
  bool chat = false;
};

// Reads the OpenAI fields Ember understands; an error message when the request is wrong.
// A request's job, or why it is a bad request (HTTP 400). n_ctx: the contexts' size; a prompt
// that cannot fit is refused here, before any prefill.
std::string parse_job(const Model& model, int64_t n_ctx, const json& body, bool chat, Job* job) {
  if (!body.is_object()) return "the body must be a JSON object";
  job->chat = chat;
  auto number = [&](const char* k, double lo, double hi, double* out) -> std::string {
    if (!body.contains(k) || body[k].is_null()) return "";
    if (!body[k].is_number()) return std::string("'") + k + "' must be a number";
    const double v = body[k].get<double>();
    if (!(v >= lo && v <= hi)) return std::string("'") + k + "' is out of range";
    *out = v;
    return "";
  };
  double max_tokens = 256, temperature = 1.0, top_p = 1.0, seed = 0, presence = 0, frequency = 0;
  for (auto [k, lo, hi, out] : {std::tuple{"max_tokens", 1.0, 1e6, &max_tokens}, {"temperature", 0.0, 2.0, &temperature},
                                {"top_p", 0.0, 1.0, &top_p}, {"seed", 0.0, 1.8e19, &seed},
                                {"presence_penalty", -2.0, 2.0, &presence}, {"frequency_penalty", -2.0, 2.0, &frequency}})
    if (std::string e = number(k, lo, hi, out); !e.empty()) return e;
  if (body.contains("max_completion_tokens"))
    if (std::string e = number("max_completion_tokens", 1.0, 1e6, &max_tokens); !e.empty()) return e;
  job->sampler.temperature = float(temperature);
  job->sampler.top_p = top_p > 0 ? float(top_p) : 1.0f;
  job->sampler.top_k = 0;
  job->sampler.min_p = 0;
  job->sampler.presence_penalty = float(presence);
  job->sampler.frequency_penalty = float(frequency);
  job->sampler.seed = body.contains("seed") ? uint64_t(seed) : uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  job->gen.max_tokens = int64_t(max_tokens);
  if (body.contains("stream")) {
    if (!body["stream"].is_boolean()) return "'stream' must be true or false";
    job->stream = body["stream"].get<bool>();
  }
  if (body.contains("stop") && !body["stop"].is_null()) {
    const json& s = body["stop"];
    if (s.is_string()) {
      job->gen.stop.push_back(s.get<std::string>());
    } else if (s.is_array() && s.size() <= 4) {
      for (const json& x : s) {
        if (!x.is_string()) return "'stop' must be a string or up to 4 strings";
        job->gen.stop.push_back(x.get<std::string>());
      }
    } else {
      return "'stop' must be a string or up to 4 strings";
    }
  }
  Result<std::vector<int32_t>> tokens = std::vector<int32_t>();
  if (chat) {
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
      return "'messages' must be a non-empty array";
    std::vector<ChatMessage> msgs;
    for (const json& m : body["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string())
        return "each message needs a string 'role' and 'content'";
      msgs.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    tokens = model.chat_template().empty()
                 ? prompt_tokens(model, msgs.back().content, false)  // a base model: continue the last message
                 : chat_prompt_tokens(model, msgs, true);
  } else {
    if (!body.contains("prompt") || !body["prompt"].is_string()) return "'prompt' must be a string";
    tokens = prompt_tokens(model, body["prompt"].get<std::string>(), false);
  }
  if (!tokens) return tokens.status().message();
  if (int64_t(tokens->size()) >= n_ctx)
    return "the prompt is " + std::to_string(tokens->size()) + " tokens; this server's contexts hold " + std::to_string(n_ctx) +
           " (prompt and answer together)";
  job->prompt = std::move(*tokens);
  const Vocab& v = model.tokenizer().vocab();
  job->gen.strip_leading_space = v.model == Vocab::Model::kSpm && !job->prompt.empty() && job->prompt.back() == v.bos;
  return "";
}

const char* finish_reason(StopReason r) { return r == StopReason::kMaxTokens || r == StopReason::kContextFull ? "length" : "stop"; }

}  // namespace

const ember_cli::Help kHelp = {
    "ember-server",
    "ember-server -m MODEL [--host H] [--port P] [--parallel N] [-c N_CTX] [-t THREADS]",
    "Serves one model over HTTP with OpenAI's API: POST /v1/chat/completions and /v1/completions\n"
    "(\"stream\": true for server-sent events), GET /v1/models, GET /health.\n"
    "\n"
    "  -m, --model MODEL   a GGUF file or a Hugging Face folder\n"
    "  --host H            the address to listen on (default 127.0.0.1)\n"
    "  --port P            (default 8080)\n"
    "  --parallel N        requests served at once, each with a context of its own (default 2)\n"
    "  -c N                each context's size in tokens (default 2048)\n"
    "  -t N                threads per context (default: the physical cores / --parallel)\n"
    "  -h, --help          this help\n"};

int main(int argc, char** argv) {
  std::string model_path, host = "127.0.0.1";
  int port = 8080, parallel = 2, threads = 0;
  int64_t n_ctx = 2048;
  ember_cli::handle_help(kHelp, argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) ember_cli::usage_error(kHelp, a + " needs a value");
      return argv[++i];
    };
    auto whole = [&](const char* v) {
      const double x = ember_cli::number(kHelp, a, v);
      if (x != double(int64_t(x)) || x < 0) ember_cli::usage_error(kHelp, a + " needs a whole number, got '" + v + "'");
      return int64_t(x);
    };
    if (a == "-m" || a == "--model") model_path = next();
    else if (a == "--host") host = next();
    else if (a == "--port") port = int(whole(next()));
    else if (a == "--parallel") parallel = std::max(1, int(whole(next())));
    else if (a == "-c") n_ctx = whole(next());
    else if (a == "-t") threads = int(whole(next()));
    else ember_cli::usage_error(kHelp, "unknown argument '" + a + "'");
  }
  if (model_path.empty()) ember_cli::usage_error(kHelp, "-m MODEL is required");
  ember_cli::ProgressBar bar("loading " + model_path);
  auto model = Model::load(model_path, [&](float f) { return bar.update(f); });
  bar.finish();
  if (!model) {
    std::fprintf(stderr, "ember-server: %s\n", model.status().to_string().c_str());
    return 1;
  }
  std::string model_id = model_path.substr(model_path.find_last_of('/') + 1);
  ContextPool pool;
  for (int i = 0; i < parallel; ++i) {
    ContextParams cp;
    cp.n_ctx = n_ctx;
    cp.n_threads = threads > 0 ? threads : std::max(1, default_thread_count() / parallel);
    auto c = Context::create(*model, cp);
    if (!c) {
      std::fprintf(stderr, "ember-server: %s\n", c.status().to_string().c_str());
      return 1;
    }
    pool.add(std::move(*c));
  }
  std::atomic<uint64_t> next_id{1};

  httplib::Server svr;
  svr.new_task_queue = [parallel] { return new httplib::ThreadPool(size_t(parallel) + 2); };
  svr.set_payload_max_length(kMaxBody);
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const int s = res.status;
    send_error(res, s, s == 413 ? "the request body is larger than 1 MiB" : s == 404 ? "no such endpoint" : "request failed");
    res.status = s;
  });
  svr.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content(R"({"status":"ok"})", "application/json"); });
  svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    json j = {{"object", "list"}, {"data", {{{"id", model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "ember"}}}}};
    res.set_content(j.dump(), "application/json");
  });

  auto handle = [&](bool chat) {
    return [&, chat](const httplib::Request& req, httplib::Response& res) {
      const json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded()) return send_error(res, 400, "the body is not valid JSON");
      // "model" may be left out; one that names another model than the one served is not found.
      if (body.is_object() && body.contains("model") && !body["model"].is_null()) {
        if (!body["model"].is_string()) return send_error(res, 400, "'model' must be a string");
        const std::string asked = body["model"].get<std::string>();
        if (asked != model_id)
          return send_error(res, 404, "the model '" + asked + "' does not exist: this server serves '" + model_id + "'");
      }
      Job job;
      if (std::string e = parse_job(**model, n_ctx, body, chat, &job); !e.empty()) return send_error(res, 400, e);
      const std::string id = std::string(chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++);
      const int64_t created = int64_t(std::time(nullptr));
      const char* object = chat ? (job.stream ? "chat.completion.chunk" : "chat.completion") : "text_completion";
      auto run = [&pool, model = *model, job](FunctionRef<bool(std::string_view)> on_text) -> Result<GenerateResult> {
        auto ctx = pool.take();
        ctx->reset();
        Sampler sampler(job.sampler, model->desc().n_vocab);
        auto r = generate(*ctx, sampler, job.prompt, job.gen, on_text);
        pool.give_back(std::move(ctx));
        return r;
      };
      auto usage = [&](const GenerateResult& r) {
        return json{{"prompt_tokens", job.prompt.size()}, {"completion_tokens", r.tokens.size()},
                    {"total_tokens", job.prompt.size() + r.tokens.size()}};
      };
      if (!job.stream) {
        auto r = run([](std::string_view) { return true; });
        if (!r) return send_error(res, r.status().code() == StatusCode::kInvalidArgument ? 400 : 500, r.status().message());
        json choice = {{"index", 0}, {"finish_reason", finish_reason(r->reason)}};
        if (chat) choice["message"] = {{"role", "assistant"}, {"content", r->text}};
        else choice["text"] = r->text;
        json out = {{"id", id}, {"object", object}, {"created", created}, {"model", model_id}, {"choices", {choice}}, {"usage", usage(*r)}};
        res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        return;
      }
      // Server-sent events: one chunk per piece of text, a last one with finish_reason, [DONE].
      res.set_header("Cache-Control", "no-cache");
      res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink& sink) {
        auto chunk = [&](const json& delta_or_text, const json& finish) {
          json choice = {{"index", 0}, {"finish_reason", finish}};
          if (chat) choice["delta"] = delta_or_text;
          else choice["text"] = delta_or_text;
          const json c = {{"id", id}, {"object", object}, {"created", created}, {"model", model_id}, {"choices", {choice}}};
          const std::string line = "data: " + c.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
          return sink.write(line.data(), line.size());
        };
        if (chat && !chunk(json{{"role", "assistant"}, {"content", ""}}, nullptr)) return false;
        auto r = run([&](std::string_view text) {  // a client that went away stops generation
          return chat ? chunk(json{{"content", std::string(text)}}, nullptr) : chunk(std::string(text), nullptr);
        });
        if (r) chunk(chat ? json::object() : json(""), finish_reason(r->reason));
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      });
    };
  };
  svr.Post("/v1/chat/completions", handle(true));
  svr.Post("/v1/completions", handle(false));

  std::fprintf(stderr, "ember-server: %s on http://%s:%d (%d contexts of %lld tokens)\n", model_id.c_str(), host.c_str(), port,
               parallel, static_cast<long long>(n_ctx));
  if (!svr.listen(host.c_str(), port)) {
    std::fprintf(stderr, "ember-server: cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  return 0;
}
