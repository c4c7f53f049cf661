// Hugging Face safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then
// the tensor bytes. Files are mapped read-only; tensors are views into the mapping. Sharded
// checkpoints (model.safetensors.index.json) open as one set of tensors.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"
#include "ember/core/tensor.h"

namespace ember {

class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> open(const std::string& path);
  static Result<std::unique_ptr<SafetensorsFile>> from_memory(const void* data, size_t size, std::string name);
  ~SafetensorsFile();

  struct Info {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;  // as the file gives it: row-major, last dimension contiguous
    size_t offset, n_bytes;      // within the data section
  };
  const std::vector<Info>& tensors() const { return tensors_; }
  const Info* find(std::string_view name) const;
  // A view with Ember's dims (ne[0] = the last, contiguous dimension).
  Tensor view(const Info& t) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& name() const { return name_; }

 private:
  SafetensorsFile() = default;
  struct Source;
  std::unique_ptr<Source> source_;
  std::string name_;
  size_t data_start_ = 0;
  std::vector<Info> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint made of one or more safetensors files: a single model.safetensors, or the shards
// listed by model.safetensors.index.json ("weight_map": tensor -> shard file).
class SafetensorsSet {
 public:
  // `dir` holds model.safetensors or model.safetensors.index.json.
  static Result<std::unique_ptr<SafetensorsSet>> open_dir(const std::string& dir);
  struct Entry {
    const SafetensorsFile* file;
    const SafetensorsFile::Info* info;
  };
  const Entry* find(std::string_view name) const;
  const std::map<std::string, Entry, std::less<>>& all() const { return entries_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace ember
