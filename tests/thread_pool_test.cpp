#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "ember/kernels/thread_pool.h"

namespace ember {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnceOnGrainBoundaries) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 15, 16, 17, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.parallel_for(n, 16, [&](int64_t a, int64_t b) {
        EXPECT_EQ(a % 16, 0);
        for (int64_t i = a; i < b; ++i) hits[size_t(i)]++;
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, WorkersPersistAcrossManyCalls) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int rep = 0; rep < 2000; ++rep)
    pool.parallel_run([&](int index, int n) {
      EXPECT_EQ(n, 2);
      sum += index + 1;
    });
  EXPECT_EQ(sum.load(), 2000 * 3);
}

}  // namespace
}  // namespace ember
