// GGUF: the ggml ecosystem's model file (spec: ggml/docs/gguf.md). A header, typed key/value
// metadata, tensor descriptions, then aligned tensor data. GgufFile maps the file read-only and
// never copies tensor data: Tensor views point into the mapping. Every malformed input is a FORMAT
// error naming the file and the key or tensor at fault; tensor types Ember does not support are
// UNSUPPORTED errors naming the type.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"
#include "ember/core/tensor.h"

namespace ember::gguf {

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
inline constexpr uint32_t kDefaultAlignment = 32;

enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
const char* value_type_name(ValueType t);

// One metadata value. Scalars are held by value; strings and arrays of scalars point into the
// file's mapping (zero copy: a 150k-entry vocabulary costs one vector of string_views).
class Value {
 public:
  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::kArray; }

  // Scalars, converted where the conversion is exact; nullopt otherwise.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;

  // Arrays.
  ValueType array_type() const { return elem_type_; }
  size_t array_size() const;
  const std::vector<std::string_view>& strings() const { return strings_; }  // array of STRING
  const std::vector<Value>& items() const { return items_; }                 // array of ARRAY
  // Element i of an array of scalars as a Value (i < array_size()).
  Value element(size_t i) const;
  // All elements of an array of integers (any integer width) or floats, converted.
  std::optional<std::vector<int64_t>> int_array() const;
  std::optional<std::vector<double>> float_array() const;

  // Builders (used by the reader and by GgufWriter callers).
  static Value u8(uint8_t v) { return scalar(ValueType::kUint8, uint64_t(v)); }
  static Value i8(int8_t v) { return scalar_i(ValueType::kInt8, v); }
  static Value u16(uint16_t v) { return scalar(ValueType::kUint16, uint64_t(v)); }
  static Value i16(int16_t v) { return scalar_i(ValueType::kInt16, v); }
  static Value u32(uint32_t v) { return scalar(ValueType::kUint32, uint64_t(v)); }
  static Value i32(int32_t v) { return scalar_i(ValueType::kInt32, v); }
  static Value u64(uint64_t v) { return scalar(ValueType::kUint64, v); }
  static Value i64(int64_t v) { return scalar_i(ValueType::kInt64, v); }
  static Value f32(float v);
  static Value f64(double v);
  static Value boolean(bool v) { return scalar(ValueType::kBool, uint64_t(v)); }
  static Value string(std::string v);
  static Value string_array(std::vector<std::string> v);
  static Value array_of(ValueType elem, std::vector<Value> items);  // scalars or nested arrays

 private:
  static Value scalar(ValueType t, uint64_t bits);
  static Value scalar_i(ValueType t, int64_t v);
  friend class Reader;
  friend class GgufWriter;
  friend class ValueWriter;

  ValueType type_ = ValueType::kUint8;
  uint64_t bits_ = 0;  // scalar payload: integers (two's complement), bool, float bits
  std::string_view str_;                     // STRING (into the mapping or owned_)
  std::shared_ptr<const std::string> owned_;  // storage of builder-made strings
  ValueType elem_type_ = ValueType::kUint8;
  size_t n_ = 0;                              // array length
  const uint8_t* raw_ = nullptr;              // array of scalars: little-endian elements
  std::vector<std::string_view> strings_;     // array of STRING
  std::vector<std::shared_ptr<const std::string>> owned_strings_;
  std::vector<Value> items_;                  // array of ARRAY, or builder-made scalar arrays
};

struct TensorInfo {
  std::string name;
  DType dtype;
  int n_dims;
  std::array<int64_t, kMaxDims> ne;  // ne[0] contiguous
  uint64_t offset;                   // from the start of the data section
  size_t n_bytes;
};

// Where the bytes come from: a mapped file, or a caller's buffer (loading from flash or an
// archive); GgufFile keeps whichever it was given alive.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual const uint8_t* data() const = 0;
  virtual size_t size() const = 0;
  // The bytes, if they are the loader's own to change in place (a copy it made); null otherwise.
  virtual uint8_t* owned_data() { return nullptr; }
  // Bytes [offset, offset + n) will not be read again (their content moved elsewhere): a mapping
  // drops its pages from this process's memory; other sources ignore it.
  virtual void release(size_t offset, size_t n) {
    (void)offset;
    (void)n;
  }
};

class GgufFile {
 public:
  // Maps `path` read-only and parses it.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  // Parses `size` bytes at `data`, which must outlive the GgufFile (name is used in messages).
  // `owned`: the bytes are the loader's own, so tensors may be changed in place (owned_tensor_data).
  static Result<std::unique_ptr<GgufFile>> from_memory(const void* data, size_t size, std::string name,
                                                       bool owned = false);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::string& name() const { return name_; }

  const std::map<std::string, Value, std::less<>>& metadata() const { return kv_; }
  // Key order as in the file.
  const std::vector<std::string>& keys() const { return key_order_; }
  const Value* find(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  // A view of the tensor's bytes in the mapping (dims as in the file).
  Tensor tensor_view(const TensorInfo& t) const;
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return source_->size(); }
  // The tensor's bytes, writable, where the source is the loader's own memory (null otherwise).
  void* owned_tensor_data(const TensorInfo& t) {
    uint8_t* p = source_->owned_data();
    return p ? p + data_offset_ + t.offset : nullptr;
  }
  // Bytes [begin, end) of the tensor, or of the data section, will not be read again (see
  // ByteSource::release).
  void release_tensor_data(const TensorInfo& t, size_t begin, size_t end) {
    source_->release(data_offset_ + t.offset + begin, end - begin);
  }
  void release_data(size_t begin, size_t end) { source_->release(data_offset_ + begin, end - begin); }

 private:
  friend class Reader;
  static Result<std::unique_ptr<GgufFile>> parse(std::unique_ptr<ByteSource> src, std::string name);
  std::unique_ptr<ByteSource> source_;
  std::string name_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  size_t data_offset_ = 0;
  std::map<std::string, Value, std::less<>> kv_;
  std::vector<std::string> key_order_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Builds a GGUF v3 file: metadata in insertion order, tensors aligned to `alignment`.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = kDefaultAlignment) : alignment_(alignment) {}
  void add(std::string key, Value v);
  // dims as GGUF's ne (ne[0] contiguous); data must hold row_bytes(dtype, ne[0]) * rows bytes and
  // stay valid until write().
  Status add_tensor(std::string name, DType dtype, std::vector<int64_t> ne, const void* data);
  Status write(const std::string& path) const;
  // The whole file as bytes.
  std::vector<uint8_t> bytes() const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> ne;
    const void* data;
    size_t n_bytes;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace ember::gguf
