// Tensor: a non-owning view (dtype, up to 4 dims, strides, pointer), and AlignedBuffer, the owning
// storage that views point into. Dims follow ggml/GGUF order: ne[0] is the contiguous dimension
// (a row), so a [rows x cols] weight has ne = {cols, rows}.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>

#include "ember/core/dtype.h"

namespace ember {

inline constexpr int kMaxDims = 4;
inline constexpr size_t kTensorAlignment = 64;  // one cache line; every SIMD width we use

struct Tensor {
  DType dtype = DType::F32;
  int n_dims = 0;
  std::array<int64_t, kMaxDims> ne{1, 1, 1, 1};  // elements per dimension
  std::array<size_t, kMaxDims> nb{0, 0, 0, 0};   // bytes between successive indices (row stride for
                                                 // block types counts whole rows: nb[1] = row_bytes)
  void* data = nullptr;

  // A contiguous view of `data` with dims ne (ne[0] a multiple of the dtype's block size).
  static Tensor view(DType t, void* data, std::initializer_list<int64_t> dims) {
    Tensor x;
    x.dtype = t;
    x.data = data;
    x.n_dims = int(dims.size());
    int i = 0;
    for (int64_t d : dims) x.ne[size_t(i++)] = d;
    x.nb[0] = dtype_traits(t).block_bytes;  // per block for quantized types
    x.nb[1] = row_bytes(t, x.ne[0]);
    for (size_t k = 2; k < kMaxDims; ++k) x.nb[k] = x.nb[k - 1] * size_t(x.ne[k - 1]);
    return x;
  }

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  size_t n_bytes() const { return row_bytes(dtype, ne[0]) * size_t(n_rows()); }
  bool is_contiguous() const {
    if (nb[1] != row_bytes(dtype, ne[0])) return false;
    for (size_t k = 2; k < kMaxDims; ++k)
      if (nb[k] != nb[k - 1] * size_t(ne[k - 1])) return false;
    return true;
  }
  // Pointer to row (i1, i2, i3).
  void* row(int64_t i1, int64_t i2 = 0, int64_t i3 = 0) const {
    return static_cast<char*>(data) + size_t(i1) * nb[1] + size_t(i2) * nb[2] + size_t(i3) * nb[3];
  }
  template <class T>
  T* as() const { return static_cast<T*>(data); }
  std::string shape_string() const;
};

// Owning, 64-byte aligned, uninitialized storage. Move-only.
//
// Buffers of 1 MiB and more are mapped from the system directly rather than taken from malloc:
// freed, they go back at once. (glibc raises its mmap threshold to the size of any mapped block
// that is freed, so large blocks that grow, like per-thread scratch, would otherwise end up inside
// the heap and stay resident as holes after they are replaced. Measured: DeepSeek slice prefill,
// 16 MiB of free-but-resident heap.)
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes) { reset(bytes); }
  ~AlignedBuffer() { release(); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)), mapped_(std::exchange(o.mapped_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
      mapped_ = std::exchange(o.mapped_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Reallocates to `bytes` (contents lost). Returns false (and holds nothing) if allocation fails.
  bool reset(size_t bytes);
  void* data() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t size() const { return size_; }

 private:
  void release();
  void* ptr_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mapped (0: from malloc)
};

}  // namespace ember
