// Helpers shared by the test files: deterministic data and access to ../shared/data.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "ember/core/dtype.h"
#include "ember/core/quantize.h"
#include "ember/kernels/isa.h"
#include "support/synthetic_model.h"

namespace ember::test {

// Fixtures copied into the repository (tests/data, see NOTICE).
inline std::string test_data(const std::string& rel) { return std::string(EMBER_TEST_DATA) + "/" + rel; }

inline bool read_file(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

// n normal values with standard deviation `scale`, from a fixed seed.
inline std::vector<float> random_floats(int64_t n, uint64_t seed, float scale = 1.0f) {
  return normal_floats(n, seed, scale);
}

// A rows x cols matrix quantized to t from random values (cols a multiple of the block size).
inline std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t cols, uint64_t seed) {
  const std::vector<float> w = random_floats(rows * cols, seed, 0.5f);
  std::vector<uint8_t> q(row_bytes(t, cols) * size_t(rows));
  for (int64_t r = 0; r < rows; ++r) quantize_row(t, w.data() + r * cols, q.data() + size_t(r) * row_bytes(t, cols), cols);
  return q;
}

// Runs the body once per ISA this machine can run, restoring the original choice afterwards.
class EachIsa {
 public:
  EachIsa() : saved_(active_isa()) {}
  ~EachIsa() { set_active_isa(saved_); }
  template <class F>
  void run(F&& body) {
    for (Isa isa : runnable_isas()) {
      ASSERT_TRUE(set_active_isa(isa));
      SCOPED_TRACE(std::string("isa=") + isa_name(isa));
      body(isa);
    }
  }

 private:
  Isa saved_;
};

}  // namespace ember::test
