// GGUF reader. Layout (ggml/docs/gguf.md), all little-endian:
//   magic "GGUF" | uint32 version | uint64 n_tensors | uint64 n_kv
//   n_kv x (string key | uint32 value_type | value)
//   n_tensors x (string name | uint32 n_dims | uint64 ne[n_dims] | uint32 type | uint64 offset)
//   padding to `general.alignment` (default 32) | tensor data (each offset aligned)
// where string = uint64 length + UTF-8 bytes and array = uint32 elem_type + uint64 count + elems.
// Every count and length is checked against the bytes that remain before anything is allocated,
// so a hostile header cannot make us allocate or read out of bounds.
#include <bit>
#include <cstring>

#include "ember/core/quantize.h"
#include "ember/formats/gguf.h"
#include "formats/gguf_internal.h"
#include "formats/mapped_file.h"

static_assert(std::endian::native == std::endian::little, "GGUF parsing assumes a little-endian host");

namespace ember::gguf {
namespace {

constexpr int kMaxArrayNesting = 8;

// ggml's type names for ids Ember does not support, so the error says what the file holds.
const char* ggml_type_name(uint32_t id) {
  static const char* const kNames[] = {
      "F32",     "F16",     "Q4_0",   "Q4_1",    "Q4_2",    "Q4_3",   "Q5_0",    "Q5_1",   "Q8_0",   "Q8_1",
      "Q2_K",    "Q3_K",    "Q4_K",   "Q5_K",    "Q6_K",    "Q8_K",   "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
      "IQ4_NL",  "IQ3_S",   "IQ2_S",  "IQ4_XS",  "I8",      "I16",    "I32",     "I64",    "F64",    "IQ1_M",
      "BF16",    "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8"};
  return id < sizeof(kNames) / sizeof(kNames[0]) ? kNames[id] : "unknown";
}

}  // namespace

class Reader {
 public:
  Reader(GgufFile& f) : f_(f), p_(f.source_->data()), size_(f.source_->size()) {}

  Status parse() {
    uint32_t magic = 0, version = 0;
    if (Status s = read_u32(&magic, "magic"); !s) return s;
    if (magic != kMagic) {
      char m[5] = {0, 0, 0, 0, 0};
      std::memcpy(m, &magic, 4);
      for (char& c : m)
        if (c && (c < 32 || c > 126)) c = '?';
      return fail("bad magic '" + std::string(m, 4) + "': not a GGUF file");
    }
    if (Status s = read_u32(&version, "version"); !s) return s;
    if (version == 1) return unsupported(f_.name_ + ": GGUF version 1 (32-bit counts) is not supported; re-convert the model");
    if (version > 3 && (version & 0xffff) == 0)
      return unsupported(f_.name_ + ": big-endian GGUF is not supported");
    if (version != 2 && version != 3)
      return unsupported(f_.name_ + ": GGUF version " + std::to_string(version) + " is not supported (2 and 3 are)");
    f_.version_ = version;
    uint64_t n_tensors = 0, n_kv = 0;
    if (Status s = read_u64(&n_tensors, "tensor count"); !s) return s;
    if (Status s = read_u64(&n_kv, "metadata count"); !s) return s;
    // Each key/value needs >= 12 bytes, each tensor info >= 24: counts beyond that are lies.
    if (n_kv > remaining() / 12) return fail("metadata count " + std::to_string(n_kv) + " exceeds what the file can hold");
    if (n_tensors > remaining() / 24) return fail("tensor count " + std::to_string(n_tensors) + " exceeds what the file can hold");

    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string_view key;
      if (Status s = read_string(&key, "key of metadata entry " + std::to_string(i)); !s) return s;
      uint32_t type = 0;
      if (Status s = read_u32(&type, "type of key '" + std::string(key) + "'"); !s) return s;
      Value v;
      if (Status s = read_value(ValueType(type), &v, std::string(key), 0); !s) return s;
      if (f_.kv_.count(key)) return fail("duplicate metadata key '" + std::string(key) + "'");
      f_.key_order_.emplace_back(key);
      f_.kv_.emplace(std::string(key), std::move(v));
    }

    if (const Value* a = f_.find("general.alignment")) {
      const auto v = a->as_uint();
      if (a->type() != ValueType::kUint32 || !v || *v == 0 || (*v & (*v - 1)) != 0)
        return fail("key 'general.alignment' must be a UINT32 power of two");
      f_.alignment_ = uint32_t(*v);
    }

