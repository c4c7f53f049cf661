// ember-bench: end-to-end speed and memory, as llama-bench measures them, with every figure also
// given as a fraction of this machine's limits measured in the same run.
//
//   ember-bench [--models 0.5b,1.5b,ds] [--types f16,q8_0,q4_0,q4_k] [-p 128,512] [-n 64] [-t 1,2]
//               [-r REPS] [-b N_BATCH] [--kv f32|f16] [--dir DIR] [--keep] [-o FILE.json] [--svg FILE.svg]
//   ember-bench -m FILE.gguf [-p ...] [-n ...] [-t ...] [-r ...] [-o ...] [--svg ...]
//   ember-bench --svg-from FILE.json --svg FILE.svg      (redraw the chart of an earlier run)
//
// Without -m it writes deterministic synthetic models with the exact shapes of Qwen2.5-0.5B,
// Qwen2.5-1.5B and a 4-layer slice of DeepSeek-V2-Lite (tests/support/synthetic_model.h) into DIR
// (default: ./ember-bench-models), one at a time, and deletes each after use unless --keep.
//
// Each model is measured in a child process of its own (this program run with --child), so that its
// peak resident memory is the model's alone. The parent measures read bandwidth and F32 FMA peak for
// each thread count just before each child runs:
//   decode fraction  = active weight bytes per token x decode tok/s / read bandwidth
//   prefill fraction = weight FLOPs of the prompt / prefill time / peak of the arithmetic used
//                      (matmul_path: F32 FMA, the AVX512-BF16 dot product, or VNNI's int8 one), the weight
//                      FLOPs being 2 x (p x active layer weights + output head weights): the head
//                      runs for the last prompt token only (attention FLOPs are not counted)
// Prompts are random token ids; decoding is greedy and never stops early. The file is read once
// before (page cache), and each prompt size has an untimed prefill first (warm-up).
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ember/formats/gguf.h"
#include "ember/kernels/kernels.h"
#include "ember/kernels/probe.h"
#include "ember/runtime/context.h"
#include "support/synthetic_model.h"

using namespace ember;
using json = nlohmann::json;

namespace {

constexpr const char* kUsage =
    "usage: ember-bench [--models 0.5b,1.5b,ds] [--types f16,q8_0,q4_0,q4_k] [-p 128,512] [-n 64] [-t 1,2]\n"
    "                   [-r REPS] [-b N_BATCH] [--kv f32|f16] [--dir DIR] [--keep] [-o FILE.json] [--svg FILE.svg]\n"
    "       ember-bench -m FILE.gguf [-p ...] [-n ...] [-t ...] [-r ...] [-o ...] [--svg ...]\n"
    "       ember-bench --svg-from FILE.json --svg FILE.svg\n";

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr, "ember-bench: %s\n%s", msg.c_str(), kUsage);
  std::exit(2);
}

[[noreturn]] void help() {
  std::printf("%s\n"
              "Measures prefill and decode speed, peak memory and load time, each speed as a fraction of\n"
              "this machine's limits measured in the same run. Without -m it writes synthetic models with\n"
              "the exact shapes of Qwen2.5-0.5B, Qwen2.5-1.5B and a DeepSeek-V2-Lite slice (into --dir,\n"
              "removed afterwards unless --keep) and runs each in its own process.\n"
              "\n"
              "  -m FILE.gguf      measure this model instead\n"
              "  --models, --types the synthetic shapes and weight types\n"
              "  -p N,...          prompt lengths (prefill); -n N: tokens to decode; -t N,...: thread counts\n"
              "  -r REPS           repetitions (the median is reported); -b N_BATCH: prefill batch\n"
              "  --kv f32|f16      the KV cache's elements\n"
              "  -o FILE.json      the results as JSON; --svg FILE.svg: a chart of decode tokens/s\n"
              "  --svg-from FILE.json  draw the chart of earlier results\n"
              "  -h, --help        this help\n",
              kUsage);
  std::exit(0);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<int64_t> numbers(const std::string& flag, const std::string& s) {
  std::vector<int64_t> out;
  for (const std::string& item : split(s)) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end || v <= 0) usage(flag + " takes positive integers separated by commas, got '" + s + "'");
    out.push_back(v);
  }
  if (out.empty()) usage(flag + " needs a value");
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Bytes of the output head: output.weight, or the embedding matrix it is tied to.
double head_bytes(const gguf::GgufFile& f) {
  double tied = 0;
  for (const gguf::TensorInfo& t : f.tensors()) {
    if (t.name == "output.weight") return double(t.n_bytes);
    if (t.name == "token_embd.weight") tied = double(t.n_bytes);
  }
  return tied;
}

