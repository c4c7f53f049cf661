// A product's program in C++, built against an installed Ember: the C ABI held in RAII handles.
#include <ember.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct ModelFree {
  void operator()(ember_model* m) const { ember_model_free(m); }
};
struct ContextFree {
  void operator()(ember_context* c) const { ember_context_free(c); }
};

void check(ember_status s) {
  if (s != EMBER_OK) throw std::runtime_error(std::string(ember_status_str(s)) + ": " + ember_last_error());
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL PROMPT\n", argv[0]);
    return 2;
  }
  ember_model* raw_model = nullptr;
  check(ember_model_load(argv[1], nullptr, &raw_model));
  std::unique_ptr<ember_model, ModelFree> model(raw_model);
  ember_context_params cp;
  ember_context_params_init(&cp);
  cp.n_ctx = 128;
  cp.n_threads = 1;
  ember_context* raw_ctx = nullptr;
  check(ember_context_create(model.get(), &cp, &raw_ctx));
  std::unique_ptr<ember_context, ContextFree> ctx(raw_ctx);
  ember_generate_params gp;
  ember_generate_params_init(&gp);
  gp.max_tokens = 16;
  std::string out = argv[2];
  check(ember_generate(ctx.get(), nullptr, argv[2], &gp,
                       [](const char* text, size_t len, void* user) {
                         static_cast<std::string*>(user)->append(text, len);
                         return 0;
                       },
                       &out, nullptr));
  std::printf("%s\n", out.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
