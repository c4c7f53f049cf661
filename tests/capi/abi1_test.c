/* A program built against ABI 1's header, run against today's library: its smaller structs
 * (tests/capi/abi1_layouts.h, frozen) are accepted, the fields they hold are read, the fields they
 * lack take their defaults, and nothing past their struct_size is read or written. Struct sizes
 * no released header had are refused. */
#include <stdio.h>
#include <string.h>

#include "abi1_layouts.h"
#include "ember.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s (%s)\n", __FILE__, __LINE__, #cond, ember_last_error()); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Each ABI-1 struct sits at the start of a buffer of 0xff bytes larger than today's struct: a
 * library that read past struct_size would find kv_type = -1 and refuse, or garbage. */
#define POISONED(type, name) \
  union {                    \
    type v;                  \
    unsigned char raw[sizeof(type) + 64]; \
  } name;                    \
  memset(&name, 0xff, sizeof name)

static int progress_calls = 0;
static int on_progress(float p, void* user) {
  (void)p;
  (void)user;
  ++progress_calls;
  return 0;
}

static char text[4096];
static size_t text_len = 0;
static int on_text(const char* t, size_t len, void* user) {
  (void)user;
  if (text_len + len < sizeof text) {
    memcpy(text + text_len, t, len);
    text_len += len;
    text[text_len] = '\0';
  }
  return 0;
}

int main(void) {
  /* Model: use_mmap 0 and a progress callback, through the ABI-1 struct. */
  POISONED(abi1_model_params, mp);
  mp.v.struct_size = sizeof(abi1_model_params);
  mp.v.use_mmap = 0;
  mp.v.progress = on_progress;
  mp.v.progress_user_data = NULL;
  ember_model* m = NULL;
  CHECK(ember_model_load(EMBER_MODELS_DIR "/stories260K.gguf", (const ember_model_params*)&mp.v, &m) == EMBER_OK);
  CHECK(progress_calls >= 2);
  if (!m) return 1;

  /* Context: ABI 1 had no kv_type; the library must use its default (F32), not the poison. */
  POISONED(abi1_context_params, cp);
  cp.v.struct_size = sizeof(abi1_context_params);
  cp.v.n_ctx = 96;
  cp.v.n_batch = 32;
  cp.v.n_threads = 1;
  cp.v.seed = 7;
  cp.v.memory_limit = 0;
  cp.v.context_shift = 0;
  cp.v.n_keep = 0;
  ember_context* ctx = NULL;
  CHECK(ember_context_create(m, (const ember_context_params*)&cp.v, &ctx) == EMBER_OK);
  CHECK(ctx != NULL && ember_context_n_ctx(ctx) == 96);

  /* The same settings through today's struct with the default kv_type use the same memory. */
  ember_context_params today;
  ember_context_params_init(&today);
  today.n_ctx = 96;
  today.n_batch = 32;
  today.n_threads = 1;
  ember_context* ref = NULL;
  CHECK(ember_context_create(m, &today, &ref) == EMBER_OK);
  CHECK(ref && ctx && ember_context_memory_bytes(ref) == ember_context_memory_bytes(ctx));
  ember_context_free(ref);

  /* A struct_size between the released ones, or past today's, is no header's: refused. */
  ember_context* bad = (ember_context*)0x1;
  cp.v.struct_size = sizeof(abi1_context_params) + 4;
  CHECK(ember_context_create(m, (const ember_context_params*)&cp.v, &bad) == EMBER_INVALID_ARGUMENT);
  CHECK(strstr(ember_last_error(), "struct_size") != NULL);
  cp.v.struct_size = sizeof(ember_context_params) + 8;
  CHECK(ember_context_create(m, (const ember_context_params*)&cp.v, &bad) == EMBER_INVALID_ARGUMENT);
  cp.v.struct_size = 0;
  CHECK(ember_context_create(m, (const ember_context_params*)&cp.v, &bad) == EMBER_INVALID_ARGUMENT);
  CHECK(bad == (ember_context*)0x1);

  /* Sampler and generation: greedy through ABI-1 structs; max_tokens is read (16 tokens). */
  POISONED(abi1_sampler_params, sp);
  sp.v.struct_size = sizeof(abi1_sampler_params);
  sp.v.temperature = 0.0f;
  sp.v.top_k = 40;
  sp.v.top_p = 0.95f;
  sp.v.min_p = 0.05f;
  sp.v.repeat_penalty = 1.0f;
  sp.v.repeat_last_n = 64;
  sp.v.presence_penalty = 0.0f;
  sp.v.frequency_penalty = 0.0f;
  sp.v.seed = 1;
  ember_sampler* s = NULL;
  CHECK(ember_sampler_create(m, (const ember_sampler_params*)&sp.v, &s) == EMBER_OK);

  POISONED(abi1_generate_params, gp);
  gp.v.struct_size = sizeof(abi1_generate_params);
  gp.v.max_tokens = 16;
  gp.v.stop = NULL;
  gp.v.n_stop = 0;
  gp.v.add_special = 1;
  gp.v.parse_special = 0;
  POISONED(abi1_generate_result, r);
  r.v.struct_size = sizeof(abi1_generate_result);
  CHECK(ember_generate(ctx, s, "Once upon a time", (const ember_generate_params*)&gp.v, on_text, NULL,
                       (ember_generate_result*)&r.v) == EMBER_OK);
  CHECK(r.v.struct_size == sizeof(abi1_generate_result));
  CHECK(r.v.n_generated_tokens == 16 && r.v.stop_reason == EMBER_STOP_MAX_TOKENS && r.v.n_prompt_tokens == 5);
  CHECK(strstr(text, "there was a little girl") != NULL);
  for (size_t i = sizeof(abi1_generate_result); i < sizeof r.raw; ++i) CHECK(r.raw[i] == 0xff);  /* nothing past it */

  ember_sampler_free(s);
  ember_context_free(ctx);
  ember_model_free(m);
  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  return failures ? 1 : 0;
}