// The prefill GEMM path (matmul_path) that most matrix bytes of the file take: "int8", "bf16" or "f32".
std::string main_gemm_path(const gguf::GgufFile& f) {
  double bytes[3] = {0, 0, 0};
  for (const gguf::TensorInfo& t : f.tensors())
    if (t.n_dims >= 2) bytes[int(matmul_path(t.dtype))] += double(t.n_bytes);
  const int most = int(std::max_element(bytes, bytes + 3) - bytes);
  return GemmPath(most) == GemmPath::kInt8 ? "int8" : GemmPath(most) == GemmPath::kBF16 ? "bf16" : "f32";
}

// Weights per byte over a file's matrices (its mix of dtypes), to turn active bytes into FLOPs.
double weights_per_byte(const gguf::GgufFile& f) {
  double elems = 0, bytes = 0;
  for (const gguf::TensorInfo& t : f.tensors()) {
    if (t.n_dims < 2) continue;
    double e = 1;
    for (int d = 0; d < t.n_dims; ++d) e *= double(t.ne[size_t(d)]);
    elems += e;
    bytes += double(t.n_bytes);
  }
  return bytes > 0 ? elems / bytes : 0;
}

// Resident bytes by kind now (/proc/self/status: RssAnon = allocations, RssFile = mapped files).
json resident_now() {
  json r{{"rss_anon_bytes", 0}, {"rss_file_bytes", 0}};
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "RssAnon: %lld kB", &kb) == 1) r["rss_anon_bytes"] = kb * 1024;
    if (std::sscanf(line.c_str(), "RssFile: %lld kB", &kb) == 1) r["rss_file_bytes"] = kb * 1024;
  }
  return r;
}

// ---- the child: one model, every (threads, prompt) configuration ---------------------------------

struct Options {
  std::vector<int64_t> prompts{128, 512}, threads{1, 2};
  int64_t n_gen = 64, reps = 1, n_batch = 0;  // n_batch 0: the runtime's default
  DType kv_type = DType::F32;                  // --kv f32 | f16 (llama-bench's -ctk / -ctv)
};

