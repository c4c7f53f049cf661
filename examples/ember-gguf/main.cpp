// ember-gguf: look inside a GGUF file, or write the sample file the interoperability tests use.
// Commands: kHelp below.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "ember/core/quantize.h"
#include "ember/formats/gguf.h"
#include "common/cli.h"

using namespace ember;
using namespace ember::gguf;

namespace {

nlohmann::json to_json(const Value& v) {
  switch (v.type()) {
    case ValueType::kString: return std::string(*v.as_string());
    case ValueType::kBool: return *v.as_bool();
    case ValueType::kFloat32: case ValueType::kFloat64: return *v.as_float();
    case ValueType::kArray: {
      nlohmann::json a = nlohmann::json::array();
      if (v.array_type() == ValueType::kString) {
        for (std::string_view s : v.strings()) a.push_back(std::string(s));
      } else if (v.array_type() == ValueType::kArray) {
        for (const Value& item : v.items()) a.push_back(to_json(item));
      } else {
        for (size_t i = 0; i < v.array_size(); ++i) a.push_back(to_json(v.element(i)));
      }
      return a;
    }
    default:
      if (auto i = v.as_int()) return *i;
      return *v.as_uint();
  }
}

std::string short_value(const Value& v) {
  if (v.is_array()) {
    return std::string("[") + value_type_name(v.array_type()) + " x " + std::to_string(v.array_size()) + "]";
  }
  std::string s = to_json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

int dump(const std::string& path, bool as_json) {
  auto f = GgufFile::open(path);
  if (!f) {
    std::fprintf(stderr, "ember-gguf: %s\n", f.status().to_string().c_str());
    return 1;
  }
  const GgufFile& g = **f;
  if (as_json) {
    nlohmann::json out;
    out["version"] = g.version();
    out["alignment"] = g.alignment();
    out["metadata"] = nlohmann::json::object();
    out["types"] = nlohmann::json::object();
    for (const std::string& k : g.keys()) {
      out["metadata"][k] = to_json(*g.find(k));
      out["types"][k] = value_type_name(g.find(k)->type());
    }
    out["tensors"] = nlohmann::json::array();
    for (const TensorInfo& t : g.tensors())
      out["tensors"].push_back({{"name", t.name},
                                {"type", std::string(dtype_name(t.dtype))},
                                {"ne", std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)},
                                {"offset", t.offset},
                                {"bytes", t.n_bytes}});
    // Metadata strings need not be valid UTF-8: invalid bytes are shown as U+FFFD.
    std::printf("%s\n", out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%s: GGUF v%u, alignment %u, %zu keys, %zu tensors, data at %zu\n", path.c_str(), g.version(),
              g.alignment(), g.keys().size(), g.tensors().size(), g.data_offset());
  for (const std::string& k : g.keys())
    std::printf("  %-40s %-8s %s\n", k.c_str(), value_type_name(g.find(k)->type()), short_value(*g.find(k)).c_str());
  for (const TensorInfo& t : g.tensors()) {
    std::string shape;
    for (int d = 0; d < t.n_dims; ++d) shape += (d ? " x " : "") + std::to_string(t.ne[size_t(d)]);
    std::printf("  %-40s %-5s %-20s %12zu bytes at +%llu\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                shape.c_str(), t.n_bytes, (unsigned long long)t.offset);
  }
  return 0;
}

int write_sample(const std::string& path) {
  GgufWriter w;
  w.add("general.architecture", Value::string("sample"));
  w.add("sample.u8", Value::u8(250));
  w.add("sample.i8", Value::i8(-100));
  w.add("sample.u16", Value::u16(65000));
  w.add("sample.i16", Value::i16(-32000));
  w.add("sample.u32", Value::u32(4000000000u));
  w.add("sample.i32", Value::i32(-2000000000));
  w.add("sample.u64", Value::u64(18000000000000000000ULL));
  w.add("sample.i64", Value::i64(-9000000000000000000LL));
  w.add("sample.f32", Value::f32(1.5f));
  w.add("sample.f64", Value::f64(-2.25));
  w.add("sample.bool", Value::boolean(true));
  w.add("sample.string", Value::string("caf\xc3\xa9 \xe2\x98\x95"));
  w.add("sample.strings", Value::string_array({"<s>", "</s>", "\xc4\xa0the"}));
  w.add("sample.ints", Value::array_of(ValueType::kInt32, {Value::i32(-1), Value::i32(0), Value::i32(7)}));
  w.add("sample.floats", Value::array_of(ValueType::kFloat32, {Value::f32(0.5f), Value::f32(-3.0f)}));
  w.add("sample.bools", Value::array_of(ValueType::kBool, {Value::boolean(false), Value::boolean(true)}));
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t cols = 512, rows = 3;
  std::vector<float> x(size_t(cols * rows));
  for (float& v : x) v = dist(rng);
  std::vector<std::vector<uint8_t>> blobs;
  std::vector<std::vector<float>> deq;
  for (DType t : kAllDTypes) {
    blobs.emplace_back(row_bytes(t, cols) * rows);
    deq.emplace_back(size_t(cols * rows));
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(t, x.data() + r * cols, blobs.back().data() + size_t(r) * row_bytes(t, cols), cols);
      dequantize_row(t, blobs.back().data() + size_t(r) * row_bytes(t, cols), deq.back().data() + r * cols, cols);
    }
    std::string name(dtype_name(t));
    for (char& c : name) c = char(std::tolower(c));
    if (Status s = w.add_tensor(name, t, {cols, rows}, blobs.back().data()); !s) return 1;
    if (Status s = w.add_tensor(name + ".dequant", DType::F32, {cols, rows}, deq.back().data()); !s) return 1;
  }
  if (Status s = w.write(path); !s) {
    std::fprintf(stderr, "ember-gguf: %s\n", s.to_string().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

const ember_cli::Help kHelp = {
    "ember-gguf",
    "ember-gguf (dump | json | write-sample) FILE",
    "Looks inside a GGUF file, or writes the sample file the interoperability tests use.\n"
    "\n"
    "  dump FILE           metadata and tensor table, human-readable\n"
    "  json FILE           the same as JSON (metadata values; tensor names, types, shapes, offsets)\n"
    "  write-sample FILE   a deterministic file with every metadata type and, for every dtype, a\n"
    "                      quantized tensor \"<type>\" and its dequantization \"<type>.dequant\" (F32)\n"
    "  -h, --help          this help\n"};

int main(int argc, char** argv) {
  ember_cli::handle_help(kHelp, argc, argv);
  if (argc == 3 && std::strcmp(argv[1], "dump") == 0) return dump(argv[2], false);
  if (argc == 3 && std::strcmp(argv[1], "json") == 0) return dump(argv[2], true);
  if (argc == 3 && std::strcmp(argv[1], "write-sample") == 0) return write_sample(argv[2]);
  ember_cli::usage_error(kHelp, argc < 2 ? "a command is required" : argc == 3 ? "unknown command '" + std::string(argv[1]) + "'"
                                                                               : "a command and one FILE are required");
}
