// ckpt4j native layer, data parallelism: what torch.nn.DataParallel does with torch.cuda.comm
// (broadcast, scatter, gather) and parallel_apply, for io.ckpt4j.parallel.DataParallel.
//
// Written device-generically (c10::Device, Tensor::to, c10::OptionalDeviceGuard): the CPU torch
// wheel that provides our headers has no CUDA headers, so torch/nn/parallel/data_parallel.h is out
// of reach; the same code runs on CUDA devices with a CUDA build of LibTorch.
//
// Same contract as ckpt4j_native.h: every function is exception-free at the boundary; a failure
// returns false and writes one line into the caller's `err` buffer. Devices are named as
// c10::Device parses them: "cpu", "cuda:0", ... A device may be listed more than once (several CPU
// replicas stand in for several GPUs in the tests).
#pragma once

#include "ckpt4j_native.h"

#include <ATen/ThreadLocalState.h>
#include <c10/core/DeviceGuard.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ckpt4j {

// The replicas of a TorchScript module, one per device (Java: NativeParallel.ScriptModules).
using ScriptModules = std::vector<torch::jit::Module>;

// torch.cuda.comm.broadcast of many tensors to many devices in one call: `out` receives
// devices.size() * tensors.size() tensors, device-major (out[d * n + i] is tensors[i] on
// devices[d]). The first listed device that is a tensor's own device gets the tensor itself, as
// broadcast does; every other entry, the same device listed again included, gets a fresh copy
// (Tensor::to), so two replicas never share memory they may write (BatchNorm running stats).
// With grad mode on, copies of tensors that require grad are tracked by autograd: gradients with
// respect to a copy flow back to its source (Python's Broadcast function does the same).
bool replicate(const std::vector<torch::Tensor>& tensors, const std::vector<std::string>& devices,
               std::vector<torch::Tensor>* out, char* err, int64_t err_len);

// Makes each of `targets` (the parameters and buffers of a replica built from a factory) use the
// data of the matching copy (set_data: no element copied, the target now aliases the copy), and
// gives it the copy's autograd history: a target whose copy is tracked becomes a non-leaf whose
// gradient flows to the source, as a replica's parameter does in Python; any other target becomes
// a leaf that requires grad exactly when its source does. Shapes and dtypes must match.
bool adopt(const std::vector<torch::Tensor>& targets, const std::vector<torch::Tensor>& copies,
           const std::vector<torch::Tensor>& sources, char* err, int64_t err_len);

// torch.cuda.comm.scatter: torch.chunk(input, devices.size(), dim), chunk i moved to devices[i]
// (a chunk already there stays a view of input). Chunks are ceil(n / k) long along dim, so there
// are fewer than k of them when dim is short: 5 rows over 4 devices give 2, 2 and 1 rows.
bool scatter(const torch::Tensor& input, const std::vector<std::string>& devices, int64_t dim,
             std::vector<torch::Tensor>* out, char* err, int64_t err_len);

// torch.cuda.comm.gather: the tensors moved to `device` and concatenated along dim. 0-dim
// tensors are gathered into a vector, as Python's Gather does. A single tensor that is already on
// `device` is returned as it is.
bool gather(const std::vector<torch::Tensor>& tensors, const std::string& device, int64_t dim,
            torch::Tensor* out, char* err, int64_t err_len);

// replicate() for a TorchScript module: one replica per device, each a structural copy of the
// module tree (the same class types and compiled methods, new objects) whose tensor attributes
// (parameters, buffers and plain tensor attributes) are the replicate() copies of the module's.
// A tensor or submodule reachable twice stays shared within a replica. Other attributes (the
// `training` flags included) are carried over as they are.
bool replicate_script(const torch::jit::Module& module, const std::vector<std::string>& devices,
                      ScriptModules* out, char* err, int64_t err_len);

// parallel_apply for TorchScript: replicas[i].forward(inputs[i]) for every i at once, each on its
// own std::thread (on the calling thread when there is one replica), with the calling thread's
// LibTorch thread-local state (grad mode, inference mode, autocast) and the input's device
// current. Each forward must return a tensor; `out` receives them in order. Every exception is
// caught on its thread; the lowest failing replica's is reported.
bool parallel_forward(ScriptModules* replicas, const std::vector<torch::Tensor>& inputs,
                      std::vector<torch::Tensor>* out, char* err, int64_t err_len);

// Registers under `parent`, as its child `name`, a torch::nn::Module tree with the names of the
// script module's parameters, buffers and submodules, holding the same tensors (not copies): the
// nn::Module state_dict walk over it gives the script module's state_dict.
bool mirror_script(const torch::jit::Module& module, torch::nn::Module* parent,
                   const std::string& name, char* err, int64_t err_len);

// The calling thread's LibTorch thread-local state (grad mode, inference mode, autocast, ...),
// captured when constructed, to be put in force on worker threads by a ReplicaScope.
class ThreadState {
 public:
  ThreadState() = default;
  const at::ThreadLocalState& state() const { return state_; }

 private:
  at::ThreadLocalState state_;
};

// While it lives, a captured ThreadState and a device are in force on the thread that made it;
// destroying it (on the same thread) restores that thread's own. Construction never throws: a
// device that cannot be made current is reported by ok() and error().
class ReplicaScope {
 public:
  ReplicaScope(const ThreadState& state, const std::string& device);
  ReplicaScope(const ReplicaScope&) = delete;
  ReplicaScope& operator=(const ReplicaScope&) = delete;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  at::ThreadLocalStateGuard state_guard_;
  c10::OptionalDeviceGuard device_guard_;
  std::string error_;
};

}  // namespace ckpt4j
