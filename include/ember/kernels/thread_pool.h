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
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace ember {

// A non-owning reference to a callable: what parallel calls take instead of std::function, which
// heap-allocates a lambda capturing more than two pointers, once per call, in the decode loop.
// The callable must outlive the call it is passed to (always true for an argument).
template <class Sig>
class FunctionRef;
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like std::function
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... a) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...); }) {}
  R operator()(Args... a) const { return call_(obj_, std::forward<Args>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, Args...);
};

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
  void parallel_run(FunctionRef<void(int, int)> fn);

  // Splits [0, n) into n_threads contiguous chunks whose boundaries are multiples of `grain`
  // (rows of a matrix, say, grouped to keep threads off each other's cache lines) and runs
  // fn(begin, end) on each.
  void parallel_for(int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const FunctionRef<void(int, int)>* job_ = nullptr;  // published by generation_ (release/acquire)
  std::atomic<uint64_t> generation_{0};  // incremented once per parallel_run
  std::atomic<int> pending_{0};          // workers still running the current job
  std::atomic<bool> stop_{false};
};

// Same chunking as ThreadPool::parallel_for; runs inline when pool is null.
void parallel_for(ThreadPool* pool, int64_t n, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

// The thread count a context uses by default: the physical cores this process may run on (its
// CPU affinity), not hardware threads: two threads on one core's hyperthreads share its
// execution units and slow a GEMM down. Falls back to the CPUs the process may use, then to
// std::thread::hardware_concurrency, where the topology cannot be read.
int default_thread_count();

}  // namespace ember
