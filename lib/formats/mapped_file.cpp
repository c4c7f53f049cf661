#include "formats/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ember {

namespace {

// An open descriptor of a regular file and its size. O_NONBLOCK: opening a FIFO for reading would
// otherwise wait for a writer, forever; the flag changes nothing for a regular file's reads.
struct RegularFile {
  int fd = -1;
  size_t size = 0;
  ~RegularFile() {
    if (fd >= 0) ::close(fd);
  }
};

Status open_regular(const std::string& path, RegularFile& f) {
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) return io_error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return io_error("cannot stat '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return io_error("'" + path + "' is not a regular file");
  f.size = size_t(st.st_size);
  return Status::ok();
}

}  // namespace

Result<std::string> read_regular_file(const std::string& path) {
  RegularFile f;
  if (Status s = open_regular(path, f); !s) return s;
  std::string out;
  out.resize(f.size);
  size_t have = 0;
  while (have < out.size()) {
    const ssize_t got = ::read(f.fd, out.data() + have, out.size() - have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return io_error("cannot read '" + path + "': " + std::strerror(errno));
    if (got == 0) break;  // the file shrank while being read
    have += size_t(got);
  }
  out.resize(have);
  return out;
}

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  RegularFile rf;
  if (Status s = open_regular(path, rf); !s) return s;
  const int fd = rf.fd;
  std::unique_ptr<MappedFile> f(new MappedFile());
  f->size_ = rf.size;
  if (f->size_ > 0) {
    void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return io_error("cannot map '" + path + "': " + std::strerror(errno));
    f->data_ = static_cast<const uint8_t*>(p);
  }
  return f;  // the mapping keeps the file open after rf closes the descriptor
}

void MappedFile::release(size_t offset, size_t n) {
  if (offset > size_ || n > size_ - offset) return;
  // Only whole pages inside the range: the pages it shares with neighbours may still be read.
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const size_t first = (offset + page - 1) / page * page, last = (offset + n) / page * page;
  if (first < last) ::madvise(const_cast<uint8_t*>(data_) + first, last - first, MADV_DONTNEED);
}

Result<AnonymousMemory> AnonymousMemory::allocate(size_t bytes) {
  AnonymousMemory m;
  if (bytes == 0) return m;
  constexpr size_t kHuge = size_t(2) << 20;
  if (bytes > (size_t(1) << 48)) return out_of_memory("cannot map " + std::to_string(bytes) + " bytes");
  m.map_size_ = (bytes + kHuge - 1) / kHuge * kHuge + kHuge;  // room to start at a 2 MiB boundary
  void* p = ::mmap(nullptr, m.map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return out_of_memory("cannot map " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
  m.map_ = p;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) / kHuge * kHuge;
  m.data_ = reinterpret_cast<uint8_t*>(start);
  m.size_ = bytes;
#if defined(MADV_HUGEPAGE)
  ::madvise(m.data_, (bytes + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);  // a request: fine if refused
#endif
  return m;
}

AnonymousMemory::AnonymousMemory(AnonymousMemory&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)),
      map_size_(std::exchange(o.map_size_, 0)),
      data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

AnonymousMemory& AnonymousMemory::operator=(AnonymousMemory&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, map_size_);
    map_ = std::exchange(o.map_, nullptr);
    map_size_ = std::exchange(o.map_size_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

AnonymousMemory::~AnonymousMemory() {
  if (map_) ::munmap(map_, map_size_);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace ember
