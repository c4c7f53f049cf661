/* A product's program in C, built against an installed Ember (find_package or pkg-config, shared
 * or static): it loads the model named on the command line and continues a prompt greedily. */
#include <ember.h>
#include <stdio.h>

static int print_text(const char* text, size_t len, void* user) {
  (void)user;
  fwrite(text, 1, len, stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL PROMPT\n", argv[0]);
    return 2;
  }
  if (ember_abi_version() != EMBER_ABI_VERSION) {
    fprintf(stderr, "header ABI %d, library ABI %d\n", EMBER_ABI_VERSION, (int)ember_abi_version());
    return 1;
  }
  ember_model* model = NULL;
  if (ember_model_load(argv[1], NULL, &model) != EMBER_OK) {
    fprintf(stderr, "%s\n", ember_last_error());
    return 1;
  }
  ember_context_params cp;
  ember_context_params_init(&cp);
  cp.n_ctx = 128;
  cp.n_threads = 1;
  ember_context* ctx = NULL;
  ember_status s = ember_context_create(model, &cp, &ctx);
  if (s == EMBER_OK) {
    ember_generate_params gp;
    ember_generate_params_init(&gp);
    gp.max_tokens = 16;
    fputs(argv[2], stdout);
    s = ember_generate(ctx, NULL, argv[2], &gp, print_text, NULL, NULL);
    putchar('\n');
  }
  if (s != EMBER_OK) fprintf(stderr, "%s\n", ember_last_error());
  ember_context_free(ctx);
  ember_model_free(model);
  return s == EMBER_OK ? 0 : 1;
}
