/* appliance: an assistant the way a device vendor would write it: plain C99 over ember.h, a fixed
 * memory budget, a system prompt for the product, one line in, one answer out.
 *
 *   appliance MODEL.gguf [MEMORY_LIMIT_MIB] < questions.txt
 *
 * A washing machine's assistant: with an instruct model (chat template) each line is a user
 * message answered under the system prompt below; with a base model (the bundled stories260K)
 * the line is continued as text. The context is reset between questions: the system prompt's
 * state is computed once and restored each time, so a question costs only its own tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember.h"

#define MAX_LINE 1024
#define MAX_PROMPT 8192

static const char* const kSystem =
    "You are the assistant of the AquaWash 7 washing machine. Answer in one or two short sentences. "
    "Programs: Cotton 60C (2h30), Synthetics 40C (1h45), Wool 30C (1h), Quick 30C (30 min). "
    "Never suggest opening the door while the drum is full of water.";

static int print_text(const char* text, size_t len, void* user) {
  (void)user;
  fwrite(text, 1, len, stdout);
  fflush(stdout);
  return 0; /* go on */
}

static void strip_newline(char* s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

static const char kUsage[] = "usage: appliance MODEL.gguf [MEMORY_LIMIT_MIB] < questions.txt\n";

int main(int argc, char** argv) {
  if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    printf("%s\nAnswers each line of standard input with the model, as an appliance's firmware would: plain C99\n"
           "over ember.h, the context's memory capped at MEMORY_LIMIT_MIB (default 64).\n", kUsage);
    return 0;
  }
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "appliance: %s%s", argc < 2 ? "MODEL is required\n" : "too many arguments\n", kUsage);
    return 2;
  }
  const unsigned long budget_mib = argc > 2 ? strtoul(argv[2], NULL, 10) : 64;

  ember_model* model = NULL;
  if (ember_model_load(argv[1], NULL, &model) != EMBER_OK) {
    fprintf(stderr, "appliance: %s\n", ember_last_error());
    return 1;
  }
  ember_context_params cp;
  ember_context_params_init(&cp);
  cp.n_ctx = 512;
  cp.n_threads = 2;
  cp.memory_limit = (uint64_t)budget_mib << 20; /* the cache and scratch must fit the budget */
  ember_context* ctx = NULL;
  if (ember_context_create(model, &cp, &ctx) != EMBER_OK) {
    fprintf(stderr, "appliance: %s\n", ember_last_error());
    ember_model_free(model);
    return 1;
  }
  const int chat = ember_model_chat_template(model)[0] != '\0';
  fprintf(stderr, "appliance: model loaded, %llu KiB of context memory (budget %lu MiB), %s\n",
          (unsigned long long)(ember_context_memory_bytes(ctx) >> 10), budget_mib, chat ? "chat mode" : "text mode");

  ember_generate_params gp;
  ember_generate_params_init(&gp);
  gp.max_tokens = 64;
  static char line[MAX_LINE], prompt[MAX_PROMPT], system_text[MAX_PROMPT];
  static int32_t tokens[MAX_PROMPT];
  int status = 0;

  /* The system prompt is evaluated once; its state is restored before every question. */
  void* system_state = NULL;
  size_t system_state_size = 0, system_len = 0;
  if (chat) {
    ember_chat_message sys[1] = {{"system", kSystem}};
    size_t n = 0;
    if (ember_chat_apply_template(model, sys, 1, 0, system_text, sizeof system_text, &system_len) == EMBER_OK &&
        system_len < sizeof system_text &&
        ember_tokenize(model, system_text, (int64_t)system_len, 1, 1, tokens, MAX_PROMPT, &n) == EMBER_OK && n <= MAX_PROMPT &&
        ember_decode(ctx, tokens, n) == EMBER_OK &&
        ember_context_state_save(ctx, NULL, 0, &system_state_size) == EMBER_OK && (system_state = malloc(system_state_size)) &&
        ember_context_state_save(ctx, system_state, system_state_size, &system_state_size) == EMBER_OK) {
      fprintf(stderr, "appliance: system prompt evaluated once (%zu tokens, %zu bytes of state)\n", n, system_state_size);
    } else {
      free(system_state);
      system_state = NULL;
      system_len = 0;
    }
  }

  while (fgets(line, sizeof line, stdin)) {
    strip_newline(line);
    if (line[0] == '\0') continue;
    ember_context_truncate(ctx, 0);
    const char* text = line;
    if (chat) {
      ember_chat_message msgs[2] = {{"system", kSystem}, {"user", line}};
      size_t needed = 0;
      if (ember_chat_apply_template(model, msgs, 2, 1, prompt, sizeof prompt, &needed) != EMBER_OK || needed >= sizeof prompt) {
        fprintf(stderr, "appliance: cannot build the prompt: %s\n", ember_last_error());
        status = 1;
        continue;
      }
      text = prompt;
      gp.parse_special = 1;
      /* The conversation starts with the system prompt's text: restore its state, send the rest. */
      if (system_state && strncmp(prompt, system_text, system_len) == 0 &&
          ember_context_state_load(ctx, system_state, system_state_size) == EMBER_OK)
        text = prompt + system_len;
    }
    printf("> %s\n", line);
    if (!chat) printf("%s", line);
    ember_generate_result r;
    ember_generate_result_init(&r);
    if (ember_generate(ctx, NULL, text, &gp, print_text, NULL, &r) != EMBER_OK) {
      fprintf(stderr, "\nappliance: %s\n", ember_context_last_error(ctx));
      status = 1;
      continue;
    }
    printf("\n");
    fprintf(stderr, "[%lld tokens in %.2f s]\n", (long long)r.n_generated_tokens, r.prefill_seconds + r.decode_seconds);
  }
  free(system_state);
  ember_context_free(ctx);
  ember_model_free(model);
  return status;
}
