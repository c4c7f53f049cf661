#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

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

// The default thread count is the physical cores the process may run on: checked against
// util-linux's lscpu (an independent reader of the same topology), where it runs.
TEST(ThreadPool, DefaultThreadCountIsThePhysicalCores) {
  const int n = ember::default_thread_count();
  EXPECT_GE(n, 1);
  EXPECT_LE(n, int(std::max(1u, std::thread::hardware_concurrency())));
#if defined(__linux__)
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
  FILE* p = popen("lscpu -p=CPU,CORE,SOCKET 2>/dev/null", "r");
  if (!p) GTEST_SKIP() << "no lscpu";
  std::set<std::pair<long, long>> cores;
  char line[256];
  while (std::fgets(line, sizeof line, p)) {
    long cpu = -1, core = -1, socket = -1;
    if (line[0] == '#' || std::sscanf(line, "%ld,%ld,%ld", &cpu, &core, &socket) != 3) continue;
    if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(int(cpu), &allowed)) cores.emplace(socket, core);
  }
  if (pclose(p) != 0 || cores.empty()) GTEST_SKIP() << "lscpu gave no topology";
  EXPECT_EQ(n, int(cores.size()));
#endif
}
