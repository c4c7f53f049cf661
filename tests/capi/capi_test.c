/* The C ABI from plain C11: every function of include/ember.h, its normal use on the bundled
 * stories260K model and its error paths (NULL handles, bad parameters, bad input). Built as C,
 * linked against libember.so, so it also proves the exported symbols are enough. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)
#define CHECK_STATUS(call, want)                                                                         \
  do {                                                                                                   \
    ember_status got_ = (call);                                                                          \
    if (got_ != (want)) {                                                                                \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, #call,              \
              ember_status_str(got_), ember_status_str(want), ember_last_error());                       \
      ++failures;                                                                                        \
    }                                                                                                    \
  } while (0)

static const char* model_path(void) { return EMBER_MODELS_DIR "/stories260K.gguf"; }

typedef struct {
  char text[4096];
  size_t len;
  int calls;
  int stop_after;
  ember_context* interrupt_after_3; /* interrupts this context at the third piece */
} Collected;

static int collect(const char* text, size_t len, void* user) {
  Collected* c = (Collected*)user;
  if (c->len + len < sizeof c->text) {
    memcpy(c->text + c->len, text, len);
    c->len += len;
    c->text[c->len] = '\0';
  }
  ++c->calls;
  if (c->interrupt_after_3 && c->calls == 3) ember_context_interrupt(c->interrupt_after_3);
  return c->stop_after > 0 && c->calls >= c->stop_after;
}

static void on_log(ember_log_level level, const char* message, void* user) {
  (void)level;
  (void)message;
  ++*(int*)user;
}

static int progress_calls = 0;
static int on_progress(float p, void* user) {
  (void)p;
  ++progress_calls;
  return user != NULL; /* non-NULL user data: abort */
}

/* A loader over a memory image, as a device would read flash. */
typedef struct {
  const unsigned char* data;
  size_t size, at;  /* bytes the stream really has */
  size_t claimed;   /* what size() says */
  int closed;
} MemStream;
static int64_t ms_size(void* u) { return (int64_t)((MemStream*)u)->claimed; }
static int64_t ms_read(void* buf, size_t n, void* u) {
  MemStream* s = (MemStream*)u;
  size_t k = s->size - s->at < n ? s->size - s->at : n;
  if (k > 1000) k = 1000; /* short reads must work */
  memcpy(buf, s->data + s->at, k);
  s->at += k;
  return (int64_t)k;
}
static void ms_close(void* u) { ((MemStream*)u)->closed = 1; }

/* Records every progress report; asks to stop once past stop_after (when > 0). */
typedef struct {
  float seen[4096];
  int n;
  float stop_after;
} ProgressLog;
static int log_progress(float p, void* user) {
  ProgressLog* l = (ProgressLog*)user;
  if (l->n < 4096) l->seen[l->n++] = p;
  return l->stop_after > 0 && p > l->stop_after;
}

static unsigned char* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char* b = (unsigned char*)malloc((size_t)n);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return b;
}

static void test_versions_and_errors(void) {
  CHECK(ember_version_number() == EMBER_VERSION_NUMBER);
  CHECK(strcmp(ember_version_string(), EMBER_VERSION_STRING) == 0);
  CHECK(ember_abi_version() == EMBER_ABI_VERSION);
  CHECK(strcmp(ember_status_str(EMBER_OK), "EMBER_OK") == 0);
  CHECK(strcmp(ember_status_str(EMBER_CONTEXT_FULL), "EMBER_CONTEXT_FULL") == 0);
  CHECK(strcmp(ember_status_str((ember_status)99), "EMBER_UNKNOWN_STATUS") == 0);
  CHECK(ember_last_error() != NULL);
  /* Free functions accept NULL. */
  ember_model_free(NULL);
  ember_context_free(NULL);
  ember_sampler_free(NULL);
  ember_context_interrupt(NULL);
  ember_sampler_reseed(NULL, 1);
  ember_model_params_init(NULL);
  ember_context_params_init(NULL);
  ember_sampler_params_init(NULL);
  ember_generate_params_init(NULL);
  ember_generate_result_init(NULL);
  /* Getters of NULL handles give neutral values. */
  CHECK(strcmp(ember_model_architecture(NULL), "") == 0);
  CHECK(ember_model_n_vocab(NULL) == 0 && ember_model_n_embd(NULL) == 0 && ember_model_n_layer(NULL) == 0);
  CHECK(ember_model_n_ctx_train(NULL) == 0 && ember_model_size_bytes(NULL) == 0);
  CHECK(ember_model_token_bos(NULL) == -1 && ember_model_token_eos(NULL) == -1 && ember_model_token_eot(NULL) == -1);
  CHECK(strcmp(ember_model_chat_template(NULL), "") == 0);
  CHECK(ember_context_n_ctx(NULL) == 0 && ember_context_n_past(NULL) == 0 && ember_context_memory_bytes(NULL) == 0);
  CHECK(strcmp(ember_context_last_error(NULL), "") == 0);
  CHECK(ember_get_logits(NULL) == NULL);
}

