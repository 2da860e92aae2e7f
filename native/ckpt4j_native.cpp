// ckpt4j native layer: file-backed storages for tensors. See ckpt4j_native.h.
#include "ckpt4j_native.h"
#include "ckpt4j_errors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ckpt4j {
namespace {

using errors::guarded;
using errors::set_error;

// Reads below this size stay on the calling thread; above it they are split across threads.
constexpr int64_t kParallelReadThreshold = int64_t{16} << 20;
// The largest single pread request (Linux caps one read at about 2 GiB anyway).
constexpr int64_t kMaxReadChunk = int64_t{1} << 30;
// Transparent huge page size on x86-64: blocks are rounded up to it so the kernel can use them.
constexpr int64_t kHugePage = int64_t{2} << 20;
constexpr int32_t kMaxThreads = 64;

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

// One mapping (anonymous memory or a file range) that tensors share; unmapped with the last one.
class Block {
 public:
  Block(void* base, size_t length) : base_(base), length_(length) {}
  ~Block() { ::munmap(base_, length_); }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  char* base() const { return static_cast<char*>(base_); }

 private:
  void* base_;
  size_t length_;
};

// Opens `path` and checks the file range and every slice; returns "" or an error text.
std::string open_checked(const char* path, int64_t offset, int64_t length,
                         const int64_t* slice_offsets, const int64_t* slice_lengths,
                         int64_t count, int* fd_out) {
  *fd_out = ::open(path, O_RDONLY | O_CLOEXEC);
  if (*fd_out < 0) return errno_text("cannot open", path);
  struct stat st {};
  if (::fstat(*fd_out, &st) != 0) return errno_text("cannot stat", path);
  if (offset < 0 || length < 0 || offset > st.st_size || length > st.st_size - offset) {
    return "byte range [" + std::to_string(offset) + ", +" + std::to_string(length) +
           ") lies outside " + path + " (" + std::to_string(st.st_size) + " bytes)";
  }
  if (count < 0 || (count > 0 && (slice_offsets == nullptr || slice_lengths == nullptr))) {
    return "bad slice list";
  }
  for (int64_t i = 0; i < count; ++i) {
    if (slice_offsets[i] < 0 || slice_lengths[i] < 0 || slice_offsets[i] > length ||
        slice_lengths[i] > length - slice_offsets[i]) {
      return "slice " + std::to_string(i) + " [" + std::to_string(slice_offsets[i]) + ", +" +
             std::to_string(slice_lengths[i]) + ") lies outside its block of " +
             std::to_string(length) + " bytes";
    }
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

// Reads [offset, +length) into dst with up to `threads` threads, each in its own slice.
std::string parallel_read(int fd, const char* path, char* dst, int64_t offset, int64_t length,
                          int32_t threads) {
  const int32_t workers =
      length < kParallelReadThreshold ? 1 : std::clamp<int32_t>(threads, 1, kMaxThreads);
  if (workers == 1) return pread_fully(fd, path, dst, offset, length);
  int64_t slice = (length + workers - 1) / workers;
  slice = (slice + kHugePage - 1) / kHugePage * kHugePage;
  std::vector<std::string> errors(static_cast<size_t>(workers));
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers));
  for (int32_t w = 0; w < workers; ++w) {
    const int64_t begin = std::min(length, w * slice);
    const int64_t count = std::min(length - begin, slice);
    pool.emplace_back([&errors, fd, path, dst, offset, w, begin, count] {
      errors[static_cast<size_t>(w)] = pread_fully(fd, path, dst + begin, offset + begin, count);
    });
  }
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (!e.empty()) return e;
  }
  return "";
}

// Fresh anonymous memory for `length` (> 0) bytes, backed by transparent huge pages where the
// kernel allows: with THP in "madvise" mode, plain allocations fault in 4 KiB pages, and a
// multi-GiB load is then dominated by page faults. Returns "" or an error text naming `what`.
std::string allocate(int64_t length, const char* what, std::shared_ptr<Block>* block) {
  // Huge pages only pay off for large blocks; a small one keeps the normal page size.
  const bool huge = length >= kHugePage;
  const int64_t unit = huge ? kHugePage : ::sysconf(_SC_PAGESIZE);
  const size_t rounded = static_cast<size_t>((length + unit - 1) / unit * unit);
  void* base = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                      0);
  if (base == MAP_FAILED) {
    return "cannot allocate " + std::to_string(length) + " bytes for " + what + ": " +
           std::strerror(errno);
  }
  *block = std::make_shared<Block>(base, rounded);
  if (huge) ::madvise(base, rounded, MADV_HUGEPAGE);  // advice: fine if the kernel declines
  return "";
}

// Appends one uint8 tensor per slice of `block`, starting at `data`; each holds the block alive.
void append_slices(const std::shared_ptr<Block>& block, char* data, const int64_t* slice_offsets,
                   const int64_t* slice_lengths, int64_t count, std::vector<torch::Tensor>* out) {
  out->reserve(out->size() + static_cast<size_t>(count));
  const auto options = at::TensorOptions().dtype(at::kByte);
  for (int64_t i = 0; i < count; ++i) {
    out->push_back(at::from_blob(data + slice_offsets[i], {slice_lengths[i]},
                                 [block](void*) {}, options));
  }
}