int run_child(const std::string& path, const Options& o) {
  auto fail = [&](const Status& s) {
    std::printf("%s\n", json{{"error", s.to_string()}}.dump().c_str());
    return 1;
  };
  const int64_t max_p = *std::max_element(o.prompts.begin(), o.prompts.end());
  const int64_t n_ctx = max_p + o.n_gen + 1;
  std::mt19937_64 rng(42);
  auto random_tokens = [&](int64_t n, int64_t n_vocab) {
    std::uniform_int_distribution<int32_t> id(3, int32_t(n_vocab - 1));  // past <unk>, <s>, </s>
    std::vector<int32_t> t(static_cast<size_t>(n));
    for (int32_t& x : t) x = id(rng);
    return t;
  };
  auto argmax = [](const float* v, int64_t n) { return int32_t(std::max_element(v, v + n) - v); };

  // Load to first token: load, a context, 8 prompt tokens, the first generated token.
  const double t_load = now_seconds();
  auto loaded = Model::load(path);
  if (!loaded.is_ok()) return fail(loaded.status());
  const std::shared_ptr<const Model> model = std::move(loaded).value();
  const double load_s = now_seconds() - t_load;
  const int64_t n_vocab = model->desc().n_vocab;
  double first_token_s = 0;
  {
    ContextParams cp;
    cp.n_ctx = n_ctx, cp.n_threads = int(o.threads.back()), cp.kv_type = o.kv_type;
    if (o.n_batch) cp.n_batch = o.n_batch;
    auto ctx = Context::create(model, cp);
    if (!ctx.is_ok()) return fail(ctx.status());
    const Status s = (*ctx)->eval(random_tokens(8, n_vocab));
    if (!s.is_ok()) return fail(s);
    volatile int32_t first = argmax((*ctx)->logits(), n_vocab);
    (void)first;
    first_token_s = now_seconds() - t_load;
  }

  for (int64_t t : o.threads) {
    ContextParams cp;
    cp.n_ctx = n_ctx, cp.n_threads = int(t), cp.kv_type = o.kv_type;
    if (o.n_batch) cp.n_batch = o.n_batch;
    auto made = Context::create(model, cp);
    if (!made.is_ok()) return fail(made.status());
    Context& ctx = **made;
    for (int64_t p : o.prompts) {
      // An untimed prefill first (llama-bench's warm-up run): oneDNN builds its kernels for these
      // shapes, and a MoE model's experts are mapped in, before the clock runs.
      ctx.reset();
      if (Status s = ctx.eval(random_tokens(p, n_vocab)); !s.is_ok()) return fail(s);
      std::vector<double> pp, tg;
      for (int64_t r = 0; r < o.reps; ++r) {
        ctx.reset();
        const std::vector<int32_t> prompt = random_tokens(p, n_vocab);
        double t0 = now_seconds();
        Status s = ctx.eval(prompt);
        if (!s.is_ok()) return fail(s);
        pp.push_back(double(p) / (now_seconds() - t0));
        t0 = now_seconds();
        for (int64_t i = 0; i < o.n_gen && s.is_ok(); ++i) {
          const int32_t next = argmax(ctx.logits(), n_vocab);
          s = ctx.eval(&next, 1);
        }
        if (!s.is_ok()) return fail(s);
        tg.push_back(double(o.n_gen) / (now_seconds() - t0));
      }
      std::printf("%s\n", json{{"threads", t}, {"prompt", p}, {"gen", o.n_gen}, {"prefill_tps", median(pp)},
                               {"decode_tps", median(tg)}}
                              .dump()
                              .c_str());
      std::fflush(stdout);
    }
  }
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  KvShape kv = model->kv_shape();
  kv.type = o.kv_type;
  json info{{"model_bytes", model->gguf() ? model->gguf()->file_size() : 0},
            {"weight_bytes", model->weight_bytes()},
            {"active_weight_bytes", model->active_weight_bytes()},
            {"weights_per_byte", model->gguf() ? weights_per_byte(*model->gguf()) : 0.0},
            {"head_bytes", model->gguf() ? head_bytes(*model->gguf()) : 0.0},
            {"gemm", model->gguf() ? main_gemm_path(*model->gguf()) : "f32"},
            {"kv_bytes_per_token", int64_t(kv.bytes_per_token())},
            {"kv_bytes_per_token_per_layer", (kv.k_width + kv.v_width) * int64_t(kv.element_bytes())},
            {"kv_type", std::string(dtype_name(kv.type))},
            {"n_ctx", n_ctx},
            {"load_s", load_s},
            {"load_to_first_token_s", first_token_s},
            {"peak_rss_bytes", int64_t(ru.ru_maxrss) * 1024},
            {"architecture", model->desc().architecture},
            {"resident_at_end", resident_now()}};
  std::printf("%s\n", json{{"info", info}}.dump().c_str());
  return 0;
}

// ---- the parent ------------------------------------------------------------------------------------

struct Limits {
  double bandwidth = 0, fma_peak = 0, bf16_peak = 0, int8_peak = 0;
};