static void test_loading(void) {
  ember_model* m = (ember_model*)0x1; /* must stay untouched on error */
  CHECK_STATUS(ember_model_load(NULL, NULL, &m), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_model_load(model_path(), NULL, NULL), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_model_load("/nonexistent/model.gguf", NULL, &m), EMBER_IO);
  CHECK(m == (ember_model*)0x1);
  CHECK(strstr(ember_last_error(), "nonexistent") != NULL);
  ember_model_params mp;
  ember_model_params_init(&mp);
  CHECK(mp.struct_size == sizeof mp && mp.use_mmap == 1);
  mp.struct_size = 3; /* a caller that forgot _init */
  CHECK_STATUS(ember_model_load(model_path(), &mp, &m), EMBER_INVALID_ARGUMENT);
  /* Progress callback: called, and able to abort. */
  ember_model_params_init(&mp);
  mp.progress = on_progress;
  mp.progress_user_data = &mp; /* non-NULL: abort */
  CHECK_STATUS(ember_model_load(model_path(), &mp, &m), EMBER_CANCELLED);
  CHECK(progress_calls >= 1);
  mp.progress_user_data = NULL;
  mp.use_mmap = 0;
  ember_model* m2 = NULL;
  CHECK_STATUS(ember_model_load(model_path(), &mp, &m2), EMBER_OK);
  CHECK(m2 != NULL && ember_model_n_vocab(m2) == 512);
  ember_model_free(m2);

  size_t size = 0;
  unsigned char* bytes = read_all(model_path(), &size);
  CHECK(bytes != NULL);
  if (!bytes) return;
  CHECK_STATUS(ember_model_load_from_memory(NULL, size, NULL, &m), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_model_load_from_memory(bytes, size / 2, NULL, &m), EMBER_FORMAT); /* truncated */
  CHECK(m == (ember_model*)0x1);
  unsigned char bad[64] = {'N', 'O', 'P', 'E'};
  CHECK_STATUS(ember_model_load_from_memory(bad, sizeof bad, NULL, &m), EMBER_FORMAT);
  CHECK_STATUS(ember_model_load_from_memory(bytes, size, NULL, &m2), EMBER_OK);
  free(bytes); /* the model keeps its own copy */
  CHECK(ember_model_n_layer(m2) == 5);
  ember_model_free(m2);

  bytes = read_all(model_path(), &size);
  MemStream s = {bytes, size, 0, size, 0};
  ember_loader loader = {sizeof(ember_loader), ms_size, ms_read, ms_close, &s};
  CHECK_STATUS(ember_model_load_from_loader(NULL, NULL, &m), EMBER_INVALID_ARGUMENT);
  m2 = NULL;
  CHECK_STATUS(ember_model_load_from_loader(&loader, NULL, &m2), EMBER_OK);
  CHECK(s.closed == 1 && m2 != NULL && ember_model_n_embd(m2) == 64);
  ember_model_free(m2);
  /* Progress moves as the stream is read: from 0 to 1, never back, with values in between. */
  static ProgressLog plog;
  ember_model_params lp;
  ember_model_params_init(&lp);
  lp.progress = log_progress;
  lp.progress_user_data = &plog;
  MemStream s2 = {bytes, size, 0, size, 0};
  loader.user_data = &s2;
  m2 = NULL;
  CHECK_STATUS(ember_model_load_from_loader(&loader, &lp, &m2), EMBER_OK);
  ember_model_free(m2);
  CHECK(plog.n > 100 && plog.seen[0] == 0.0f && plog.seen[plog.n - 1] == 1.0f);
  int between = 0, ordered = 1;
  for (int i = 1; i < plog.n; ++i) {
    ordered = ordered && plog.seen[i] >= plog.seen[i - 1];
    between += plog.seen[i] > 0.0f && plog.seen[i] < 1.0f;
  }
  CHECK(ordered && between > 100);
  /* Asking to stop partway cancels the load. */
  plog.n = 0;
  plog.stop_after = 0.25f;
  MemStream s3 = {bytes, size, 0, size, 0};
  loader.user_data = &s3;
  m = (ember_model*)0x1;
  CHECK_STATUS(ember_model_load_from_loader(&loader, &lp, &m), EMBER_CANCELLED);
  CHECK(m == (ember_model*)0x1 && s3.closed == 1 && s3.at < size && plog.seen[plog.n - 1] < 0.5f);
  MemStream short_stream = {bytes, size / 3, 0, size, 0}; /* ends before what size() promised */
  loader.user_data = &short_stream;
  CHECK_STATUS(ember_model_load_from_loader(&loader, NULL, &m), EMBER_IO);
  CHECK(short_stream.closed == 1 && m == (ember_model*)0x1);
  free(bytes);
}

