/* The parameter structs exactly as ABI 1 (ember 0.1.0's ember.h) laid them out, frozen: what a
 * program built against that header passes to today's library. Never edit these. */
#ifndef EMBER_TEST_ABI1_LAYOUTS_H
#define EMBER_TEST_ABI1_LAYOUTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct abi1_model_params {
  size_t struct_size;
  int32_t use_mmap;
  int (*progress)(float progress, void* user_data);
  void* progress_user_data;
} abi1_model_params;

typedef struct abi1_context_params {
  size_t struct_size;
  int64_t n_ctx;
  int64_t n_batch;
  int32_t n_threads;
  uint64_t seed;
  uint64_t memory_limit;
  int32_t context_shift;
  int64_t n_keep;
} abi1_context_params;

typedef struct abi1_sampler_params {
  size_t struct_size;
  float temperature;
  int32_t top_k;
  float top_p;
  float min_p;
  float repeat_penalty;
  int32_t repeat_last_n;
  float presence_penalty;
  float frequency_penalty;
  uint64_t seed;
} abi1_sampler_params;

typedef struct abi1_generate_params {
  size_t struct_size;
  int64_t max_tokens;
  const char* const* stop;
  size_t n_stop;
  int32_t add_special;
  int32_t parse_special;
} abi1_generate_params;

typedef struct abi1_generate_result {
  size_t struct_size;
  int64_t n_prompt_tokens, n_generated_tokens;
  int32_t stop_reason;
  double prefill_seconds, decode_seconds;
} abi1_generate_result;

#endif
