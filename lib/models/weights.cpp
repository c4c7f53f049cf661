#include "weights.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstdlib>
#include <cstring>

#include "ember/core/quantize.h"
#include "ember/core/repack.h"
#include "ember/kernels/kernels.h"

namespace ember {

namespace {

// EMBER_REPACK=0 keeps every weight in its file layout: the file's pages then stay shared with the
// page cache (and other processes), at some decode speed.
bool repack_enabled() {
  static const bool on = [] {
    const char* env = std::getenv("EMBER_REPACK");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return on;
}

}  // namespace

Result<std::unique_ptr<Weights>> Weights::from_gguf(std::unique_ptr<gguf::GgufFile> file) {
  std::unique_ptr<Weights> w(new Weights());
  w->name_ = file->name();
  // Matrices the active kernels read fastest in another layout (core/repack.h) are regrouped at
  // load: in place where the bytes are the loader's own copy, else into anonymous memory in huge
  // pages, the file's pages released as they are copied (RSS stays the file's size; the file
  // itself never changes).
  auto layout_of = [](const gguf::TensorInfo& t) {
    return t.n_dims >= 2 && repack_enabled() ? preferred_weight_layout(t.dtype) : t.dtype;
  };
  auto padded = [](size_t n) { return (n + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment; };
  size_t to_move = 0;
  for (const gguf::TensorInfo& t : file->tensors())
    if (layout_of(t) != t.dtype && !file->owned_tensor_data(t)) to_move += padded(t.n_bytes);
  if (to_move) {
    auto mem = AnonymousMemory::allocate(to_move);
    if (!mem) return mem.status();
    w->repacked_ = std::move(*mem);
  }
  // A few MiB of rows at a time, so the file's pages go as the copy's arrive, on a few threads:
  // most of the time is the kernel zeroing the fresh pages, which each faulting thread does itself.
  struct Chunk {
    const gguf::TensorInfo* t;
    DType layout;
    const uint8_t* src;
    uint8_t* dst;
    int64_t r0, rows;
  };
  std::vector<Chunk> chunks;
  size_t moved = 0;
  for (const gguf::TensorInfo& t : file->tensors()) {
    Tensor view = file->tensor_view(t);
    const DType layout = layout_of(t);
    if (layout != t.dtype) {
      void* dst = file->owned_tensor_data(t);
      if (!dst) {
        dst = w->repacked_.data() + moved;
        moved += padded(t.n_bytes);
      }
      const int64_t rows = view.n_elements() / t.ne[0];
      const int64_t chunk = std::max<int64_t>(1, int64_t((size_t(4) << 20) / row_bytes(t.dtype, t.ne[0])));
      for (int64_t r0 = 0; r0 < rows; r0 += chunk)
        chunks.push_back({&t, layout, static_cast<const uint8_t*>(view.data), static_cast<uint8_t*>(dst), r0,
                          std::min(chunk, rows - r0)});
      view.data = dst;
      view.dtype = layout;
    }
    // Before the copies: the vectors' file pages (2 MiB each where the page cache maps the file
    // so) are read now, while little else is resident, and dropped with their neighbours' below.
    if (Status s = w->add(t.name, view); !s) return s;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < chunks.size();) {
      const Chunk& c = chunks[i];
      const size_t rb = row_bytes(c.t->dtype, c.t->ne[0]), begin = size_t(c.r0) * rb, end = size_t(c.r0 + c.rows) * rb;
      repack_rows(c.layout, c.src + begin, c.dst + begin, c.rows, c.t->ne[0]);
      if (c.src != c.dst) file->release_tensor_data(*c.t, begin, end);
    }
  };
  {
    std::vector<std::thread> helpers;
    const size_t n_helpers = std::min<size_t>({3, chunks.size() / 8, std::max(1u, std::thread::hardware_concurrency()) - 1});
    for (size_t i = 0; i < n_helpers; ++i) helpers.emplace_back(work);
    work();
    for (std::thread& h : helpers) h.join();
  }
  if (to_move) {
    // What is left of the file in use: the matrices read where they lie. The rest (repacked
    // matrices, vectors copied as floats) goes, page by page: with the file in 2 MiB pages, one
    // norm vector read at load would otherwise keep a whole 2 MiB page resident per layer.
    std::vector<std::pair<size_t, size_t>> live;
    for (const gguf::TensorInfo& t : file->tensors())
      if (t.n_dims >= 2 && layout_of(t) == t.dtype) live.emplace_back(t.offset, t.offset + t.n_bytes);
    std::sort(live.begin(), live.end());
    size_t from = 0;
    for (const auto& [begin, end] : live) {
      if (begin > from) file->release_data(from, begin);
      from = std::max(from, end);
    }
    const size_t data_end = file->file_size() - file->data_offset();
    if (data_end > from) file->release_data(from, data_end);
  }
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
  if (t.n_dims == 1) {
    // Norm gains and biases are read as floats on every token: convert (or copy) the few small
    // ones once, so none is read from the file after load.
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
