// Named weight tensors, whichever door the model came in by: views into a mapped GGUF file, or into
// mapped safetensors shards under their GGUF-convention names (hf_to_gguf_name). Models ask for a
// tensor by name and shape; a missing tensor or a wrong shape is a FORMAT error that names both.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ember/core/status.h"
#include "ember/core/tensor.h"
#include "ember/formats/gguf.h"
#include "ember/formats/model_description.h"
#include "ember/formats/safetensors.h"
#include "formats/mapped_file.h"

namespace ember {

class Weights {
 public:
  // progress: the fraction of matrix bytes copied or regrouped so far (Model::Progress).
  static Result<std::unique_ptr<Weights>> from_gguf(std::unique_ptr<gguf::GgufFile> file,
                                                    const std::function<bool(float)>& progress = {});
  static Result<std::unique_ptr<Weights>> from_safetensors(std::unique_ptr<SafetensorsSet> set, const ModelDescription& d,
                                                           std::string name);

  const std::string& name() const { return name_; }
  const gguf::GgufFile* gguf() const { return gguf_.get(); }
  bool has(std::string_view name) const { return tensors_.find(name) != tensors_.end(); }

  // A rows x cols matrix (ne = {cols, rows}) of any supported dtype.
  Result<Tensor> matrix(const std::string& name, int64_t cols, int64_t rows) const;
  // A stack of n matrices (ne = {cols, rows, n}): routed experts.
  Result<Tensor> matrices(const std::string& name, int64_t cols, int64_t rows, int64_t n) const;
  // A vector of n floats (norm gains, biases); stored types other than F32 were converted at load.
  Result<const float*> vector(const std::string& name, int64_t n) const;

  size_t total_bytes() const { return total_bytes_; }
  const std::map<std::string, Tensor, std::less<>>& all() const { return tensors_; }
  // Memory the views point into that the weights must keep (a GGUF image loaded into memory).
  void keep_alive(std::shared_ptr<void> owner) { owner_ = std::move(owner); }

 private:
  Weights() = default;
  Status add(std::string name, const Tensor& t);
  Result<Tensor> shaped(const std::string& name, std::initializer_list<int64_t> ne) const;

  std::string name_;
  std::unique_ptr<gguf::GgufFile> gguf_;
  std::unique_ptr<SafetensorsSet> safetensors_;
  std::map<std::string, Tensor, std::less<>> tensors_;
  std::vector<AlignedBuffer> converted_;  // F32 copies of non-F32 vectors
  AnonymousMemory moved_;                 // the matrices, where any was regrouped at load (core/repack.h)
  std::shared_ptr<void> owner_;
  size_t total_bytes_ = 0;
};

}  // namespace ember
