// gguf::Value: typed metadata values, scalars by value and arrays as views into the file.
#include <cmath>
#include <cstring>
#include <limits>

#include "ember/formats/gguf.h"
#include "formats/gguf_internal.h"

namespace ember::gguf {
namespace {

bool is_integer(ValueType t) {
  switch (t) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kUint16: case ValueType::kInt16:
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kUint64: case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}
bool is_signed(ValueType t) {
  return t == ValueType::kInt8 || t == ValueType::kInt16 || t == ValueType::kInt32 || t == ValueType::kInt64;
}

}  // namespace

size_t scalar_size(ValueType t) {
  switch (t) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
    case ValueType::kUint16: case ValueType::kInt16: return 2;
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
    case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
    default: return 0;
  }
}

// Reads a little-endian scalar of type t at p into the 64-bit payload form Value keeps.
uint64_t load_scalar_bits(ValueType t, const uint8_t* p) {
  uint64_t u = 0;
  std::memcpy(&u, p, scalar_size(t));  // little-endian host (static_assert in the reader)
  switch (t) {  // sign-extend signed integers
    case ValueType::kInt8: return uint64_t(int64_t(int8_t(u)));
    case ValueType::kInt16: return uint64_t(int64_t(int16_t(u)));
    case ValueType::kInt32: return uint64_t(int64_t(int32_t(u)));
    default: return u;
  }
}

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::kUint8: return "UINT8";
    case ValueType::kInt8: return "INT8";
    case ValueType::kUint16: return "UINT16";
    case ValueType::kInt16: return "INT16";
    case ValueType::kUint32: return "UINT32";
    case ValueType::kInt32: return "INT32";
    case ValueType::kFloat32: return "FLOAT32";
    case ValueType::kBool: return "BOOL";
    case ValueType::kString: return "STRING";
    case ValueType::kArray: return "ARRAY";
    case ValueType::kUint64: return "UINT64";
    case ValueType::kInt64: return "INT64";
    case ValueType::kFloat64: return "FLOAT64";
  }
  return "UNKNOWN";
}

Value Value::scalar(ValueType t, uint64_t bits) {
  Value v;
  v.type_ = t;
  v.bits_ = bits;
  return v;
}
Value Value::scalar_i(ValueType t, int64_t x) { return scalar(t, uint64_t(x)); }
Value Value::f32(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return scalar(ValueType::kFloat32, b);
}
Value Value::f64(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return scalar(ValueType::kFloat64, b);
}
Value Value::string(std::string s) {
  Value v;
  v.type_ = ValueType::kString;
  v.owned_ = std::make_shared<const std::string>(std::move(s));
  v.str_ = *v.owned_;
  return v;
}
Value Value::string_array(std::vector<std::string> items) {
  Value v;
  v.type_ = ValueType::kArray;
  v.elem_type_ = ValueType::kString;
  v.n_ = items.size();
  for (std::string& s : items) {
    v.owned_strings_.push_back(std::make_shared<const std::string>(std::move(s)));
    v.strings_.push_back(*v.owned_strings_.back());
  }
  return v;
}
Value Value::array_of(ValueType elem, std::vector<Value> items) {
  Value v;
  v.type_ = ValueType::kArray;
  v.elem_type_ = elem;
  v.n_ = items.size();
  if (elem == ValueType::kString) {
    for (const Value& item : items) {
      v.owned_strings_.push_back(item.owned_ ? item.owned_ : std::make_shared<const std::string>(item.str_));
      v.strings_.push_back(*v.owned_strings_.back());
    }
  } else {
    v.items_ = std::move(items);
  }
  return v;
}

std::optional<uint64_t> Value::as_uint() const {
  if (!is_integer(type_)) return std::nullopt;
  if (is_signed(type_) && int64_t(bits_) < 0) return std::nullopt;
  return bits_;
}
std::optional<int64_t> Value::as_int() const {
  if (!is_integer(type_)) return std::nullopt;
  if (!is_signed(type_) && bits_ > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return int64_t(bits_);
}
std::optional<double> Value::as_float() const {
  if (type_ == ValueType::kFloat32) {
    float f;
    const uint32_t b = uint32_t(bits_);
    std::memcpy(&f, &b, 4);
    return double(f);
  }
  if (type_ == ValueType::kFloat64) {
    double d;
    std::memcpy(&d, &bits_, 8);
    return d;
  }
  if (auto i = as_int()) return double(*i);
  if (auto u = as_uint()) return double(*u);
  return std::nullopt;
}
std::optional<bool> Value::as_bool() const {
  if (type_ != ValueType::kBool) return std::nullopt;
  return bits_ != 0;
}
std::optional<std::string_view> Value::as_string() const {
  if (type_ != ValueType::kString) return std::nullopt;
  return str_;
}

size_t Value::array_size() const { return type_ == ValueType::kArray ? n_ : 0; }

Value Value::element(size_t i) const {
  if (elem_type_ == ValueType::kString) {
    Value v;
    v.type_ = ValueType::kString;
    v.str_ = strings_[i];
    return v;
  }
  if (raw_) return scalar(elem_type_, load_scalar_bits(elem_type_, raw_ + i * scalar_size(elem_type_)));
  return items_[i];
}

std::optional<std::vector<int64_t>> Value::int_array() const {
  if (type_ != ValueType::kArray || !is_integer(elem_type_)) return std::nullopt;
  std::vector<int64_t> out(n_);
  for (size_t i = 0; i < n_; ++i) {
    const auto v = element(i).as_int();
    if (!v) return std::nullopt;
    out[i] = *v;
  }
  return out;
}

std::optional<std::vector<double>> Value::float_array() const {
  if (type_ != ValueType::kArray || elem_type_ == ValueType::kString || elem_type_ == ValueType::kArray ||
      elem_type_ == ValueType::kBool)
    return std::nullopt;
  std::vector<double> out(n_);
  for (size_t i = 0; i < n_; ++i) out[i] = *element(i).as_float();
  return out;
}

}  // namespace ember::gguf
