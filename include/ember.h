/* Ember: an embeddable on-device LLM runtime. The stable C interface.
 *
 * Usage (error handling shortened; every call returns an ember_status):
 *
 *   ember_model* model = NULL;
 *   ember_model_params mp;
 *   ember_model_params_init(&mp);
 *   if (ember_model_load("model.gguf", &mp, &model) != EMBER_OK) {
 *     fprintf(stderr, "%s\n", ember_last_error());
 *     return 1;
 *   }
 *   ember_context* ctx = NULL;
 *   ember_context_params cp;
 *   ember_context_params_init(&cp);
 *   cp.n_ctx = 2048;
 *   ember_context_create(model, &cp, &ctx);
 *
 *   static int on_text(const char* text, size_t len, void* user) {   // return non-zero to stop
 *     fwrite(text, 1, len, stdout);
 *     return 0;
 *   }
 *   ember_generate_params gp;
 *   ember_generate_params_init(&gp);
 *   gp.max_tokens = 128;
 *   ember_generate(ctx, NULL, "Once upon a time", &gp, on_text, NULL, NULL);  // NULL sampler: greedy
 *
 *   ember_context_free(ctx);
 *   ember_model_free(model);
 *
 * Threads. A model is immutable after loading and may be shared by any number of contexts on any
 * threads. A context (and a sampler) is used by one thread at a time. ember_context_interrupt()
 * may be called from any thread. The log sink is global; set it before other calls.
 *
 * Errors. Every fallible call returns an ember_status. On error, out-parameters are left as they
 * were, and ember_last_error() (thread-local) holds a message; a context also keeps the message of
 * its own last error (ember_context_last_error). No C++ exception crosses this interface and the
 * host process is never aborted. Free functions return nothing and accept NULL.
 *
 * Memory. _load/_create return handles the caller owns and releases with the matching _free.
 * Pointers returned by _get functions are borrowed: valid until the next call that changes that
 * handle, or its free. Strings are UTF-8. Functions that return a string or an array write into a
 * caller's buffer and report the length they need (snprintf style): a buffer too small gets as
 * much as fits, and the needed length tells the caller how much to allocate.
 *
 * Parameters travel in structs whose first field is struct_size, filled by the matching
 * ember_*_params_init(); fields are only ever appended, so a program built against an older
 * header keeps working with a newer library of the same SONAME: the library reads the fields the
 * program's struct_size holds and gives the others their defaults (a result struct gets the
 * fields it has room for). A struct_size that no released header had is EMBER_INVALID_ARGUMENT.
 */
#ifndef EMBER_H
#define EMBER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Windows: the library's own build exports (EMBER_BUILD), a program linking the DLL imports, and
 * one linking the static library defines EMBER_STATIC (ember::ember_static does). */
#if defined(_WIN32)
#if defined(EMBER_BUILD)
#define EMBER_API __declspec(dllexport)
#elif defined(EMBER_STATIC)
#define EMBER_API
#else
#define EMBER_API __declspec(dllimport)
#endif
#else
#define EMBER_API __attribute__((visibility("default")))
#endif

/* ---- versions ----------------------------------------------------------------------------- */

#define EMBER_VERSION_MAJOR 0
#define EMBER_VERSION_MINOR 2
#define EMBER_VERSION_PATCH 0
#define EMBER_VERSION_NUMBER (EMBER_VERSION_MAJOR * 1000000 + EMBER_VERSION_MINOR * 1000 + EMBER_VERSION_PATCH)
#define EMBER_VERSION_STRING "0.2.0"
/* Changes (with the SONAME) only when something is removed or changes meaning; appended fields and
 * new functions keep it. */
#define EMBER_ABI_VERSION 2

/* The library's numbers, to compare with the header's: EMBER_VERSION_NUMBER, EMBER_ABI_VERSION. */
EMBER_API int32_t ember_version_number(void);
EMBER_API const char* ember_version_string(void);
EMBER_API int32_t ember_abi_version(void);

/* ---- errors and logging ------------------------------------------------------------------- */

typedef enum ember_status {
  EMBER_OK = 0,
  EMBER_INVALID_ARGUMENT = 1, /* NULL handle, bad parameter, invalid UTF-8, token id out of range */
  EMBER_IO = 2,               /* file not found or unreadable */
  EMBER_FORMAT = 3,           /* malformed model, tokenizer or state */
  EMBER_UNSUPPORTED = 4,      /* valid but not supported: architecture, tensor type, template construct */
  EMBER_OUT_OF_MEMORY = 5,    /* allocation failed, or over the context's memory limit */
  EMBER_CONTEXT_FULL = 6,     /* the context window is used up */
  EMBER_CANCELLED = 7,        /* interrupted, or a callback asked to stop */
  EMBER_INTERNAL = 8          /* a bug in Ember: please report it */
} ember_status;

