#include "ember/formats/safetensors.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "formats/mapped_file.h"

namespace ember {

struct SafetensorsFile::Source {
  std::unique_ptr<gguf::ByteSource> bytes;
};

SafetensorsFile::~SafetensorsFile() = default;

namespace {

Result<std::unique_ptr<SafetensorsFile>> fail(const std::string& name, const std::string& what) {
  return format_error(name + ": " + what);
}

}  // namespace

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  auto m = MappedFile::open(path);
  if (!m) return m.status();
  auto f = from_memory(m.value()->data(), m.value()->size(), path);
  if (!f) return f.status();
  f.value()->source_->bytes = std::move(m.value());  // same bytes, now owned: views stay valid
  return f;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::from_memory(const void* data, size_t size, std::string name) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size < 8) return fail(name, "truncated: no header length (" + std::to_string(size) + " bytes)");
  uint64_t header_len;
  std::memcpy(&header_len, p, 8);
  if (header_len > size - 8) return fail(name, "header length " + std::to_string(header_len) + " runs past the end of the file");
  if (header_len > (uint64_t(100) << 20)) return fail(name, "header of " + std::to_string(header_len) + " bytes is implausibly large");
  const nlohmann::json h = nlohmann::json::parse(p + 8, p + 8 + header_len, nullptr, /*allow_exceptions=*/false);
  if (h.is_discarded() || !h.is_object()) return fail(name, "header is not a JSON object");
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->source_ = std::make_unique<Source>();
  f->source_->bytes = std::make_unique<BorrowedBytes>(data, size);
  f->name_ = name;
  f->data_start_ = size_t(8 + header_len);
  const size_t data_size = size - f->data_start_;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it.value().is_object()) return fail(name, "__metadata__ is not an object");
      for (auto m = it.value().begin(); m != it.value().end(); ++m)
        if (m.value().is_string()) f->metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string what = "tensor '" + it.key() + "'";
    const nlohmann::json& t = it.value();
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets") ||
        !t["dtype"].is_string() || !t["shape"].is_array() || !t["data_offsets"].is_array() || t["data_offsets"].size() != 2)
      return fail(name, what + " needs dtype, shape and data_offsets [begin, end]");
    Info info;
    info.name = it.key();
    const std::string dt = t["dtype"].get<std::string>();
    if (dt == "F32") {
      info.dtype = DType::F32;
    } else if (dt == "F16") {
      info.dtype = DType::F16;
    } else if (dt == "BF16") {
      info.dtype = DType::BF16;
    } else {
      return unsupported(name + ": " + what + " has dtype " + dt + " (F32, F16 and BF16 are supported)");
    }
    uint64_t n = 1;
    for (const auto& d : t["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
        return fail(name, what + " has a shape entry that is not a non-negative integer");
      const uint64_t v = d.get<uint64_t>();
      if (__builtin_mul_overflow(n, v, &n) || n > (uint64_t(1) << 50)) return fail(name, what + " has a shape whose size overflows");
      info.shape.push_back(int64_t(v));
    }
    if (info.shape.size() > size_t(kMaxDims)) return fail(name, what + " has more than 4 dimensions");
    const auto& off = t["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return fail(name, what + " has data_offsets that are not non-negative integers");
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    const uint64_t want = n * dtype_traits(info.dtype).block_bytes;
    if (e < b || e > data_size) return fail(name, what + " data [" + std::to_string(b) + ", " + std::to_string(e) + ") is outside the data section of " + std::to_string(data_size) + " bytes");
    if (e - b != want) return fail(name, what + " holds " + std::to_string(e - b) + " bytes but its shape and dtype need " + std::to_string(want));
    info.offset = size_t(b);
    info.n_bytes = size_t(e - b);
    ranges.emplace_back(info.offset, info.offset + info.n_bytes);
    f->index_.emplace(info.name, f->tensors_.size());
    f->tensors_.push_back(std::move(info));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) return fail(name, "tensor data ranges overlap");
  return f;
}

const SafetensorsFile::Info* SafetensorsFile::find(std::string_view n) const {
  auto it = index_.find(n);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Tensor SafetensorsFile::view(const Info& t) const {
  Tensor x;
  x.dtype = t.dtype;
  x.n_dims = int(t.shape.size());
  for (size_t d = 0; d < t.shape.size(); ++d) x.ne[d] = t.shape[t.shape.size() - 1 - d];
  x.nb[0] = dtype_traits(t.dtype).block_bytes;
  x.nb[1] = row_bytes(t.dtype, x.ne[0]);
  for (size_t k = 2; k < kMaxDims; ++k) x.nb[k] = x.nb[k - 1] * size_t(x.ne[k - 1]);
  x.data = const_cast<uint8_t*>(source_->bytes->data() + data_start_ + t.offset);  // read-only mapping
  return x;
}

Result<std::unique_ptr<SafetensorsSet>> SafetensorsSet::open_dir(const std::string& dir) {
  auto set = std::make_unique<SafetensorsSet>();
  std::vector<std::string> shards;
  const std::string index_path = dir + "/model.safetensors.index.json";
  std::map<std::string, std::string> expected;  // tensor -> shard, from the index
  struct stat index_st {};
  if (::stat(index_path.c_str(), &index_st) == 0) {  // sharded: the index names the shards
    auto idx = read_regular_file(index_path);
    if (!idx) return idx.status();
    const nlohmann::json j = nlohmann::json::parse(*idx, nullptr, false);
    if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object())
      return format_error(index_path + ": needs a \"weight_map\" object");
    std::set<std::string> seen;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it.value().is_string()) return format_error(index_path + ": weight_map values must be file names");
      const std::string shard = it.value().get<std::string>();
      if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
        return format_error(index_path + ": shard name '" + shard + "' is not a plain file name");
      expected[it.key()] = shard;
      if (seen.insert(shard).second) shards.push_back(shard);
    }
  } else {
    shards.push_back("model.safetensors");
  }
  for (const std::string& s : shards) {
    auto f = SafetensorsFile::open(dir + "/" + s);
    if (!f) return f.status();
    set->files_.push_back(std::move(f.value()));
    const SafetensorsFile* file = set->files_.back().get();
    for (const SafetensorsFile::Info& t : file->tensors()) {
      if (set->entries_.count(t.name)) return format_error(dir + ": tensor '" + t.name + "' appears in two shards");
      set->entries_.emplace(t.name, Entry{file, &t});
    }
  }
  for (const auto& [tensor, shard] : expected) {
    auto it = set->entries_.find(tensor);
    if (it == set->entries_.end()) return format_error(index_path + ": tensor '" + tensor + "' is listed but missing from " + shard);
  }
  return set;
}

const SafetensorsSet::Entry* SafetensorsSet::find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace ember
