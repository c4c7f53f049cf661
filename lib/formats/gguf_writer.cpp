// GGUF v3 writer: the mirror of gguf_reader.cpp. Tests and benchmarks make deterministic models
// with it; ember-quantize writes its output with it.
#include <cstdio>
#include <cstring>

#include "ember/formats/gguf.h"
#include "formats/gguf_internal.h"

namespace ember::gguf {
namespace {

struct Out {
  std::vector<uint8_t> b;
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void raw(const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
  }
  void str(std::string_view s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void pad_to(size_t alignment) {
    while (b.size() % alignment) b.push_back(0);
  }
};

}  // namespace

// Values are written without their type tag (the caller writes it where the format wants one).
class ValueWriter {
 public:
  static void payload(Out& o, const Value& v) {
    if (const size_t sz = scalar_size(v.type())) {
      o.raw(&v.bits_, sz);  // low bytes of the little-endian payload
      return;
    }
    if (v.type() == ValueType::kString) {
      o.str(v.str_);
      return;
    }
    o.u32(uint32_t(v.elem_type_));
    o.u64(v.n_);
    if (v.elem_type_ == ValueType::kString) {
      for (std::string_view s : v.strings_) o.str(s);
    } else if (v.raw_) {
      o.raw(v.raw_, v.n_ * scalar_size(v.elem_type_));
    } else {
      for (const Value& item : v.items_) payload(o, item);
    }
  }
};

void GgufWriter::add(std::string key, Value v) { kv_.emplace_back(std::move(key), std::move(v)); }

Status GgufWriter::add_tensor(std::string name, DType dtype, std::vector<int64_t> ne, const void* data) {
  if (ne.empty() || ne.size() > size_t(kMaxDims)) return invalid_argument("tensor '" + name + "': 1 to 4 dimensions");
  if (ne[0] % dtype_block_size(dtype) != 0)
    return invalid_argument("tensor '" + name + "': row length not a multiple of the block size");
  size_t rows = 1;
  for (size_t d = 1; d < ne.size(); ++d) rows *= size_t(ne[d]);
  const size_t n_bytes = row_bytes(dtype, ne[0]) * rows;
  tensors_.push_back({std::move(name), dtype, std::move(ne), data, n_bytes});
  return Status::ok();
}

std::vector<uint8_t> GgufWriter::bytes() const {
  Out o;
  o.u32(kMagic);
  o.u32(3);
  o.u64(tensors_.size());
  o.u64(kv_.size());
  for (const auto& [key, v] : kv_) {
    o.str(key);
    o.u32(uint32_t(v.type()));
    ValueWriter::payload(o, v);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    o.str(t.name);
    o.u32(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) o.u64(uint64_t(d));
    o.u32(uint32_t(t.dtype));
    o.u64(offset);
    offset += (t.n_bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  o.pad_to(alignment_);
  for (const PendingTensor& t : tensors_) {
    o.raw(t.data, t.n_bytes);
    o.pad_to(alignment_);
  }
  return o.b;
}

Status GgufWriter::write(const std::string& path) const {
  const std::vector<uint8_t> b = bytes();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return io_error("cannot create '" + path + "'");
  const size_t n = std::fwrite(b.data(), 1, b.size(), f);
  const bool ok = n == b.size() && std::fclose(f) == 0;
  if (!ok) return io_error("cannot write '" + path + "'");
  return Status::ok();
}

}  // namespace ember::gguf