/* The code's name ("EMBER_FORMAT"); never NULL. */
EMBER_API const char* ember_status_str(ember_status status);
/* This thread's last error message ("" if none). Valid until this thread's next Ember call. */
EMBER_API const char* ember_last_error(void);

typedef enum ember_log_level { EMBER_LOG_ERROR = 0, EMBER_LOG_WARN = 1, EMBER_LOG_INFO = 2, EMBER_LOG_DEBUG = 3 } ember_log_level;
/* One global sink for Ember's log lines (silent by default); NULL restores silence. The sink may
 * be called from any thread that runs Ember code. */
typedef void (*ember_log_callback)(ember_log_level level, const char* message, void* user_data);
EMBER_API void ember_log_set(ember_log_callback callback, void* user_data);

/* ---- models ------------------------------------------------------------------------------- */

typedef struct ember_model ember_model;

/* Called during loading, on the loading thread, with progress in [0, 1] (0 first, 1 last, never
 * decreasing): the bytes read (ember_model_load_from_loader), copied and regrouped so far. Return
 * non-zero to abort (EMBER_CANCELLED). */
typedef int (*ember_progress_callback)(float progress, void* user_data);

typedef struct ember_model_params {
  size_t struct_size;
  int32_t use_mmap;                    /* 1 (default): map the file; 0: read it into memory */
  ember_progress_callback progress;    /* optional */
  void* progress_user_data;
} ember_model_params;

EMBER_API void ember_model_params_init(ember_model_params* params);

/* A GGUF file, or a Hugging Face folder (config.json, *.safetensors, tokenizer.json). params may
 * be NULL for the defaults. */
EMBER_API ember_status ember_model_load(const char* path, const ember_model_params* params, ember_model** out_model);
/* A GGUF file already in memory; the bytes are copied (the caller may free them after the call). */
EMBER_API ember_status ember_model_load_from_memory(const void* data, size_t size, const ember_model_params* params,
                                                    ember_model** out_model);

/* A GGUF file from anywhere (flash, an archive, a network stream): Ember calls size() once, then
 * read() to fill the whole image in order, then close(). read returns the bytes it read (0 at the
 * end) or a negative number on error. */
typedef struct ember_loader {
  size_t struct_size;
  int64_t (*size)(void* user_data);
  int64_t (*read)(void* buffer, size_t bytes, void* user_data);
  void (*close)(void* user_data); /* optional */
  void* user_data;
} ember_loader;
EMBER_API ember_status ember_model_load_from_loader(const ember_loader* loader, const ember_model_params* params,
                                                    ember_model** out_model);
EMBER_API void ember_model_free(ember_model* model);

/* Model facts. The strings are borrowed from the model and live as long as it. */
EMBER_API const char* ember_model_architecture(const ember_model* model); /* "llama", "qwen2", "deepseek2"; "" for NULL */
EMBER_API int64_t ember_model_n_vocab(const ember_model* model);
EMBER_API int64_t ember_model_n_embd(const ember_model* model);
EMBER_API int64_t ember_model_n_layer(const ember_model* model);
EMBER_API int64_t ember_model_n_ctx_train(const ember_model* model);
EMBER_API uint64_t ember_model_size_bytes(const ember_model* model); /* bytes of weights */
/* Special tokens; -1 when the model has none. */
EMBER_API int32_t ember_model_token_bos(const ember_model* model);
EMBER_API int32_t ember_model_token_eos(const ember_model* model);
EMBER_API int32_t ember_model_token_eot(const ember_model* model);
/* The Jinja chat template ("" when the model has none). */
EMBER_API const char* ember_model_chat_template(const ember_model* model);
/* A GGUF metadata value as text ("qwen2.context_length" -> "32768"), snprintf style. Errors:
 * EMBER_INVALID_ARGUMENT when the key is absent (or the model came from a Hugging Face folder). */
EMBER_API ember_status ember_model_meta(const ember_model* model, const char* key, char* buf, size_t buf_size,
                                        size_t* out_needed);

/* ---- text <-> tokens ---------------------------------------------------------------------- */

/* Token ids of UTF-8 text (len bytes; len < 0: NUL-terminated). add_special: BOS/EOS as the model
 * asks; parse_special: control tokens written in the text ("<|im_start|>") become their ids.
 * Writes min(capacity, n) ids and sets *out_n_tokens = n. Errors: EMBER_INVALID_ARGUMENT for
 * invalid UTF-8. */