    for (uint64_t i = 0; i < n_tensors; ++i)
      if (Status s = read_tensor_info(i); !s) return s;

    const uint64_t a = f_.alignment_;
    const uint64_t data_offset = (pos_ + a - 1) / a * a;
    f_.data_offset_ = size_t(data_offset);
    for (const TensorInfo& t : f_.tensors_) {
      uint64_t end = 0;
      if (__builtin_add_overflow(data_offset, t.offset, &end) || __builtin_add_overflow(end, uint64_t(t.n_bytes), &end) ||
          end > size_)
        return fail("tensor '" + t.name + "' data [" + std::to_string(data_offset + t.offset) + ", +" +
                    std::to_string(t.n_bytes) + ") runs past the end of the file (" + std::to_string(size_) + " bytes)");
    }
    return Status::ok();
  }

 private:
  size_t remaining() const { return size_ - pos_; }
  Status fail(const std::string& what) const { return format_error(f_.name_ + ": " + what); }
  Status need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      return fail("truncated: " + what + " needs " + std::to_string(n) + " bytes at offset " + std::to_string(pos_) +
                  ", " + std::to_string(remaining()) + " remain");
    return Status::ok();
  }
  Status read_u32(uint32_t* v, const std::string& what) {
    if (Status s = need(4, what); !s) return s;
    std::memcpy(v, p_ + pos_, 4);
    pos_ += 4;
    return Status::ok();
  }
  Status read_u64(uint64_t* v, const std::string& what) {
    if (Status s = need(8, what); !s) return s;
    std::memcpy(v, p_ + pos_, 8);
    pos_ += 8;
    return Status::ok();
  }
  Status read_string(std::string_view* out, const std::string& what) {
    uint64_t len = 0;
    if (Status s = read_u64(&len, "length of " + what); !s) return s;
    if (Status s = need(len, what + " (a string of " + std::to_string(len) + " bytes)"); !s) return s;
    *out = std::string_view(reinterpret_cast<const char*>(p_ + pos_), size_t(len));
    pos_ += size_t(len);
    return Status::ok();
  }

  Status read_value(ValueType type, Value* out, const std::string& key, int depth) {
    out->type_ = type;
    if (const size_t sz = scalar_size(type)) {
      if (Status s = need(sz, "value of key '" + key + "'"); !s) return s;
      out->bits_ = load_scalar_bits(type, p_ + pos_);
      if (type == ValueType::kBool && out->bits_ > 1)
        return fail("key '" + key + "' is a BOOL with byte value " + std::to_string(out->bits_));
      pos_ += sz;
      return Status::ok();
    }
    if (type == ValueType::kString) return read_string(&out->str_, "value of key '" + key + "'");
    if (type != ValueType::kArray)
      return fail("key '" + key + "' has unknown value type " + std::to_string(uint32_t(type)));
    if (depth >= kMaxArrayNesting) return fail("key '" + key + "' nests arrays deeper than " + std::to_string(kMaxArrayNesting));
    uint32_t elem = 0;
    uint64_t n = 0;
    if (Status s = read_u32(&elem, "array type of key '" + key + "'"); !s) return s;
    if (Status s = read_u64(&n, "array length of key '" + key + "'"); !s) return s;
    out->elem_type_ = ValueType(elem);
    const size_t sz = scalar_size(out->elem_type_);
    const uint64_t min_elem = sz ? sz : out->elem_type_ == ValueType::kString ? 8 : 12;
    if (out->elem_type_ != ValueType::kString && out->elem_type_ != ValueType::kArray && sz == 0)
      return fail("key '" + key + "' is an array of unknown type " + std::to_string(elem));
    if (n > remaining() / min_elem)
      return fail("key '" + key + "' claims " + std::to_string(n) + " array elements, more than the file holds");
    out->n_ = size_t(n);
    if (sz) {
      out->raw_ = p_ + pos_;
      if (out->elem_type_ == ValueType::kBool)
        for (uint64_t i = 0; i < n; ++i)
          if (p_[pos_ + i] > 1) return fail("key '" + key + "' has a BOOL element with byte value " + std::to_string(p_[pos_ + i]));
      pos_ += size_t(n) * sz;
    } else if (out->elem_type_ == ValueType::kString) {
      out->strings_.resize(size_t(n));
      for (uint64_t i = 0; i < n; ++i)
        if (Status s = read_string(&out->strings_[size_t(i)], "element " + std::to_string(i) + " of key '" + key + "'"); !s)
          return s;
    } else {
      // Array of arrays: each element is an array without a type tag of its own (gguf-py's layout):
      // uint32 element type, uint64 count, elements.
      out->items_.resize(size_t(n));
      for (uint64_t i = 0; i < n; ++i)
        if (Status s = read_value(ValueType::kArray, &out->items_[size_t(i)], key, depth + 1); !s) return s;
    }
    return Status::ok();
  }

  Status read_tensor_info(uint64_t index) {
    TensorInfo t;
    std::string_view name;
    if (Status s = read_string(&name, "name of tensor " + std::to_string(index)); !s) return s;
    t.name = std::string(name);
    const std::string what = "tensor '" + t.name + "'";
    uint32_t n_dims = 0;
    if (Status s = read_u32(&n_dims, "dimension count of " + what); !s) return s;
    if (n_dims < 1 || n_dims > uint32_t(kMaxDims))
      return fail(what + " has " + std::to_string(n_dims) + " dimensions (1 to " + std::to_string(kMaxDims) + " allowed)");
    t.n_dims = int(n_dims);
    t.ne = {1, 1, 1, 1};
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = 0;
      if (Status s = read_u64(&ne, "dimension " + std::to_string(d) + " of " + what); !s) return s;
      if (ne > uint64_t(INT64_MAX) || __builtin_mul_overflow(n_elements, ne, &n_elements) || n_elements > uint64_t(INT64_MAX))
        return fail(what + " has dimensions whose element count overflows");
      t.ne[d] = int64_t(ne);
    }
    uint32_t type = 0;
    if (Status s = read_u32(&type, "type of " + what); !s) return s;
    const std::optional<DType> dt = dtype_from_gguf_id(type);
    if (!dt)
      return unsupported(f_.name_ + ": " + what + " has type " + std::to_string(type) + " (" + ggml_type_name(type) +
                         "), which Ember does not support");
    t.dtype = *dt;
    if (Status s = read_u64(&t.offset, "data offset of " + what); !s) return s;
    const int64_t block = dtype_block_size(t.dtype);
    if (t.ne[0] % block != 0)
      return fail(what + " has " + std::to_string(t.ne[0]) + " values per row, not a multiple of " +
                  std::string(dtype_name(t.dtype)) + "'s block of " + std::to_string(block));
    const uint64_t rows = n_elements / uint64_t(t.ne[0] ? t.ne[0] : 1);
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(uint64_t(row_bytes(t.dtype, t.ne[0])), t.ne[0] ? rows : 0, &bytes))
      return fail(what + " is too large");
    t.n_bytes = size_t(bytes);
    if (t.offset % f_.alignment_ != 0)
      return fail(what + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                  std::to_string(f_.alignment_));
    if (f_.tensor_index_.count(t.name)) return fail("duplicate tensor name '" + t.name + "'");
    f_.tensor_index_.emplace(t.name, f_.tensors_.size());
    f_.tensors_.push_back(std::move(t));
    return Status::ok();
  }

  GgufFile& f_;
  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
};

