// The batched product (oneDNN or our tiles) against the Eigen reference for every weight dtype.
#include <gtest/gtest.h>

#include <cmath>

#if defined(EMBER_TEST_OPENMP)
#include <omp.h>
#endif

#include "ember/kernels/kernels.h"
#include "ember/kernels/reference.h"
#include "test_util.h"

namespace ember {
namespace {

class MatmulByType : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulByType, MatchesReference) {
  const DType t = GetParam();
  const int64_t cols = dtype_block_size(t) == 256 ? 512 : 96;
  ThreadPool pool(2);
  for (int64_t rows : {7, 130, 1100}) {  // 1100: two decoded chunks of 512 rows in each of two threads
    for (int64_t m : {1, 3, 9, 33}) {
      const auto w = test::random_weights(t, rows, cols, uint64_t(rows));
      const auto x = test::random_floats(m * cols, uint64_t(m));
      std::vector<float> got(static_cast<size_t>(m * rows)), want(static_cast<size_t>(m * rows));
      matmul(t, w.data(), rows, cols, x.data(), m, got.data(), &pool);
      ref::matmul(t, w.data(), rows, cols, x.data(), m, want.data());
      // Small m runs as matvecs, which may round activations to 8 bits; larger m may too (the
      // integer path), or round both operands to BF16 (matmul_path): allow those bounds.
      const size_t rb = row_bytes(t, cols);
      std::vector<float> wf(static_cast<size_t>(cols));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t r = 0; r < rows; ++r) {
          double bound = 0;
          const GemmPath path = matmul_path(t);
          if ((m < 4 && uses_int8_activations(t)) || (m >= 4 && path == GemmPath::kInt8))
            bound = ref::int8_activation_error_bound(t, w.data() + size_t(r) * rb, x.data() + i * cols, cols);
          if (m >= 4 && path == GemmPath::kBF16) {
            dequantize_row(t, w.data() + size_t(r) * rb, wf.data(), cols);
            for (int64_t j = 0; j < cols; ++j) bound += std::ldexp(std::fabs(double(wf[size_t(j)]) * x[size_t(i * cols + j)]), -8);
          }
          ASSERT_NEAR(got[size_t(i * rows + r)], want[size_t(i * rows + r)], bound + 1e-4 * std::sqrt(double(cols)))
              << "rows=" << rows << " m=" << m << " at " << i << "," << r;
        }
    }
  }
}

#if defined(EMBER_TEST_OPENMP)
// oneDNN (OpenMP underneath) runs one thread per call on each of our threads, the caller's among
// them: the caller's own OpenMP thread count must be what it was before.
TEST(Matmul, LeavesTheCallersOpenMpThreadCountAlone) {
  const int64_t rows = 40, cols = 64, m = 9;
  const auto w = test::random_weights(DType::F16, rows, cols, 5);
  const auto x = test::random_floats(m * cols, 6);
  std::vector<float> y(static_cast<size_t>(m * rows));
  const int before = omp_get_max_threads();
  omp_set_num_threads(3);
  ThreadPool pool(2);
  matmul(DType::F16, w.data(), rows, cols, x.data(), m, y.data(), &pool);
  EXPECT_EQ(omp_get_max_threads(), 3);
  omp_set_num_threads(before);
}
#endif

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulByType, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });
INSTANTIATE_TEST_SUITE_P(LoadTimeLayouts, MatmulByType, ::testing::ValuesIn(kRepackedDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace ember