EMBER_API ember_status ember_tokenize(const ember_model* model, const char* text, int64_t len, int32_t add_special,
                                      int32_t parse_special, int32_t* tokens, size_t capacity, size_t* out_n_tokens);
/* The text of tokens (special: control tokens included), snprintf style; *out_needed excludes the
 * terminating NUL, which is written whenever buf_size > 0. May end inside a UTF-8 character. */
EMBER_API ember_status ember_detokenize(const ember_model* model, const int32_t* tokens, size_t n_tokens, int32_t special,
                                        char* buf, size_t buf_size, size_t* out_needed);

/* The bytes one token stands for, as they appear inside a text (a SentencePiece word keeps its
 * leading space, unlike at the start of ember_detokenize's output), snprintf style. */
EMBER_API ember_status ember_token_to_piece(const ember_model* model, int32_t token, int32_t special, char* buf, size_t buf_size,
                                            size_t* out_needed);

typedef struct ember_chat_message {
  const char* role;    /* "system", "user", "assistant", ... */
  const char* content; /* UTF-8 */
} ember_chat_message;

/* Renders the model's chat template over messages, snprintf style. Errors: EMBER_UNSUPPORTED
 * when the model has no template or it uses a construct Ember does not implement. */
EMBER_API ember_status ember_chat_apply_template(const ember_model* model, const ember_chat_message* messages,
                                                 size_t n_messages, int32_t add_generation_prompt, char* buf,
                                                 size_t buf_size, size_t* out_needed);

/* ---- contexts ------------------------------------------------------------------------------ */

typedef struct ember_context ember_context;

/* The KV cache's elements: F32 (the default), or F16 as llama.cpp's default cache type: half the
 * memory (and the bytes attention reads per position), values rounded to binary16. */
typedef enum ember_kv_type { EMBER_KV_F32 = 0, EMBER_KV_F16 = 1 } ember_kv_type;

typedef struct ember_context_params {
  size_t struct_size;
  int64_t n_ctx;          /* tokens the KV cache holds; 0: the model's training context, at most 4096 */
  int64_t n_batch;        /* most tokens per forward pass; 0: 256 */
  int32_t n_threads;      /* 0: the physical cores the process may run on */
  uint64_t seed;          /* seed of the sampler ember_generate uses when given none */
  uint64_t memory_limit;  /* bytes of KV cache + scratch allowed; 0: no limit (EMBER_OUT_OF_MEMORY if over) */
  int32_t context_shift;  /* 1: when full, drop the oldest half after n_keep tokens; 0: EMBER_CONTEXT_FULL */
  int64_t n_keep;
  int32_t kv_type;        /* ember_kv_type of the KV cache's elements (ABI 2); 0: EMBER_KV_F32 */
} ember_context_params;

EMBER_API void ember_context_params_init(ember_context_params* params);
/* The context keeps the model alive: the model may be freed before the context. */
EMBER_API ember_status ember_context_create(ember_model* model, const ember_context_params* params, ember_context** out_context);
EMBER_API void ember_context_free(ember_context* ctx);

EMBER_API int64_t ember_context_n_ctx(const ember_context* ctx);
EMBER_API int64_t ember_context_n_past(const ember_context* ctx); /* tokens in the cache */
EMBER_API uint64_t ember_context_memory_bytes(const ember_context* ctx); /* KV cache + scratch */
/* Forgets everything after the first n_keep tokens (0: everything). */
EMBER_API ember_status ember_context_truncate(ember_context* ctx, int64_t n_keep);
/* Stops the decode or generate running on ctx at its next step (decode returns EMBER_CANCELLED,
 * generate stops with EMBER_STOP_CANCELLED). Safe from any thread. As sqlite3_interrupt, it does
 * nothing when nothing runs: every decode and generate starts with the request cleared. */
EMBER_API void ember_context_interrupt(ember_context* ctx);
/* The message of this context's last error ("" if none); borrowed until the next call on ctx. */
EMBER_API const char* ember_context_last_error(const ember_context* ctx);

/* Appends tokens at the end of the cache (prefill in batches of n_batch). Afterwards
 * ember_get_logits() is the distribution of the next token. EMBER_CONTEXT_FULL when the tokens do
 * not fit (without context_shift): decided before any is processed, the cache is as it was.
 * EMBER_CANCELLED (ember_context_interrupt): the batches decoded before the interrupt stay in the
 * cache; ember_context_n_past() says how many tokens it holds. */