Limits measure_limits(int threads) {
  ThreadPool pool(threads);
  Limits l;
  l.bandwidth = measure_read_bandwidth(&pool);
  l.fma_peak = measure_fma_peak(&pool);
  l.bf16_peak = measure_bf16_peak(&pool);
  l.int8_peak = measure_int8_peak(&pool);
  return l;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

// Reads the file once so that it is in the page cache: the figures then measure the runtime, not
// the disk (a model just written may be partly on disk only).
void warm_page_cache(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> buf(size_t(1) << 20);
  while (f.read(buf.data(), std::streamsize(buf.size())) || f.gcount() > 0) {
  }
}

// Runs the child on one file; returns its records (one per configuration) and its info.
bool measure_file(const std::string& self, const std::string& path, const Options& o, json& records, json& info) {
  // Limits measured just before and just after the child, the higher kept: on a shared host a
  // neighbour's traffic lowers one probe, and the higher figure keeps every fraction conservative.
  warm_page_cache(path);
  std::map<int64_t, Limits> limits;
  for (int64_t t : o.threads) limits[t] = measure_limits(int(t));
  const std::string cmd = shell_quote(self) + " --child " + shell_quote(path) + " -p " + join(o.prompts) + " -n " +
                          std::to_string(o.n_gen) + " -t " + join(o.threads) + " -r " + std::to_string(o.reps) +
                          (o.n_batch ? " -b " + std::to_string(o.n_batch) : std::string()) +
                          (o.kv_type != DType::F32 ? " --kv " + std::string(dtype_name(o.kv_type)) : std::string());
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return false;
  std::vector<json> lines;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) {
    json j = json::parse(buf, nullptr, false);
    if (j.is_discarded()) continue;
    if (j.contains("error")) std::fprintf(stderr, "ember-bench: %s: %s\n", path.c_str(), j["error"].get<std::string>().c_str());
    lines.push_back(j);
  }
  if (pclose(pipe) != 0 || lines.empty() || !lines.back().contains("info")) return false;
  for (int64_t t : o.threads) {
    const Limits after = measure_limits(int(t));
    Limits& l = limits[t];
    l.bandwidth = std::max(l.bandwidth, after.bandwidth);
    l.fma_peak = std::max(l.fma_peak, after.fma_peak);
    l.bf16_peak = std::max(l.bf16_peak, after.bf16_peak);
    l.int8_peak = std::max(l.int8_peak, after.int8_peak);
  }
  info = lines.back()["info"];
  const double active = info["active_weight_bytes"].get<double>(), head = info["head_bytes"].get<double>();
  const double wpb = info["weights_per_byte"].get<double>();
  const std::string gemm = info["gemm"].get<std::string>();
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    json r = lines[i];
    const Limits& l = limits[r["threads"].get<int64_t>()];
    r["bandwidth_bytes_per_s"] = l.bandwidth;
    r["fma_peak_flops"] = l.fma_peak;
    r["bf16_peak_flops"] = l.bf16_peak;
    r["int8_peak_ops"] = l.int8_peak;
    const double peak = gemm == "int8" && l.int8_peak > 0 ? l.int8_peak
                        : gemm == "bf16" && l.bf16_peak > 0 ? l.bf16_peak
                                                            : l.fma_peak;
    r["decode_fraction_of_bandwidth"] = active * r["decode_tps"].get<double>() / l.bandwidth;
    const double p = r["prompt"].get<double>();
    const double flops = 2.0 * wpb * (p * (active - head) + head);
    r["prefill_fraction_of_peak"] = flops / (p / r["prefill_tps"].get<double>()) / peak;
    records.push_back(r);
  }
  return true;
}

std::string mib(double bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.0f MiB", bytes / 1048576.0);
  return s;
}

void print_model(const json& m) {
  const json& info = m["info"];
  const double file = info["model_bytes"].get<double>(), kv = info["kv_bytes_per_token"].get<double>(),
               rss = info["peak_rss_bytes"].get<double>();
  const double budget = file + kv * info["n_ctx"].get<double>() + 64.0 * 1048576.0;
  std::printf("\n%s %s (%s GEMM): file %s, active %s/token, KV %.0f B/token (%.0f per layer), peak RSS %s (budget file + KV + 64 MiB "
              "= %s: %s), load %.3f s, load to first token %.3f s\n",
              m["model"].get<std::string>().c_str(), m["type"].get<std::string>().c_str(),
              info["gemm"].get<std::string>().c_str(), mib(file).c_str(),
              mib(info["active_weight_bytes"].get<double>()).c_str(), kv,
              info["kv_bytes_per_token_per_layer"].get<double>(), mib(rss).c_str(), mib(budget).c_str(),
              rss <= budget ? "within" : "OVER", info["load_s"].get<double>(), info["load_to_first_token_s"].get<double>());
  std::printf("| threads | prompt | prefill tok/s | of %s peak | decode tok/s | of bandwidth | bandwidth GB/s |\n",
              info["gemm"].get<std::string>() == "int8"   ? "int8 VNNI"
              : info["gemm"].get<std::string>() == "bf16" ? "BF16"
                                                          : "F32 FMA");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const json& r : m["records"])
    std::printf("| %lld | %lld | %.1f | %.1f%% | %.1f | %.1f%% | %.1f |\n", (long long)r["threads"].get<int64_t>(),
                (long long)r["prompt"].get<int64_t>(), r["prefill_tps"].get<double>(),
                100 * r["prefill_fraction_of_peak"].get<double>(), r["decode_tps"].get<double>(),
                100 * r["decode_fraction_of_bandwidth"].get<double>(), r["bandwidth_bytes_per_s"].get<double>() / 1e9);
  std::fflush(stdout);
}