static void test_model_facts_and_text(ember_model* m) {
  CHECK(strcmp(ember_model_architecture(m), "llama") == 0);
  CHECK(ember_model_n_vocab(m) == 512 && ember_model_n_embd(m) == 64 && ember_model_n_layer(m) == 5);
  CHECK(ember_model_n_ctx_train(m) == 512);
  CHECK(ember_model_size_bytes(m) > 1000000);
  CHECK(ember_model_token_bos(m) == 1 && ember_model_token_eos(m) == 2);
  CHECK(strcmp(ember_model_chat_template(m), "") == 0);

  char buf[64];
  size_t need = 0;
  CHECK_STATUS(ember_model_meta(m, "llama.block_count", buf, sizeof buf, &need), EMBER_OK);
  CHECK(strcmp(buf, "5") == 0 && need == 1);
  CHECK_STATUS(ember_model_meta(m, "general.architecture", buf, 3, &need), EMBER_OK); /* truncated, snprintf style */
  CHECK(strcmp(buf, "ll") == 0 && need == 5);
  CHECK_STATUS(ember_model_meta(m, "no.such.key", buf, sizeof buf, &need), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_model_meta(NULL, "x", buf, sizeof buf, &need), EMBER_INVALID_ARGUMENT);

  int32_t ids[64];
  size_t n = 0;
  CHECK_STATUS(ember_tokenize(m, "Once upon a time", -1, 1, 0, ids, 64, &n), EMBER_OK);
  CHECK(n >= 3 && ids[0] == 1);
  size_t n_small = 0;
  int32_t two[2] = {-7, -7};
  CHECK_STATUS(ember_tokenize(m, "Once upon a time", -1, 1, 0, two, 2, &n_small), EMBER_OK);
  CHECK(n_small == n && two[0] == ids[0] && two[1] == ids[1]);
  CHECK_STATUS(ember_tokenize(m, "\xff\xfe", -1, 0, 0, ids, 64, &n_small), EMBER_INVALID_ARGUMENT); /* invalid UTF-8 */
  CHECK_STATUS(ember_tokenize(NULL, "x", -1, 0, 0, ids, 64, &n_small), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_tokenize(m, "x", -1, 0, 0, NULL, 4, &n_small), EMBER_INVALID_ARGUMENT);

  char text[128];
  CHECK_STATUS(ember_detokenize(m, ids + 1, n - 1, 0, text, sizeof text, &need), EMBER_OK);
  CHECK(strcmp(text, "Once upon a time") == 0); /* SentencePiece drops its dummy-prefix space */
  CHECK_STATUS(ember_token_to_piece(m, 403, 0, text, sizeof text, &need), EMBER_OK);
  CHECK(strcmp(text, " Once") == 0 && need == 5); /* inside a text the word keeps its space */
  CHECK_STATUS(ember_token_to_piece(m, 1, 1, text, sizeof text, &need), EMBER_OK);
  CHECK(strcmp(text, "<s>") == 0);
  CHECK_STATUS(ember_token_to_piece(m, -1, 0, text, sizeof text, &need), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_token_to_piece(NULL, 1, 0, text, sizeof text, &need), EMBER_INVALID_ARGUMENT);
  const int32_t bad_id = 9999;
  CHECK_STATUS(ember_detokenize(m, &bad_id, 1, 0, text, sizeof text, &need), EMBER_INVALID_ARGUMENT);

  ember_chat_message msgs[1] = {{"user", "Hi"}};
  CHECK_STATUS(ember_chat_apply_template(m, msgs, 1, 1, text, sizeof text, &need), EMBER_UNSUPPORTED); /* no template */
  CHECK_STATUS(ember_chat_apply_template(NULL, msgs, 1, 1, text, sizeof text, &need), EMBER_INVALID_ARGUMENT);
}

