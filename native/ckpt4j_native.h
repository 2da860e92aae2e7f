// ckpt4j native layer: what LibTorch's C++ API can do and the JavaCPP presets do not expose.
//
// Every function here is exception-free at the boundary: failures come back as `false` plus a
// message written into the caller's `err` buffer. No C++ exception crosses into Java. Code stays
// device-generic: the CPU torch wheel that provides our headers has no CUDA headers.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

// The presets name std::vector<at::Tensor> as std::vector<torch::Tensor> (TensorVector).
namespace torch {
using at::Tensor;
}  // namespace torch

namespace ckpt4j {

// Reads the file range [offset, offset + length) of `path` into ONE block of fresh memory (backed
// by transparent huge pages where the kernel allows, so a multi-GiB load is not dominated by page
// faults), with positioned reads split over up to `threads` threads, and appends to `out` one
// uint8 CPU tensor per slice: slice i is the bytes [slice_offsets[i], + slice_lengths[i]) of the
// block. The slices share the block; it is freed when the last tensor over it is.
bool read_block(const char* path, int64_t offset, int64_t length, const int64_t* slice_offsets,
                const int64_t* slice_lengths, int64_t count, int32_t threads,
                std::vector<torch::Tensor>* out, char* err, int64_t err_len);

// Appends to `out` one uint8 CPU tensor of `length` bytes of fresh, uninitialized memory, backed
// like read_block's blocks (transparent huge pages where the kernel allows): the storage of a
// tensor assembled piece by piece (a torch.distributed.checkpoint tensor from its chunks).
bool empty_block(int64_t length, std::vector<torch::Tensor>* out, char* err, int64_t err_len);

// Maps the same range copy-on-write (MAP_PRIVATE, as Python's torch.load(mmap=True)) instead:
// no byte is read until a tensor touches it, and writes to the tensors never reach the file.
bool map_block(const char* path, int64_t offset, int64_t length, const int64_t* slice_offsets,
               const int64_t* slice_lengths, int64_t count, std::vector<torch::Tensor>* out,
               char* err, int64_t err_len);

// Appends to `out` one tensor per view i of `count`: a view of storages[storage_index[i]] (a uint8
// tensor over a whole storage) as scalar type scalar_types[i] (c10::ScalarType's value), with
// storage offset offsets[i] (in elements), ndims[i] sizes then ndims[i] strides taken in turn
// from `dims`, and flags[i] (kViewConj, kViewNeg, kViewRequiresGrad). The caller has checked that
// every view lies inside its storage. One call builds every tensor of a checkpoint: the per-tensor
// cost is LibTorch's, not a JNI crossing's.
constexpr uint8_t kViewConj = 1;
constexpr uint8_t kViewNeg = 2;
constexpr uint8_t kViewRequiresGrad = 4;
bool make_views(const std::vector<torch::Tensor>* storages, const int64_t* storage_index,
                const int32_t* scalar_types, const int64_t* offsets, const int32_t* ndims,
                const int64_t* dims, const uint8_t* flags, int64_t count,
                std::vector<torch::Tensor>* out, char* err, int64_t err_len);

}  // namespace ckpt4j