Result<std::unique_ptr<GgufFile>> GgufFile::parse(std::unique_ptr<ByteSource> src, std::string name) {
  auto f = std::unique_ptr<GgufFile>(new GgufFile());
  f->source_ = std::move(src);
  f->name_ = std::move(name);
  Reader r(*f);
  if (Status s = r.parse(); !s) return s;
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m) return m.status();
  return parse(std::move(m.value()), path);
}

Result<std::unique_ptr<GgufFile>> GgufFile::from_memory(const void* data, size_t size, std::string name, bool owned) {
  if (!data && size) return invalid_argument("GGUF buffer is null");
  return parse(std::make_unique<BorrowedBytes>(data, size, owned), std::move(name));
}

const Value* GgufFile::find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Tensor GgufFile::tensor_view(const TensorInfo& t) const {
  Tensor x;
  x.dtype = t.dtype;
  x.n_dims = t.n_dims;
  x.ne = t.ne;
  x.nb[0] = dtype_traits(t.dtype).block_bytes;
  x.nb[1] = row_bytes(t.dtype, t.ne[0]);
  for (size_t k = 2; k < kMaxDims; ++k) x.nb[k] = x.nb[k - 1] * size_t(x.ne[k - 1]);
  // Read-only (a read-only mapping or a caller's buffer) unless owned_tensor_data says otherwise.
  x.data = const_cast<uint8_t*>(source_->data() + data_offset_ + t.offset);
  return x;
}

}  // namespace ember::gguf
