// A whole file mapped read-only (POSIX mmap): weights are used where they lie, unless a model moves
// them at load to repack them (their pages are then released).
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "ember/core/status.h"
#include "ember/formats/gguf.h"

namespace ember {

// A regular file's whole contents. Anything else (a FIFO, a device, a folder) is an IO error
// at once: opening is non-blocking, so a FIFO with no writer cannot hang the caller.
Result<std::string> read_regular_file(const std::string& path);

class MappedFile final : public gguf::ByteSource {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile() override;
  const uint8_t* data() const override { return data_; }
  size_t size() const override { return size_; }
  void release(size_t offset, size_t n) override;

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Anonymous memory for weights moved at load (to be repacked): mapped in 2 MiB pages where the
// system offers them (Linux transparent huge pages on request), so streaming it through the cores
// every token takes few TLB misses. Zero-filled; pages become resident as they are written.
class AnonymousMemory {
 public:
  static Result<AnonymousMemory> allocate(size_t bytes);
  AnonymousMemory() = default;
  AnonymousMemory(AnonymousMemory&& o) noexcept;
  AnonymousMemory& operator=(AnonymousMemory&& o) noexcept;
  AnonymousMemory(const AnonymousMemory&) = delete;
  AnonymousMemory& operator=(const AnonymousMemory&) = delete;
  ~AnonymousMemory();
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* map_ = nullptr;  // the whole mapping (data_ rounded up to 2 MiB inside it)
  size_t map_size_ = 0;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Bytes kept alive by someone else: a caller's buffer (read only), or the loader's own copy of one
// (`owned`: may be changed in place).
class BorrowedBytes final : public gguf::ByteSource {
 public:
  BorrowedBytes(const void* data, size_t size, bool owned = false)
      : data_(static_cast<const uint8_t*>(data)), size_(size), owned_(owned) {}
  const uint8_t* data() const override { return data_; }
  size_t size() const override { return size_; }
  uint8_t* owned_data() override { return owned_ ? const_cast<uint8_t*>(data_) : nullptr; }

 private:
  const uint8_t* data_;
  size_t size_;
  bool owned_;
};

}  // namespace ember
