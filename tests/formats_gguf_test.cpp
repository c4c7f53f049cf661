// The GGUF reader against files written by the reference implementation (gguf-py, see
// tests/data/quants/README.md), our writer against our reader, and every kind of malformed file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ember/formats/gguf.h"
#include "test_util.h"

namespace ember::gguf {
namespace {

std::string quants_path(const char* f) { return test::test_data(std::string("quants/") + f); }

TEST(GgufReader, ReadsEveryMetadataTypeOfTheReferenceFile) {
  auto f = GgufFile::open(quants_path("quants.gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_EQ(g.data_offset(), 1472u);
  ASSERT_EQ(g.keys().size(), 21u);
  EXPECT_EQ(g.keys()[0], "general.architecture");
  EXPECT_EQ(g.keys()[20], "test.array_uint8");
  auto get = [&](const char* k) {
    const Value* v = g.find(k);
    EXPECT_NE(v, nullptr) << k;
    return v ? *v : Value::u8(0);
  };
  EXPECT_EQ(*get("general.architecture").as_string(), "quantvec");
  EXPECT_EQ(*get("general.name").as_string(), "ggml block quantization test vectors");
  EXPECT_EQ(get("test.uint8").type(), ValueType::kUint8);
  EXPECT_EQ(*get("test.uint8").as_uint(), 255u);
  EXPECT_EQ(*get("test.int8").as_int(), -128);
  EXPECT_EQ(*get("test.uint16").as_uint(), 65535u);
  EXPECT_EQ(*get("test.int16").as_int(), -32768);
  EXPECT_EQ(*get("test.uint32").as_uint(), 4294967295u);
  EXPECT_EQ(*get("test.int32").as_int(), -2147483648LL);
  EXPECT_EQ(*get("test.uint64").as_uint(), 18446744073709551615ULL);
  EXPECT_FALSE(get("test.uint64").as_int().has_value());  // does not fit: no silent wrap
  EXPECT_EQ(*get("test.int64").as_int(), INT64_MIN);
  EXPECT_EQ(get("test.float32").type(), ValueType::kFloat32);
  EXPECT_EQ(float(*get("test.float32").as_float()), 3.14159274f);
  EXPECT_EQ(*get("test.float64").as_float(), 2.718281828459045);
  EXPECT_EQ(*get("test.bool_true").as_bool(), true);
  EXPECT_EQ(*get("test.bool_false").as_bool(), false);
  EXPECT_EQ(*get("test.string").as_string(), "h\xc3\xa9llo, w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(*get("test.string_empty").as_string(), "");
  EXPECT_EQ(*get("test.array_int32").int_array(), (std::vector<int64_t>{1, -2, 3, 2147483647, -2147483648LL}));
  const Value strs = get("test.array_string");
  ASSERT_EQ(strs.array_type(), ValueType::kString);
  EXPECT_EQ(strs.strings(), (std::vector<std::string_view>{"alpha", "", "\xce\xb2-gamma", "\xe6\x97\xa5\xe6\x9c\xac"}));
  EXPECT_EQ(*get("test.array_float32").float_array(), (std::vector<double>{0.5, -1.25, 3.0}));
  const Value bools = get("test.array_bool");
  ASSERT_EQ(bools.array_size(), 3u);
  EXPECT_TRUE(*bools.element(0).as_bool());
  EXPECT_FALSE(*bools.element(1).as_bool());
  EXPECT_EQ(*get("test.array_uint8").int_array(), (std::vector<int64_t>{0, 1, 127, 128, 255}));
}

TEST(GgufReader, TensorsMapTheReferenceBytesWithoutCopying) {
  auto f = GgufFile::open(quants_path("quants.gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const GgufFile& g = **f;
  ASSERT_EQ(g.tensors().size(), 12u);
  const std::pair<const char*, DType> expect[] = {
      {"f16.weight", DType::F16},   {"bf16.weight", DType::BF16}, {"q4_0.weight", DType::Q4_0},
      {"q4_1.weight", DType::Q4_1}, {"q5_0.weight", DType::Q5_0}, {"q5_1.weight", DType::Q5_1},
      {"q8_0.weight", DType::Q8_0}, {"q2_k.weight", DType::Q2_K}, {"q3_k.weight", DType::Q3_K},
      {"q4_k.weight", DType::Q4_K}, {"q5_k.weight", DType::Q5_K}, {"q6_k.weight", DType::Q6_K}};
  for (auto [name, dt] : expect) {
    const TensorInfo* t = g.find_tensor(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dtype, dt);
    EXPECT_EQ(t->n_dims, 2);
    EXPECT_EQ(t->ne[0], 512);
    EXPECT_EQ(t->ne[1], 8);
    std::vector<uint8_t> want;
    ASSERT_TRUE(test::read_file(quants_path((std::string(dtype_name(dt)) + ".bin").c_str()), &want));
    ASSERT_EQ(t->n_bytes, want.size());
    const Tensor view = g.tensor_view(*t);
    EXPECT_EQ(view.n_bytes(), want.size());
    EXPECT_EQ(std::memcmp(view.data, want.data(), want.size()), 0) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(view.data) % 32, 0u) << "mapped data keeps the file's alignment";
  }
  EXPECT_EQ(g.find_tensor("f16.weight")->offset, 0u);
  EXPECT_EQ(g.find_tensor("q6_k.weight")->offset, 41184u - 1472u);
}

TEST(GgufReader, ParsesNestedArrays) {
  auto f = GgufFile::open(quants_path("metadata_nested.gguf"));
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const Value* ints = (*f)->find("test.array_nested_int32");
  ASSERT_NE(ints, nullptr);
  ASSERT_EQ(ints->array_type(), ValueType::kArray);
  ASSERT_EQ(ints->items().size(), 3u);
  EXPECT_EQ(*ints->items()[0].int_array(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(*ints->items()[1].int_array(), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(*ints->items()[2].int_array(), (std::vector<int64_t>{-6}));
  const Value* strs = (*f)->find("test.array_nested_string");
  ASSERT_NE(strs, nullptr);
  ASSERT_EQ(strs->items().size(), 2u);
  EXPECT_EQ(strs->items()[0].strings(), (std::vector<std::string_view>{"a", "bc"}));
  EXPECT_EQ(strs->items()[1].strings(), (std::vector<std::string_view>{"d\xc3\xa9"
                                                                        "f"}));
}

// Reading the reference file and writing it back with our writer gives the same bytes: both sides
// agree on every layout rule (key order, tensor offsets, alignment, padding).
TEST(GgufWriter, RewritesTheReferenceFileByteForByte) {
  std::vector<uint8_t> original;
  ASSERT_TRUE(test::read_file(quants_path("quants.gguf"), &original));
  auto f = GgufFile::from_memory(original.data(), original.size(), "quants.gguf");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  GgufWriter w;
  for (const std::string& k : (*f)->keys()) w.add(k, *(*f)->find(k));
  for (const TensorInfo& t : (*f)->tensors())
    ASSERT_TRUE(w.add_tensor(t.name, t.dtype, {t.ne[0], t.ne[1]}, (*f)->tensor_view(t).data).is_ok());
  EXPECT_EQ(w.bytes(), original);
}

TEST(GgufWriter, EveryValueTypeRoundTrips) {
  GgufWriter w(64);
  w.add("general.alignment", Value::u32(64));
  w.add("u8", Value::u8(200));
  w.add("i8", Value::i8(-5));
  w.add("u16", Value::u16(60000));
  w.add("i16", Value::i16(-30000));
  w.add("u32", Value::u32(4000000000u));
  w.add("i32", Value::i32(-2000000000));
  w.add("u64", Value::u64(1ULL << 63));
  w.add("i64", Value::i64(-(1LL << 62)));
  w.add("f32", Value::f32(-0.0f));
  w.add("f64", Value::f64(1e300));
  w.add("b", Value::boolean(true));
  w.add("s", Value::string("\xe4\xbd\xa0\xe5\xa5\xbd"));
  w.add("as", Value::string_array({"x", "", "yz"}));
  w.add("ai64", Value::array_of(ValueType::kInt64, {Value::i64(-1), Value::i64(INT64_MAX)}));
  w.add("af64", Value::array_of(ValueType::kFloat64, {Value::f64(0.25)}));
  w.add("nested", Value::array_of(ValueType::kArray, {Value::array_of(ValueType::kUint16, {Value::u16(7)}),
                                                       Value::string_array({"q"})}));
  const std::vector<float> data = test::random_floats(64 * 3, 1);
  std::vector<uint8_t> q4(row_bytes(DType::Q4_K, 256) * 2);
  for (int r = 0; r < 2; ++r) quantize_row(DType::Q4_K, test::random_floats(256, 9 + uint64_t(r)).data(), q4.data() + r * 144, 256);
  ASSERT_TRUE(w.add_tensor("a", DType::F32, {64, 3}, data.data()).is_ok());
  ASSERT_TRUE(w.add_tensor("b", DType::Q4_K, {256, 2}, q4.data()).is_ok());
  const std::vector<uint8_t> bytes = w.bytes();
  auto f = GgufFile::from_memory(bytes.data(), bytes.size(), "roundtrip");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  const GgufFile& g = **f;
  EXPECT_EQ(g.alignment(), 64u);
  EXPECT_EQ(*g.find("u8")->as_uint(), 200u);
  EXPECT_EQ(*g.find("i8")->as_int(), -5);
  EXPECT_EQ(*g.find("u16")->as_uint(), 60000u);
  EXPECT_EQ(*g.find("i16")->as_int(), -30000);
  EXPECT_EQ(*g.find("u32")->as_uint(), 4000000000u);
  EXPECT_EQ(*g.find("i32")->as_int(), -2000000000);
  EXPECT_EQ(*g.find("u64")->as_uint(), 1ULL << 63);
  EXPECT_EQ(*g.find("i64")->as_int(), -(1LL << 62));
  EXPECT_TRUE(std::signbit(*g.find("f32")->as_float()));
  EXPECT_EQ(*g.find("f64")->as_float(), 1e300);
  EXPECT_TRUE(*g.find("b")->as_bool());
  EXPECT_EQ(*g.find("s")->as_string(), "\xe4\xbd\xa0\xe5\xa5\xbd");
  EXPECT_EQ(g.find("as")->strings(), (std::vector<std::string_view>{"x", "", "yz"}));
  EXPECT_EQ(*g.find("ai64")->int_array(), (std::vector<int64_t>{-1, INT64_MAX}));
  EXPECT_EQ(*g.find("af64")->float_array(), (std::vector<double>{0.25}));
  ASSERT_EQ(g.find("nested")->items().size(), 2u);
  EXPECT_EQ(*g.find("nested")->items()[0].int_array(), (std::vector<int64_t>{7}));
  EXPECT_EQ(g.find("nested")->items()[1].strings(), (std::vector<std::string_view>{"q"}));
  ASSERT_EQ(g.tensors().size(), 2u);
  EXPECT_EQ(g.data_offset() % 64, 0u);
  EXPECT_EQ(std::memcmp(g.tensor_view(*g.find_tensor("a")).data, data.data(), data.size() * 4), 0);
  EXPECT_EQ(std::memcmp(g.tensor_view(*g.find_tensor("b")).data, q4.data(), q4.size()), 0);
  EXPECT_EQ(g.find_tensor("b")->offset % 64, 0u);
}

// ---- malformed files -----------------------------------------------------------------------------

// A small valid file with one key of each kind and two tensors.
std::vector<uint8_t> small_file() {
  GgufWriter w;
  w.add("general.architecture", Value::string("llama"));
  w.add("k.arr", Value::array_of(ValueType::kInt32, {Value::i32(1), Value::i32(2)}));
  w.add("k.strs", Value::string_array({"a", "bc"}));
  static const std::vector<float> data(64, 1.0f);
  EXPECT_TRUE(w.add_tensor("t0", DType::F32, {32}, data.data()).is_ok());
  EXPECT_TRUE(w.add_tensor("t1", DType::F16, {32, 2}, data.data()).is_ok());
  return w.bytes();
}

Status parse_bytes(const std::vector<uint8_t>& b) {
  auto f = GgufFile::from_memory(b.data(), b.size(), "bad.gguf");
  return f.status();
}

void expect_error(const std::vector<uint8_t>& b, StatusCode code, const std::string& needle) {
  const Status s = parse_bytes(b);
  ASSERT_FALSE(s.is_ok()) << "accepted a malformed file; expected: " << needle;
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("bad.gguf"), std::string::npos) << "error names the file: " << s.to_string();
}

// Byte offset of the first occurrence of `needle` in b.
size_t find_bytes(const std::vector<uint8_t>& b, const std::string& needle) {
  auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  return size_t(it - b.begin());
}
template <class T>
void poke(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}

TEST(GgufMalformed, EveryTruncationIsAFormatErrorNeverACrash) {
  const std::vector<uint8_t> good = small_file();
  ASSERT_TRUE(parse_bytes(good).is_ok());
  for (size_t n = 0; n < good.size(); ++n) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    const Status s = parse_bytes(cut);
    ASSERT_FALSE(s.is_ok()) << "accepted a file cut to " << n << " bytes";
    ASSERT_EQ(s.code(), StatusCode::kFormat) << n << ": " << s.to_string();
  }
}

TEST(GgufMalformed, BadMagicAndVersions) {
  std::vector<uint8_t> b = small_file();
  b[0] = 'X';
  expect_error(b, StatusCode::kFormat, "bad magic");
  b = small_file();
  poke<uint32_t>(b, 4, 1);
  expect_error(b, StatusCode::kUnsupported, "version 1");
  poke<uint32_t>(b, 4, 4);
  expect_error(b, StatusCode::kUnsupported, "version 4");
  poke<uint32_t>(b, 4, 0x03000000);
  expect_error(b, StatusCode::kUnsupported, "big-endian");
  poke<uint32_t>(b, 4, 2);
  EXPECT_TRUE(parse_bytes(b).is_ok()) << "version 2 has the same layout";
}

TEST(GgufMalformed, AbsurdCountsAndLengths) {
  std::vector<uint8_t> b = small_file();
  poke<uint64_t>(b, 8, uint64_t(1) << 60);
  expect_error(b, StatusCode::kFormat, "tensor count");
  b = small_file();
  poke<uint64_t>(b, 16, uint64_t(1) << 62);
  expect_error(b, StatusCode::kFormat, "metadata count");
  b = small_file();
  poke<uint64_t>(b, 24, ~uint64_t(0));  // length of the first key
  expect_error(b, StatusCode::kFormat, "truncated");
  b = small_file();
  const size_t arr = find_bytes(b, "k.arr") + 5 + 4 + 4;  // key, value type, element type
  poke<uint64_t>(b, arr, uint64_t(1) << 61);
  expect_error(b, StatusCode::kFormat, "array elements");
}

TEST(GgufMalformed, UnknownValueTypesAndBadBools) {
  std::vector<uint8_t> b = small_file();
  poke<uint32_t>(b, find_bytes(b, "k.arr") + 5, 13);
  expect_error(b, StatusCode::kFormat, "unknown value type 13");
  b = small_file();
  poke<uint32_t>(b, find_bytes(b, "k.arr") + 5 + 4, 77);
  expect_error(b, StatusCode::kFormat, "unknown type 77");
  GgufWriter w;
  w.add("flag", Value::boolean(true));
  b = w.bytes();
  b[find_bytes(b, "flag") + 4 + 4] = 2;
  expect_error(b, StatusCode::kFormat, "BOOL");
}

TEST(GgufMalformed, DuplicateKeysAndTensors) {
  GgufWriter w;
  w.add("a", Value::u8(1));
  w.add("a", Value::u8(2));
  expect_error(w.bytes(), StatusCode::kFormat, "duplicate metadata key 'a'");
  GgufWriter t;
  static const std::vector<float> data(32, 0.0f);
  ASSERT_TRUE(t.add_tensor("w", DType::F32, {32}, data.data()).is_ok());
  ASSERT_TRUE(t.add_tensor("w", DType::F32, {32}, data.data()).is_ok());
  expect_error(t.bytes(), StatusCode::kFormat, "duplicate tensor name 'w'");
}

TEST(GgufMalformed, TensorInfoChecks) {
  const std::vector<uint8_t> good = small_file();
  const size_t t1 = find_bytes(good, "t1") + 2;  // n_dims of t1, then ne[0], ne[1], type, offset
  std::vector<uint8_t> b = good;
  poke<uint32_t>(b, t1, 5);
  expect_error(b, StatusCode::kFormat, "tensor 't1' has 5 dimensions");
  b = good;
  poke<uint64_t>(b, t1 + 4, uint64_t(1) << 40);
  poke<uint64_t>(b, t1 + 12, uint64_t(1) << 40);
  expect_error(b, StatusCode::kFormat, "overflows");
  b = good;
  poke<uint32_t>(b, t1 + 20, 16);
  expect_error(b, StatusCode::kUnsupported, "type 16 (IQ2_XXS)");
  b = good;
  poke<uint32_t>(b, t1 + 20, uint32_t(DType::Q4_0));  // 32 values per row: one Q4_0 block, fine
  EXPECT_TRUE(parse_bytes(b).is_ok());
  poke<uint64_t>(b, t1 + 4, 48);  // 48 values: not a whole number of 32-value blocks
  expect_error(b, StatusCode::kFormat, "not a multiple of Q4_0's block of 32");
  b = good;
  poke<uint64_t>(b, t1 + 24, 40);
  expect_error(b, StatusCode::kFormat, "not a multiple of the alignment");
  b = good;
  poke<uint64_t>(b, t1 + 24, 1 << 20);
  expect_error(b, StatusCode::kFormat, "runs past the end of the file");
  b = good;
  poke<uint64_t>(b, t1 + 24, ~uint64_t(31));
  expect_error(b, StatusCode::kFormat, "runs past the end of the file");
}

TEST(GgufMalformed, AlignmentMustBeAPowerOfTwo) {
  GgufWriter w;
  w.add("general.alignment", Value::u32(48));
  expect_error(w.bytes(), StatusCode::kFormat, "general.alignment");
  GgufWriter w2;
  w2.add("general.alignment", Value::u64(32));
  expect_error(w2.bytes(), StatusCode::kFormat, "general.alignment");
}

TEST(GgufMalformed, DeeplyNestedArraysAreRefused) {
  Value v = Value::array_of(ValueType::kInt32, {Value::i32(1)});
  for (int i = 0; i < 20; ++i) v = Value::array_of(ValueType::kArray, {v});
  GgufWriter w;
  w.add("deep", v);
  expect_error(w.bytes(), StatusCode::kFormat, "nests arrays deeper");
}

TEST(GgufMalformed, MissingFileIsAnIoError) {
  auto f = GgufFile::open("/nonexistent/model.gguf");
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIo);
  EXPECT_NE(f.status().message().find("/nonexistent/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace ember::gguf
