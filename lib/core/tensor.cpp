#include "ember/core/tensor.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define EMBER_HAVE_MMAP 1
#endif

namespace ember {

namespace {
constexpr size_t kMapFrom = size_t(1) << 20;
}

bool AlignedBuffer::reset(size_t bytes) {
  release();
  if (bytes == 0) return true;
  const size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
#if defined(EMBER_HAVE_MMAP)
  if (rounded >= kMapFrom) {  // page aligned, so aligned to kTensorAlignment
    void* p = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    ptr_ = p;
    mapped_ = rounded;
    size_ = bytes;
    return true;
  }
#endif
  ptr_ = std::aligned_alloc(kTensorAlignment, rounded);
  if (!ptr_) return false;
  size_ = bytes;
  return true;
}

void AlignedBuffer::release() {
#if defined(EMBER_HAVE_MMAP)
  if (mapped_) munmap(ptr_, mapped_);
  else std::free(ptr_);
#else
  std::free(ptr_);
#endif
  ptr_ = nullptr;
  size_ = 0;
  mapped_ = 0;
}

std::string Tensor::shape_string() const {
  std::string s = std::string(dtype_name(dtype)) + "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(ne[size_t(i)]);
  }
  return s + "]";
}

}  // namespace ember
