#include "weights.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

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

Result<std::unique_ptr<Weights>> Weights::from_gguf(std::unique_ptr<gguf::GgufFile> file,
                                                    const std::function<bool(float)>& progress) {
  std::unique_ptr<Weights> w(new Weights());
  w->name_ = file->name();
  // Matrices the active kernels read fastest in another layout (core/repack.h) are regrouped at
  // load: in place where the bytes are the loader's own copy, else into anonymous memory in huge
  // pages (the file itself never changes). Then every matrix moves there, the others copied as
  // they are, and the file's pages are released as the copies arrive: RSS stays the file's size.
  // (Matrices left in a file that the page cache maps in 2 MiB pages would each keep whole 2 MiB
  // pages resident around them: 0.5B "Q4_K", whose ffn_down stays Q4_K, measured 30 MiB more.)
  auto layout_of = [](const gguf::TensorInfo& t) {
    return t.n_dims >= 2 && repack_enabled() ? preferred_weight_layout(t.dtype) : t.dtype;
  };
  auto padded = [](size_t n) { return (n + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment; };
  bool move = false;
  size_t to_move = 0;
  for (const gguf::TensorInfo& t : file->tensors()) {
    move = move || (layout_of(t) != t.dtype && !file->owned_tensor_data(t));
    if (t.n_dims >= 2) to_move += padded(t.n_bytes);
  }
  if (move) {
    auto mem = AnonymousMemory::allocate(to_move);
    if (!mem) return mem.status();
    w->moved_ = std::move(*mem);
  }
  // A few MiB of rows at a time, on a few threads: most of the time is the kernel zeroing the
  // fresh pages, which each faulting thread does itself.
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
    void* dst = nullptr;
    if (move && t.n_dims >= 2) {
      dst = w->moved_.data() + moved;
      moved += padded(t.n_bytes);
    } else if (layout != t.dtype) {
      dst = file->owned_tensor_data(t);  // regrouped in place
    }
    if (dst) {
      const int64_t rows = view.n_elements() / t.ne[0];
      const int64_t chunk = std::max<int64_t>(1, int64_t((size_t(4) << 20) / row_bytes(t.dtype, t.ne[0])));
      for (int64_t r0 = 0; r0 < rows; r0 += chunk)
        chunks.push_back({&t, layout, static_cast<const uint8_t*>(view.data), static_cast<uint8_t*>(dst), r0,
                          std::min(chunk, rows - r0)});
      view.data = dst;
      view.dtype = layout;
    }
    // Before the copies: the vectors' file pages are read now, while little else is resident, and
    // dropped with their neighbours' as the copies go.
    if (Status s = w->add(t.name, view); !s) return s;
  }
  size_t total = 0;
  for (const Chunk& c : chunks) total += size_t(c.rows) * row_bytes(c.t->dtype, c.t->ne[0]);
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> cancelled{false};
  // The calling thread (is_caller) also reports progress after each of its chunks.
  auto work = [&](bool is_caller) {
    for (size_t i; !cancelled.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < chunks.size();) {
      const Chunk& c = chunks[i];
      const size_t rb = row_bytes(c.t->dtype, c.t->ne[0]), begin = size_t(c.r0) * rb, end = size_t(c.r0 + c.rows) * rb;
      if (c.layout == c.t->dtype) {
        std::memcpy(c.dst + begin, c.src + begin, end - begin);
      } else {
        repack_rows(c.layout, c.src + begin, c.dst + begin, c.rows, c.t->ne[0]);
      }
      if (c.src != c.dst) file->release_tensor_data(*c.t, begin, end);
      const size_t now = done.fetch_add(end - begin) + (end - begin);
      if (is_caller && progress && !progress(float(double(now) / double(total)))) cancelled = true;
    }
  };
  {
    std::vector<std::thread> helpers;
    const size_t n_helpers = std::min<size_t>({3, chunks.size() / 8, std::max(1u, std::thread::hardware_concurrency()) - 1});
    for (size_t i = 0; i < n_helpers; ++i) helpers.emplace_back(work, false);
    work(true);
    for (std::thread& h : helpers) h.join();
  }
  if (cancelled) return Status(StatusCode::kCancelled, w->name_ + ": loading cancelled");
  // Nothing in the data section is read from the file any more (vectors were copied as floats):
  // whatever pages are left there go too.
  if (move) file->release_data(0, file->file_size() - file->data_offset());
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
