// A persistent pool of worker threads: created once, reused by every parallel kernel call, so no
// thread is created per operation. The calling thread takes part in the work.
//
// Decode issues a parallel matvec every few tens of microseconds; waking a sleeping thread through
// the kernel costs about as much. So idle workers first spin on the job counter for a while (0.1 to
// 0.3 ms) and only then sleep (a futex through std::atomic::wait); the caller spins for
// completion. A pool left idle costs no CPU after that spin.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ember {

class ThreadPool {
 public:
  // n_threads counts the caller: 1 means no worker threads at all.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) once on each thread (the caller is index 0) and returns
  // when all have finished. Not reentrant: one parallel_run at a time per pool.
  void parallel_run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into n_threads contiguous chunks whose boundaries are multiples of `grain`
  // (rows of a matrix, say, grouped to keep threads off each other's cache lines) and runs
  // fn(begin, end) on each.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;  // published by generation_ (release/acquire)
  std::atomic<uint64_t> generation_{0};  // incremented once per parallel_run
  std::atomic<int> pending_{0};          // workers still running the current job
  std::atomic<bool> stop_{false};
};

// Same chunking as ThreadPool::parallel_for; runs inline when pool is null.
void parallel_for(ThreadPool* pool, int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ember
