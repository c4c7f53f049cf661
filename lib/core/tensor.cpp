#include "ember/core/tensor.h"

namespace ember {

std::string Tensor::shape_string() const {
  std::string s = std::string(dtype_name(dtype)) + "[";
  for (int i = 0; i < n_dims; ++i) {
    if (i) s += ", ";
    s += std::to_string(ne[size_t(i)]);
  }
  return s + "]";
}

}  // namespace ember
