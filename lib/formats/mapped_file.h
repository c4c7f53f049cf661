// A whole file mapped read-only (POSIX mmap): weights are used where they lie, never copied.
#pragma once

#include <memory>
#include <string>

#include "ember/core/status.h"
#include "ember/formats/gguf.h"

namespace ember {

class MappedFile final : public gguf::ByteSource {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile() override;
  const uint8_t* data() const override { return data_; }
  size_t size() const override { return size_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Bytes owned by someone else (a caller's buffer).
class BorrowedBytes final : public gguf::ByteSource {
 public:
  BorrowedBytes(const void* data, size_t size) : data_(static_cast<const uint8_t*>(data)), size_(size) {}
  const uint8_t* data() const override { return data_; }
  size_t size() const override { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
};

}  // namespace ember