// A grouped bar chart of decode tok/s: one group per model and type, one bar per thread count.
std::string svg_chart(const json& models, const std::vector<int64_t>& threads) {
  struct Bar {
    std::string group;
    int64_t threads;
    double tps, fraction;
  };
  std::vector<Bar> bars;
  std::vector<std::string> groups;
  double top = 1;
  for (const json& m : models) {
    const std::string g = m["model"].get<std::string>() + " " + m["type"].get<std::string>();
    groups.push_back(g);
    for (int64_t t : threads) {
      std::vector<double> tps, frac;
      for (const json& r : m["records"])
        if (r["threads"].get<int64_t>() == t) {
          tps.push_back(r["decode_tps"].get<double>());
          frac.push_back(r["decode_fraction_of_bandwidth"].get<double>());
        }
      if (tps.empty()) continue;
      bars.push_back({g, t, median(tps), median(frac)});
      top = std::max(top, median(tps));
    }
  }
  const int bar_w = 26, gap = 22, h = 260, left = 50, bottom = 110, margin_top = 56;
  const int group_w = int(threads.size()) * bar_w + gap;
  const int width = left + int(groups.size()) * group_w + 20, height = margin_top + h + bottom;
  const char* colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759"};
  std::ostringstream s;
  s << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height
    << "' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << left << "' y='18' font-size='14'>Ember decode tokens/s, median over prompt sizes (below: fraction "
       "of measured read bandwidth)</text>\n";
  const int y0 = margin_top + h;
  s << "<line x1='" << left << "' y1='" << y0 << "' x2='" << width - 10 << "' y2='" << y0 << "' stroke='black'/>\n";
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const int gx = left + int(gi) * group_w;
    int bi = 0;
    for (const Bar& b : bars) {
      if (b.group != groups[gi]) continue;
      const size_t ti = size_t(std::find(threads.begin(), threads.end(), b.threads) - threads.begin());
      const int bh = int(b.tps / top * h), x = gx + bi++ * bar_w;
      s << "<rect x='" << x << "' y='" << y0 - bh << "' width='" << bar_w - 3 << "' height='" << bh << "' fill='"
        << colors[ti % 4] << "'/>\n";
      s << "<text x='" << x + (bar_w - 3) / 2 << "' y='" << y0 - bh - 14 << "' text-anchor='middle'>" << int(b.tps + 0.5)
        << "</text><text x='" << x + (bar_w - 3) / 2 << "' y='" << y0 - bh - 3 << "' text-anchor='middle' font-size='9'>"
        << int(100 * b.fraction + 0.5) << "%</text>\n";
    }
    s << "<text transform='translate(" << gx + group_w / 2 - gap / 2 << "," << y0 + 8 << ") rotate(50)'>" << groups[gi]
      << "</text>\n";
  }
  for (size_t ti = 0; ti < threads.size(); ++ti)
    s << "<rect x='" << width - 110 << "' y='" << 6 + 16 * ti << "' width='10' height='10' fill='" << colors[ti % 4]
      << "'/><text x='" << width - 95 << "' y='" << 15 + 16 * ti << "'>" << threads[ti] << " thread"
      << (threads[ti] > 1 ? "s" : "") << "</text>\n";
  s << "</svg>\n";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string model_file, child_file, dir = "ember-bench-models", json_out, svg_out, svg_from;
  std::vector<std::string> models{"0.5b", "1.5b", "ds"}, types{"f16", "q8_0", "q4_0", "q4_k"};
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "-m") model_file = next();
    else if (a == "--child") child_file = next();
    else if (a == "-p") o.prompts = numbers(a, next());
    else if (a == "-n") o.n_gen = numbers(a, next()).front();
    else if (a == "-t") o.threads = numbers(a, next());
    else if (a == "-r") o.reps = numbers(a, next()).front();
    else if (a == "-b") o.n_batch = numbers(a, next()).front();
    else if (a == "--kv") {
      const std::string v = next();
      if (v == "f32" || v == "F32") o.kv_type = DType::F32;
      else if (v == "f16" || v == "F16") o.kv_type = DType::F16;
      else usage("--kv takes f32 or f16");
    }
    else if (a == "--models") models = split(next());
    else if (a == "--types") types = split(next());
    else if (a == "--dir") dir = next();
    else if (a == "--keep") keep = true;
    else if (a == "-o") json_out = next();
    else if (a == "--svg") svg_out = next();
    else if (a == "--svg-from") svg_from = next();
    else if (a == "-h" || a == "--help") help();
    else usage("unknown argument " + a);
  }
  if (!child_file.empty()) return run_child(child_file, o);
  if (!svg_from.empty()) {  // redraw the chart of an earlier run's JSON
    std::ifstream in(svg_from);
    const json all = json::parse(in, nullptr, false);
    if (all.is_discarded() || !all.is_array() || svg_out.empty()) usage("--svg-from FILE.json needs a JSON written by -o, and --svg");
    std::vector<int64_t> threads;
    for (const json& m : all)
      for (const json& r : m["records"])
        if (std::find(threads.begin(), threads.end(), r["threads"].get<int64_t>()) == threads.end())
          threads.push_back(r["threads"].get<int64_t>());
    std::ofstream(svg_out) << svg_chart(all, threads);
    return 0;
  }

  const std::string self = "/proc/self/exe";
  char exe[4096];
  const ssize_t len = readlink(self.c_str(), exe, sizeof exe - 1);
  if (len <= 0) usage("cannot find this program's path");
  exe[len] = 0;

  json all = json::array();
  auto bench_one = [&](const std::string& path, const std::string& name, const std::string& type) {
    json m{{"model", name}, {"type", type}, {"file", path}, {"records", json::array()}};
    json info;
    if (!measure_file(exe, path, o, m["records"], info)) {
      std::fprintf(stderr, "ember-bench: measuring %s failed\n", path.c_str());
      return false;
    }
    m["info"] = info;
    print_model(m);
    all.push_back(m);
    return true;
  };

  bool ok = true;
  if (!model_file.empty()) {
    ok = bench_one(model_file, model_file, "file");
  } else {
    mkdir(dir.c_str(), 0755);
    const std::map<std::string, DType> type_of{{"f16", DType::F16}, {"q8_0", DType::Q8_0}, {"q4_0", DType::Q4_0},
                                               {"q4_k", DType::Q4_K}, {"q6_k", DType::Q6_K}, {"q5_k", DType::Q5_K},
                                               {"q4_1", DType::Q4_1}, {"bf16", DType::BF16}, {"f32", DType::F32}};
    for (const std::string& mname : models) {
      for (const std::string& tname : types) {
        const auto t = type_of.find(tname);
        if (t == type_of.end()) usage("unknown type " + tname);
        SyntheticModel spec;
        std::string label;
        if (mname == "0.5b") spec = qwen25_05b_shape(t->second), label = "Qwen2.5-0.5B";
        else if (mname == "1.5b") spec = qwen25_15b_shape(t->second), label = "Qwen2.5-1.5B";
        else if (mname == "ds") spec = deepseek_v2_lite_shape(t->second), label = "DS-V2-Lite-4L";
        else usage("unknown model " + mname + " (0.5b, 1.5b, ds)");
        const std::string path = dir + "/" + mname + "-" + tname + ".gguf";
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) {
          std::fprintf(stderr, "ember-bench: writing %s ...\n", path.c_str());
          const double t0 = now_seconds();
          const Status s = spec.write(path);
          if (!s.is_ok()) {
            std::fprintf(stderr, "ember-bench: %s\n", s.to_string().c_str());
            return 1;
          }
          std::fprintf(stderr, "ember-bench: written in %.1f s\n", now_seconds() - t0);
        }
        ok = bench_one(path, label, tname) && ok;
        if (!keep) std::remove(path.c_str());
      }
    }
  }
  if (!json_out.empty()) std::ofstream(json_out) << all.dump(2) << "\n";
  if (!svg_out.empty()) std::ofstream(svg_out) << svg_chart(all, o.threads);
  return ok ? 0 : 1;
}