EMBER_API ember_status ember_decode(ember_context* ctx, const int32_t* tokens, size_t n_tokens);
/* n_vocab floats after the last decoded token; NULL before any. Borrowed until the next decode. */
EMBER_API const float* ember_get_logits(const ember_context* ctx);

typedef enum ember_pooling { EMBER_POOLING_LAST = 0, EMBER_POOLING_MEAN = 1 } ember_pooling;
/* The final (normalized) hidden state of the last decoded token, or the mean over every token
 * decoded by the last ember_decode call: n_embd floats into out (capacity >= n_embd). */
EMBER_API ember_status ember_get_embeddings(const ember_context* ctx, ember_pooling pooling, float* out, size_t capacity);

/* The context's state (tokens, KV cache, logits) as bytes, snprintf style, and back into any
 * context of the same model with room for it. Native byte order: for the same device. */
EMBER_API ember_status ember_context_state_save(const ember_context* ctx, void* buf, size_t buf_size, size_t* out_needed);
EMBER_API ember_status ember_context_state_load(ember_context* ctx, const void* data, size_t size);

/* ---- sampling ------------------------------------------------------------------------------ */

typedef struct ember_sampler ember_sampler;

typedef struct ember_sampler_params {
  size_t struct_size;
  float temperature;        /* <= 0: greedy. Default 0.8 */
  int32_t top_k;            /* <= 0: off. Default 40 */
  float top_p;              /* 1: off. Default 0.95 */
  float min_p;              /* 0: off. Default 0.05 */
  float repeat_penalty;     /* 1: off. Default 1.0 */
  int32_t repeat_last_n;    /* Default 64 */
  float presence_penalty;   /* Default 0 */
  float frequency_penalty;  /* Default 0 */
  uint64_t seed;            /* the same seed reproduces a run exactly */
} ember_sampler_params;

EMBER_API void ember_sampler_params_init(ember_sampler_params* params);
EMBER_API ember_status ember_sampler_create(const ember_model* model, const ember_sampler_params* params,
                                            ember_sampler** out_sampler);
EMBER_API void ember_sampler_free(ember_sampler* sampler);
/* The next token from ctx's current logits (penalties see ctx's tokens). */
EMBER_API ember_status ember_sampler_sample(ember_sampler* sampler, const ember_context* ctx, int32_t* out_token);
EMBER_API void ember_sampler_reseed(ember_sampler* sampler, uint64_t seed);

/* ---- generation ---------------------------------------------------------------------------- */

/* Receives whole UTF-8 characters as they become final (never a partial character); return
 * non-zero to stop. */
typedef int (*ember_text_callback)(const char* text, size_t len, void* user_data);

typedef struct ember_generate_params {
  size_t struct_size;
  int64_t max_tokens;             /* < 0: until the context is full. Default 256 */
  const char* const* stop;        /* stop strings (not included in the output), n_stop of them */
  size_t n_stop;
  int32_t add_special;            /* prompt text gets BOS if the context is empty. Default 1 */
  int32_t parse_special;          /* control tokens in the prompt text are parsed. Default 0 */
} ember_generate_params;

typedef enum ember_stop_reason {
  EMBER_STOP_EOG = 0,          /* the model's end-of-generation token */
  EMBER_STOP_STRING = 1,       /* a stop string */
  EMBER_STOP_MAX_TOKENS = 2,
  EMBER_STOP_CALLBACK = 3,     /* the callback returned non-zero */
  EMBER_STOP_CANCELLED = 4,    /* ember_context_interrupt */
  EMBER_STOP_CONTEXT_FULL = 5
} ember_stop_reason;

typedef struct ember_generate_result {
  size_t struct_size;
  int64_t n_prompt_tokens, n_generated_tokens;
  ember_stop_reason stop_reason;
  double prefill_seconds, decode_seconds;
} ember_generate_result;

EMBER_API void ember_generate_params_init(ember_generate_params* params);
EMBER_API void ember_generate_result_init(ember_generate_result* result);
/* Tokenizes prompt (UTF-8, NUL-terminated; may be "" to continue what ctx holds), appends it to
 * the context, then samples (sampler NULL: greedy), streams and appends tokens until a stop.
 * Stopping by callback, stop string, max_tokens or interrupt is not an error (EMBER_OK; see
 * result->stop_reason). result may be NULL. */
EMBER_API ember_status ember_generate(ember_context* ctx, ember_sampler* sampler, const char* prompt,
                                      const ember_generate_params* params, ember_text_callback callback, void* user_data,
                                      ember_generate_result* result);

#ifdef __cplusplus
}
#endif

#endif /* EMBER_H */
