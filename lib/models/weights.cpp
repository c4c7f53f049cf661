#include "weights.h"

#include "ember/core/quantize.h"

namespace ember {

Result<std::unique_ptr<Weights>> Weights::from_gguf(std::unique_ptr<gguf::GgufFile> file) {
  std::unique_ptr<Weights> w(new Weights());
  w->name_ = file->name();
  for (const gguf::TensorInfo& t : file->tensors())
    if (Status s = w->add(t.name, file->tensor_view(t)); !s) return s;
  w->gguf_ = std::move(file);
  return w;
}

Result<std::unique_ptr<Weights>> Weights::from_safetensors(std::unique_ptr<SafetensorsSet> set, const ModelDescription& d,
                                                           std::string name) {
  std::unique_ptr<Weights> w(new Weights());
  w->name_ = std::move(name);
  for (const auto& [hf_name, entry] : set->all()) {
    const std::optional<std::string> g = hf_to_gguf_name(hf_name, d);
    if (!g) continue;  // rotary caches, V3's multi-token-prediction layer
    if (Status s = w->add(*g, entry.file->view(*entry.info)); !s) return s;
  }
  w->safetensors_ = std::move(set);
  return w;
}

Status Weights::add(std::string name, const Tensor& t) {
  total_bytes_ += t.n_bytes();
  Tensor view = t;
  if (t.n_dims == 1 && t.dtype != DType::F32) {
    // Norm gains and biases are read as floats on every token: convert the few small ones once.
    AlignedBuffer buf(size_t(t.ne[0]) * sizeof(float));
    if (!buf.data() && t.ne[0] > 0) return out_of_memory(name_ + ": no memory for tensor '" + name + "'");
    dequantize_row(t.dtype, t.data, buf.as<float>(), t.ne[0]);
    view = Tensor::view(DType::F32, buf.data(), {t.ne[0]});
    converted_.push_back(std::move(buf));
  }
  if (!tensors_.emplace(name, view).second) return format_error(name_ + ": duplicate tensor '" + name + "'");
  return Status::ok();
}

Result<Tensor> Weights::shaped(const std::string& name, std::initializer_list<int64_t> ne) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return format_error(name_ + ": missing tensor '" + name + "'");
  const Tensor& t = it->second;
  bool ok = true;
  size_t k = 0;
  std::string want;
  for (int64_t d : ne) {
    ok = ok && t.ne[k] == d;
    want += (k ? " x " : "") + std::to_string(d);
    ++k;
  }
  for (; k < kMaxDims; ++k) ok = ok && t.ne[k] == 1;
  if (!ok) return format_error(name_ + ": tensor '" + name + "' has shape " + t.shape_string() + ", expected " + want);
  return t;
}

Result<Tensor> Weights::matrix(const std::string& name, int64_t cols, int64_t rows) const {
  return shaped(name, {cols, rows});
}

Result<Tensor> Weights::matrices(const std::string& name, int64_t cols, int64_t rows, int64_t n) const {
  return shaped(name, {cols, rows, n});
}

Result<const float*> Weights::vector(const std::string& name, int64_t n) const {
  auto t = shaped(name, {n});
  if (!t) return t.status();
  if (t->dtype != DType::F32) return format_error(name_ + ": tensor '" + name + "' must be a float vector");
  return static_cast<const float*>(t->data);
}

}  // namespace ember
