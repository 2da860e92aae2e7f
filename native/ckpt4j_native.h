// ckpt4j native layer: what LibTorch's C++ API can do and the JavaCPP presets do not expose.
//
// Every function here is exception-free at the boundary: failures come back as an undefined tensor
// (or a false/negative result) plus a message written into the caller's `err` buffer. No C++
// exception crosses into Java. Code stays device-generic (c10::Device, tensor.to): the CPU torch
// wheel that provides our headers has no CUDA headers.
#pragma once

#include <ATen/core/Tensor.h>
#include <cstdint>

namespace ckpt4j {

// Reads `nbytes` bytes at `offset` of the file at `path` into a new uint8 CPU tensor of shape
// {nbytes}, using positioned reads straight into the tensor's memory (no intermediate copy).
// Large reads are split over up to `threads` threads. On failure: undefined tensor, message in err.
at::Tensor read_storage(const char* path, int64_t offset, int64_t nbytes, int32_t threads,
                        char* err, int64_t err_len);

// Maps `nbytes` bytes at `offset` of the file at `path` copy-on-write (MAP_PRIVATE, like Python's
// torch.load(mmap=True)) and returns a uint8 CPU tensor over them. The tensor's storage owns the
// mapping: munmap runs when the last tensor that shares the storage is freed. Writes to the tensor
// never reach the file. On failure: undefined tensor, message in err.
at::Tensor map_storage(const char* path, int64_t offset, int64_t nbytes, char* err,
                       int64_t err_len);

}  // namespace ckpt4j
