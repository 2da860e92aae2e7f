// ckpt4j native layer: file-backed storages for tensors. See ckpt4j_native.h.
#include "ckpt4j_native.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ckpt4j {
namespace {

// Reads below this size stay on the calling thread; above it they are split across threads.
constexpr int64_t kParallelReadThreshold = int64_t{32} << 20;
// The largest single pread request (Linux caps one read at about 2 GiB anyway).
constexpr int64_t kMaxReadChunk = int64_t{1} << 30;
constexpr int32_t kMaxThreads = 64;

void set_error(char* err, int64_t err_len, const std::string& message) {
  if (err == nullptr || err_len <= 0) return;
  std::snprintf(err, static_cast<size_t>(err_len), "%s", message.c_str());
}

std::string errno_text(const char* what, const char* path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Checks [offset, offset + nbytes) against the file's size; returns an error text or "".
std::string check_range(int fd, const char* path, int64_t offset, int64_t nbytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno_text("cannot stat", path);
  if (offset < 0 || nbytes < 0 || offset > st.st_size || nbytes > st.st_size - offset) {
    return "byte range [" + std::to_string(offset) + ", +" + std::to_string(nbytes) +
           ") lies outside " + path + " (" + std::to_string(st.st_size) + " bytes)";
  }
  return "";
}

// pread until `count` bytes are read; returns "" or an error text.
std::string pread_fully(int fd, const char* path, char* dst, int64_t offset, int64_t count) {
  while (count > 0) {
    const ssize_t got = ::pread(fd, dst, static_cast<size_t>(std::min(count, kMaxReadChunk)),
                                static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno_text("cannot read", path);
    }
    if (got == 0) return std::string("unexpected end of file in ") + path;
    dst += got;
    offset += got;
    count -= got;
  }
  return "";
}

// The deleter context of a mapped storage: the whole page-aligned mapping.
struct Mapping {
  void* base;
  size_t length;
};

void unmap(void* context) {
  auto* mapping = static_cast<Mapping*>(context);
  ::munmap(mapping->base, mapping->length);
  delete mapping;
}

}  // namespace

at::Tensor read_storage(const char* path, int64_t offset, int64_t nbytes, int32_t threads,
                        char* err, int64_t err_len) {
  try {
    Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      set_error(err, err_len, errno_text("cannot open", path));
      return at::Tensor();
    }
    const std::string range_error = check_range(fd.get(), path, offset, nbytes);
    if (!range_error.empty()) {
      set_error(err, err_len, range_error);
      return at::Tensor();
    }
    at::Tensor out = at::empty({nbytes}, at::TensorOptions().dtype(at::kByte));
    char* dst = static_cast<char*>(out.data_ptr());
    const int32_t workers =
        nbytes < kParallelReadThreshold ? 1 : std::clamp<int32_t>(threads, 1, kMaxThreads);
    if (workers == 1) {
      const std::string e = pread_fully(fd.get(), path, dst, offset, nbytes);
      if (!e.empty()) {
        set_error(err, err_len, e);
        return at::Tensor();
      }
      return out;
    }
    // Split into equal page-multiple slices; each worker reads its own slice in place.
    const int64_t page = ::sysconf(_SC_PAGESIZE);
    int64_t slice = (nbytes + workers - 1) / workers;
    slice = (slice + page - 1) / page * page;
    std::vector<std::string> errors(static_cast<size_t>(workers));
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(workers));
    for (int32_t w = 0; w < workers; ++w) {
      const int64_t begin = std::min(nbytes, w * slice);
      const int64_t count = std::min(nbytes - begin, slice);
      pool.emplace_back([&, w, begin, count] {
        errors[static_cast<size_t>(w)] = pread_fully(fd.get(), path, dst + begin, offset + begin, count);
      });
    }
    for (auto& t : pool) t.join();
    for (const auto& e : errors) {
      if (!e.empty()) {
        set_error(err, err_len, e);
        return at::Tensor();
      }
    }
    return out;
  } catch (const std::exception& e) {
    set_error(err, err_len, std::string("read_storage failed: ") + e.what());
  } catch (...) {
    set_error(err, err_len, "read_storage failed with an unknown C++ exception");
  }
  return at::Tensor();
}

at::Tensor map_storage(const char* path, int64_t offset, int64_t nbytes, char* err,
                       int64_t err_len) {
  try {
    Fd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      set_error(err, err_len, errno_text("cannot open", path));
      return at::Tensor();
    }
    const std::string range_error = check_range(fd.get(), path, offset, nbytes);
    if (!range_error.empty()) {
      set_error(err, err_len, range_error);
      return at::Tensor();
    }
    if (nbytes == 0) return at::empty({0}, at::TensorOptions().dtype(at::kByte));
    // mmap needs a page-aligned file offset: map from the page that holds `offset`.
    const int64_t page = ::sysconf(_SC_PAGESIZE);
    const int64_t aligned = offset / page * page;
    const int64_t lead = offset - aligned;
    const size_t length = static_cast<size_t>(lead + nbytes);
    void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(),
                        static_cast<off_t>(aligned));
    if (base == MAP_FAILED) {
      set_error(err, err_len, errno_text("cannot mmap", path));
      return at::Tensor();
    }
    auto* mapping = new Mapping{base, length};
    void* data = static_cast<char*>(base) + lead;
    try {
      return at::from_blob(data, {nbytes}, [mapping](void*) { unmap(mapping); },
                           at::TensorOptions().dtype(at::kByte));
    } catch (...) {
      unmap(mapping);
      throw;
    }
  } catch (const std::exception& e) {
    set_error(err, err_len, std::string("map_storage failed: ") + e.what());
  } catch (...) {
    set_error(err, err_len, "map_storage failed with an unknown C++ exception");
  }
  return at::Tensor();
}

}  // namespace ckpt4j