// The shared shape of read_block and map_block: check the request, open the file, let `fill`
// make the block (it returns "" or an error text), then hand out one tensor per slice. Every
// failure, exceptions included (through guarded), becomes `false` plus a message.
template <typename Fill>
bool with_block(const char* what, const char* path, int64_t offset, int64_t length,
                const int64_t* slice_offsets, const int64_t* slice_lengths, int64_t count,
                std::vector<torch::Tensor>* out, char* err, int64_t err_len, Fill fill) {
  std::string failure;
  const bool ran = guarded(err, err_len, what, [&] {
    int raw_fd = -1;
    failure = open_checked(path, offset, length, slice_offsets, slice_lengths, count, &raw_fd);
    Fd fd(raw_fd);
    if (!failure.empty()) return;
    if (length == 0) {  // nothing to read or map: every slice is empty
      for (int64_t i = 0; i < count; ++i) out->push_back(at::empty({0}, at::kByte));
      return;
    }
    std::shared_ptr<Block> block;
    char* data = nullptr;
    failure = fill(fd.get(), &block, &data);
    if (failure.empty()) append_slices(block, data, slice_offsets, slice_lengths, count, out);
  });
  if (ran && failure.empty()) return true;
  if (ran) set_error(err, err_len, failure);
  return false;
}

}  // namespace

bool read_block(const char* path, int64_t offset, int64_t length, const int64_t* slice_offsets,
                const int64_t* slice_lengths, int64_t count, int32_t threads,
                std::vector<torch::Tensor>* out, char* err, int64_t err_len) {
  return with_block(
      "read_block", path, offset, length, slice_offsets, slice_lengths, count, out, err, err_len,
      [&](int fd, std::shared_ptr<Block>* block, char** data) -> std::string {
        std::string failure = allocate(length, path, block);
        if (!failure.empty()) return failure;
        *data = (*block)->base();
        return parallel_read(fd, path, *data, offset, length, threads);
      });
}

bool empty_block(int64_t length, std::vector<torch::Tensor>* out, char* err, int64_t err_len) {
  std::string failure;
  const bool ran = guarded(err, err_len, "empty_block", [&] {
    if (length < 0) {
      failure = "a block of " + std::to_string(length) + " bytes";
      return;
    }
    if (length == 0) {
      out->push_back(at::empty({0}, at::kByte));
      return;
    }
    std::shared_ptr<Block> block;
    failure = allocate(length, "a storage assembled from chunks", &block);
    if (!failure.empty()) return;
    const int64_t zero = 0;
    append_slices(block, block->base(), &zero, &length, 1, out);
  });
  if (ran && failure.empty()) return true;
  if (ran) set_error(err, err_len, failure);
  return false;
}

bool map_block(const char* path, int64_t offset, int64_t length, const int64_t* slice_offsets,
               const int64_t* slice_lengths, int64_t count, std::vector<torch::Tensor>* out,
               char* err, int64_t err_len) {
  return with_block(
      "map_block", path, offset, length, slice_offsets, slice_lengths, count, out, err, err_len,
      [&](int fd, std::shared_ptr<Block>* block, char** data) -> std::string {
        // mmap needs a page-aligned file offset: map from the page that holds `offset`.
        const int64_t page = ::sysconf(_SC_PAGESIZE);
        const int64_t aligned = offset / page * page;
        const int64_t lead = offset - aligned;
        const size_t mapped = static_cast<size_t>(lead + length);
        void* base = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
                            static_cast<off_t>(aligned));
        if (base == MAP_FAILED) return errno_text("cannot mmap", path);
        *block = std::make_shared<Block>(base, mapped);
        *data = (*block)->base() + lead;
        return "";
      });
}

bool make_views(const std::vector<torch::Tensor>* storages, const int64_t* storage_index,
                const int32_t* scalar_types, const int64_t* offsets, const int32_t* ndims,
                const int64_t* dims, const uint8_t* flags, int64_t count,
                std::vector<torch::Tensor>* out, char* err, int64_t err_len) {
  return guarded(err, err_len, "make_views", [&] {
    const auto n_storages = static_cast<int64_t>(storages->size());
    out->reserve(out->size() + static_cast<size_t>(count));
    const int64_t* d = dims;
    for (int64_t i = 0; i < count; ++i) {
      TORCH_CHECK(storage_index[i] >= 0 && storage_index[i] < n_storages, "view ", i,
                  " names storage ", storage_index[i], " of ", n_storages);
      const at::Tensor& base = (*storages)[static_cast<size_t>(storage_index[i])];
      const auto type = static_cast<c10::ScalarType>(scalar_types[i]);
      at::IntArrayRef sizes(d, static_cast<size_t>(ndims[i]));
      at::IntArrayRef strides(d + ndims[i], static_cast<size_t>(ndims[i]));
      d += 2 * static_cast<int64_t>(ndims[i]);
      at::Tensor view = at::empty({0}, base.options().dtype(type));
      view.set_(base.storage(), offsets[i], sizes, strides);
      if (flags[i] & kViewConj) view._set_conj(true);
      if (flags[i] & kViewNeg) view._set_neg(true);
      if (flags[i] & kViewRequiresGrad) view.requires_grad_(true);
      out->push_back(std::move(view));
    }
  });
}

}  // namespace ckpt4j