static void test_context(ember_model* m) {
  ember_context* ctx = (ember_context*)0x1;
  ember_context_params cp;
  ember_context_params_init(&cp);
  CHECK(cp.struct_size == sizeof cp && cp.n_ctx == 0);
  CHECK_STATUS(ember_context_create(NULL, &cp, &ctx), EMBER_INVALID_ARGUMENT);
  cp.n_ctx = -5;
  CHECK_STATUS(ember_context_create(m, &cp, &ctx), EMBER_INVALID_ARGUMENT);
  cp.n_ctx = 256;
  cp.memory_limit = 1000; /* far too little */
  CHECK_STATUS(ember_context_create(m, &cp, &ctx), EMBER_OUT_OF_MEMORY);
  CHECK(ctx == (ember_context*)0x1);
  cp.memory_limit = 0;
  cp.n_threads = 1;
  CHECK_STATUS(ember_context_create(m, &cp, &ctx), EMBER_OK);
  CHECK(ember_context_n_ctx(ctx) == 256 && ember_context_n_past(ctx) == 0);
  CHECK(ember_context_memory_bytes(ctx) > 256u * 5 * 64 * 4);
  CHECK(ember_get_logits(ctx) == NULL);
  {
    /* An F16 cache: half the cache's bytes. stories260K: 5 layers, K and V rows of 4 KV heads x 8,
     * so 256 tokens x 5 x 2 x 32 values x 2 bytes saved. */
    CHECK(cp.kv_type == EMBER_KV_F32);
    ember_context_params hp = cp;
    hp.kv_type = EMBER_KV_F16;
    ember_context* half = NULL;
    CHECK_STATUS(ember_context_create(m, &hp, &half), EMBER_OK);
    CHECK(ember_context_memory_bytes(ctx) - ember_context_memory_bytes(half) == 256u * 5 * 2 * 32 * 2);
    const int32_t some[3] = {1, 403, 407};
    CHECK_STATUS(ember_decode(half, some, 3), EMBER_OK);
    ember_context_free(half);
    hp.kv_type = 7;
    half = (ember_context*)0x1;
    CHECK_STATUS(ember_context_create(m, &hp, &half), EMBER_INVALID_ARGUMENT);
    CHECK(half == (ember_context*)0x1 && strstr(ember_last_error(), "kv_type") != NULL);
  }

  /* Decode, logits, embeddings. */
  const int32_t prompt[4] = {1, 403, 407, 261};
  CHECK_STATUS(ember_decode(ctx, NULL, 4), EMBER_INVALID_ARGUMENT);
  const int32_t bad[2] = {1, 512};
  CHECK_STATUS(ember_decode(ctx, bad, 2), EMBER_INVALID_ARGUMENT);
  CHECK(strstr(ember_context_last_error(ctx), "512") != NULL);
  float emb[64];
  CHECK_STATUS(ember_get_embeddings(ctx, EMBER_POOLING_LAST, emb, 64), EMBER_INVALID_ARGUMENT); /* nothing decoded */
  CHECK_STATUS(ember_decode(ctx, prompt, 4), EMBER_OK);
  CHECK(strcmp(ember_context_last_error(ctx), "") == 0);
  CHECK(ember_context_n_past(ctx) == 4);
  const float* logits = ember_get_logits(ctx);
  CHECK(logits != NULL);
  int best = 0;
  for (int i = 1; i < 512; ++i)
    if (logits[i] > logits[best]) best = i;
  CHECK(best == 378); /* stories260K: "Once upon a" -> " time" */
  float last[64], mean[64];
  CHECK_STATUS(ember_get_embeddings(ctx, EMBER_POOLING_LAST, last, 64), EMBER_OK);
  CHECK_STATUS(ember_get_embeddings(ctx, EMBER_POOLING_MEAN, mean, 64), EMBER_OK);
  CHECK_STATUS(ember_get_embeddings(ctx, EMBER_POOLING_MEAN, mean, 10), EMBER_INVALID_ARGUMENT);
  CHECK(last[0] != mean[0]);

  /* Sampler. */
  ember_sampler* s = (ember_sampler*)0x1;
  ember_sampler_params sp;
  ember_sampler_params_init(&sp);
  CHECK(sp.struct_size == sizeof sp && sp.top_k == 40);
  sp.top_p = 0; /* invalid */
  CHECK_STATUS(ember_sampler_create(m, &sp, &s), EMBER_INVALID_ARGUMENT);
  CHECK(s == (ember_sampler*)0x1);
  ember_sampler_params_init(&sp);
  sp.temperature = 0;
  CHECK_STATUS(ember_sampler_create(m, &sp, &s), EMBER_OK);
  int32_t tok = -1;
  CHECK_STATUS(ember_sampler_sample(s, ctx, &tok), EMBER_OK);
  CHECK(tok == 378);
  CHECK_STATUS(ember_sampler_sample(NULL, ctx, &tok), EMBER_INVALID_ARGUMENT);
  ember_sampler_reseed(s, 7);

  /* State save / restore into a second context. */
  size_t need = 0;
  CHECK_STATUS(ember_context_state_save(ctx, NULL, 0, &need), EMBER_OK);
  CHECK(need > 0);
  void* state = malloc(need);
  char tiny[8];
  CHECK_STATUS(ember_context_state_save(ctx, tiny, sizeof tiny, &need), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_context_state_save(ctx, state, need, &need), EMBER_OK);
  ember_context* ctx2 = NULL;
  CHECK_STATUS(ember_context_create(m, &cp, &ctx2), EMBER_OK);
  CHECK_STATUS(ember_context_state_load(ctx2, state, need), EMBER_OK);
  CHECK(ember_context_n_past(ctx2) == 4);
  CHECK(memcmp(ember_get_logits(ctx2), logits, 512 * sizeof(float)) == 0);
  CHECK_STATUS(ember_context_state_load(ctx2, state, need - 1), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_context_state_load(ctx2, NULL, 4), EMBER_INVALID_ARGUMENT);
  free(state);

  /* Generation: streaming, stop strings, callback stop, interrupt, results. */
  CHECK_STATUS(ember_context_truncate(ctx, 99), EMBER_INVALID_ARGUMENT);
  CHECK_STATUS(ember_context_truncate(ctx, 0), EMBER_OK);
  ember_generate_params gp;
  ember_generate_params_init(&gp);
  CHECK(gp.struct_size == sizeof gp && gp.max_tokens == 256 && gp.add_special == 1);
  ember_generate_result r;
  ember_generate_result_init(&r);
  Collected c;
  memset(&c, 0, sizeof c);
  gp.max_tokens = 30;
  CHECK_STATUS(ember_generate(ctx, NULL, "", &gp, collect, &c, &r), EMBER_INVALID_ARGUMENT); /* nothing to continue */
  CHECK_STATUS(ember_generate(ctx, NULL, "Once upon a time", &gp, collect, &c, &r), EMBER_OK);
  CHECK(r.stop_reason == EMBER_STOP_MAX_TOKENS && r.n_generated_tokens == 30 && r.n_prompt_tokens >= 4);
  CHECK(strncmp(c.text, ", there was a little girl named Lily.", 37) == 0);
  /* Continue the same context with an empty prompt. */
  memset(&c, 0, sizeof c);
  gp.max_tokens = 5;
  CHECK_STATUS(ember_generate(ctx, s, "", &gp, collect, &c, &r), EMBER_OK);
  CHECK(r.n_prompt_tokens == 0 && r.n_generated_tokens == 5);

  ember_context_truncate(ctx, 0);
  const char* stops[1] = {"Lily"};
  gp.stop = stops;
  gp.n_stop = 1;
  gp.max_tokens = 100;
  memset(&c, 0, sizeof c);
  CHECK_STATUS(ember_generate(ctx, NULL, "Once upon a time", &gp, collect, &c, &r), EMBER_OK);
  CHECK(r.stop_reason == EMBER_STOP_STRING);
  CHECK(strcmp(c.text, ", there was a little girl named ") == 0);
  gp.n_stop = 1;
  gp.stop = NULL;
  CHECK_STATUS(ember_generate(ctx, NULL, "x", &gp, collect, &c, &r), EMBER_INVALID_ARGUMENT);
  gp.n_stop = 0;

  ember_context_truncate(ctx, 0);
  memset(&c, 0, sizeof c);
  c.stop_after = 3;
  CHECK_STATUS(ember_generate(ctx, NULL, "Once upon a time", &gp, collect, &c, &r), EMBER_OK);
  CHECK(r.stop_reason == EMBER_STOP_CALLBACK && c.calls == 3);

  ember_context_truncate(ctx, 0);
  memset(&c, 0, sizeof c);
  c.interrupt_after_3 = ctx;
  CHECK_STATUS(ember_generate(ctx, NULL, "Once upon a time", &gp, collect, &c, &r), EMBER_OK);
  CHECK(r.stop_reason == EMBER_STOP_CANCELLED && r.n_generated_tokens <= 5);
  /* An interrupt while nothing runs does not cancel the next call. */
  ember_context_truncate(ctx, 0);
  ember_context_interrupt(ctx);
  gp.max_tokens = 10;
  CHECK_STATUS(ember_generate(ctx, NULL, "Once upon a time", &gp, NULL, NULL, &r), EMBER_OK);
  CHECK(r.stop_reason == EMBER_STOP_MAX_TOKENS);
  gp.max_tokens = 100;

  /* A full window: EMBER_CONTEXT_FULL from decode, a clean stop from generate. */
  ember_context* small = NULL;
  cp.n_ctx = 8;
  CHECK_STATUS(ember_context_create(m, &cp, &small), EMBER_OK);
  int32_t many[12] = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};
  CHECK_STATUS(ember_decode(small, many, 12), EMBER_CONTEXT_FULL);
  ember_context_truncate(small, 0);
  CHECK_STATUS(ember_generate(small, NULL, "Once upon a time", &gp, NULL, NULL, &r), EMBER_OK);
  CHECK(r.stop_reason == EMBER_STOP_CONTEXT_FULL);
  ember_generate_result bad_r;
  memset(&bad_r, 0, sizeof bad_r);
  CHECK_STATUS(ember_generate(small, NULL, "x", &gp, NULL, NULL, &bad_r), EMBER_INVALID_ARGUMENT); /* no _init */
  CHECK_STATUS(ember_generate(NULL, NULL, "x", &gp, NULL, NULL, NULL), EMBER_INVALID_ARGUMENT);

  ember_context_free(small);
  ember_context_free(ctx2);
  ember_sampler_free(s);
  ember_context_free(ctx);
}

int main(void) {
  int lines = 0;
  ember_log_set(on_log, &lines);
  test_versions_and_errors();
  test_loading();
  ember_model* m = NULL;
  CHECK_STATUS(ember_model_load(model_path(), NULL, &m), EMBER_OK);
  if (m) {
    CHECK(lines > 0); /* the load was logged */
    test_model_facts_and_text(m);
    /* A context keeps its model alive: free the model first. */
    ember_context* ctx = NULL;
    CHECK_STATUS(ember_context_create(m, NULL, &ctx), EMBER_OK);
    test_context(m);
    ember_model_free(m);
    const int32_t t[2] = {1, 403};
    CHECK_STATUS(ember_decode(ctx, t, 2), EMBER_OK);
    ember_context_free(ctx);
  }
  ember_log_set(NULL, NULL);
  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  return failures ? 1 : 0;
}
