// ckpt4j native layer, data parallelism. See ckpt4j_parallel.h.
#include "ckpt4j_parallel.h"
#include "ckpt4j_errors.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/variable.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

namespace ckpt4j {
namespace {

using errors::guarded;
using errors::one_line;
using errors::set_error;


std::vector<c10::Device> parse_devices(const std::vector<std::string>& names) {
  TORCH_CHECK(!names.empty(), "no device given");
  std::vector<c10::Device> devices;
  devices.reserve(names.size());
  for (const std::string& name : names) devices.emplace_back(name);
  return devices;
}

// Copies of `tensors` on `devices`, device-major; see replicate() in the header. A tensor listed
// twice (the same TensorImpl) is copied once per device.
std::vector<torch::Tensor> broadcast(const std::vector<torch::Tensor>& tensors,
                                     const std::vector<c10::Device>& devices) {
  const size_t n = tensors.size();
  std::vector<size_t> first_of(n);  // the index of the first tensor with the same TensorImpl
  std::unordered_map<const c10::TensorImpl*, size_t> seen;
  for (size_t i = 0; i < n; ++i) {
    const c10::TensorImpl* impl = tensors[i].defined() ? tensors[i].unsafeGetTensorImpl() : nullptr;
    first_of[i] = impl == nullptr ? i : seen.emplace(impl, i).first->second;
  }
  std::vector<torch::Tensor> out;
  out.reserve(n * devices.size());
  std::vector<bool> own_used(n, false);  // whether a device already got tensors[i] itself
  for (size_t d = 0; d < devices.size(); ++d) {
    const size_t base = out.size();
    for (size_t i = 0; i < n; ++i) {
      const torch::Tensor& t = tensors[i];
      if (first_of[i] != i) {
        out.push_back(out[base + first_of[i]]);
      } else if (!t.defined()) {
        out.push_back(t);
      } else if (!own_used[i] && t.device() == devices[d]) {
        own_used[i] = true;
        out.push_back(t);
      } else {
        out.push_back(t.to(t.options().device(devices[d]), /*non_blocking=*/false, /*copy=*/true));
      }
    }
  }
  return out;
}

std::string device_list(const std::vector<std::string>& names) {
  std::string s = "[";
  for (size_t i = 0; i < names.size(); ++i) s += (i == 0 ? "" : ", ") + names[i];
  return s + "]";
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes() << " " << t.dtype();
  return s.str();
}

using ObjectPtr = c10::intrusive_ptr<c10::ivalue::Object>;

bool is_module_object(const c10::IValue& v) {
  return v.isObject() && v.toObjectRef().type()->is_module();
}

// The tensor attributes of a script module tree, each once, in slot order (depth first).
void collect_tensors(const ObjectPtr& object, std::unordered_map<const void*, bool>* visited,
                     std::vector<torch::Tensor>* tensors,
                     std::unordered_map<const c10::TensorImpl*, size_t>* index) {
  if (!visited->emplace(object.get(), true).second) return;
  for (const c10::IValue& slot : object->slots()) {
    if (slot.isTensor()) {
      const torch::Tensor& t = slot.toTensor();
      if (t.defined() && index->emplace(t.unsafeGetTensorImpl(), tensors->size()).second) {
        tensors->push_back(t);
      }
    } else if (is_module_object(slot)) {
      collect_tensors(slot.toObject(), visited, tensors, index);
    }
  }
}

// A copy of `object`'s tree whose tensors are `copies[index[impl]]`; `memo` keeps shared
// submodules shared.
ObjectPtr rebuild(const ObjectPtr& object, const std::vector<torch::Tensor>& copies,
                  const std::unordered_map<const c10::TensorImpl*, size_t>& index,
                  std::unordered_map<const void*, ObjectPtr>* memo) {
  auto found = memo->find(object.get());
  if (found != memo->end()) return found->second;
  ObjectPtr copy = object->copy();
  memo->emplace(object.get(), copy);
  const std::vector<c10::IValue>& slots = object->slots();
  for (size_t i = 0; i < slots.size(); ++i) {
    const c10::IValue& slot = slots[i];
    if (slot.isTensor() && slot.toTensor().defined()) {
      copy->setSlot(i, copies[index.at(slot.toTensor().unsafeGetTensorImpl())]);
    } else if (is_module_object(slot)) {
      copy->setSlot(i, rebuild(slot.toObject(), copies, index, memo));
    }
  }
  return copy;
}

// The unqualified class name of a script module ("Conv2d"), for pretty printing the mirror.
std::string class_name(const torch::jit::Module& script) {
  const auto& name = script.type()->name();
  return name ? name->name() : "ScriptModule";
}

void mirror(const torch::jit::Module& script, torch::nn::Module* target) {
  for (const auto& p : script.named_parameters(/*recurse=*/false)) {
    target->register_parameter(p.name, p.value, p.value.requires_grad());
  }
  for (const auto& b : script.named_buffers(/*recurse=*/false)) {
    target->register_buffer(b.name, b.value);
  }
  for (const auto& c : script.named_children()) {
    auto child = std::make_shared<torch::nn::Module>(class_name(c.value));
    target->register_module(c.name, child);
    mirror(c.value, child.get());
  }
}

// Replica i's forward, never throwing: the output, or the reason in `error`.
void forward_one(torch::jit::Module* replica, const torch::Tensor& input,
                 torch::Tensor* output, std::string* error) {
  try {
    c10::OptionalDeviceGuard device_guard(input.device());
    c10::IValue result = replica->forward({input});
    if (!result.isTensor()) {
      *error = std::string("forward returned ") + result.tagKind() +
               ", not a tensor (DataParallel gathers tensor outputs)";
      return;
    }
    *output = result.toTensor();
  } catch (const c10::Error& e) {
    *error = one_line(e.what_without_backtrace());
  } catch (const std::exception& e) {
    *error = one_line(e.what());
  } catch (...) {
    *error = "unknown C++ exception";
  }
}

}  // namespace

bool replicate(const std::vector<torch::Tensor>& tensors, const std::vector<std::string>& devices,
               std::vector<torch::Tensor>* out, char* err, int64_t err_len) {
  return guarded(err, err_len, "replicate to " + device_list(devices), [&] {
    std::vector<torch::Tensor> copies = broadcast(tensors, parse_devices(devices));
    out->insert(out->end(), copies.begin(), copies.end());
  });
}

bool adopt(const std::vector<torch::Tensor>& targets, const std::vector<torch::Tensor>& copies,
           const std::vector<torch::Tensor>& sources, char* err, int64_t err_len) {
  return guarded(err, err_len, "replica parameters", [&] {
    TORCH_CHECK(targets.size() == copies.size() && copies.size() == sources.size(),
                "counts differ: ", targets.size(), " targets, ", copies.size(), " copies, ",
                sources.size(), " sources");
    for (size_t i = 0; i < targets.size(); ++i) {
      const torch::Tensor& target = targets[i];
      const torch::Tensor& copy = copies[i];
      TORCH_CHECK(target.defined() == copy.defined(), "tensor ", i, " is defined on one side only");
      if (!target.defined()) continue;
      TORCH_CHECK(target.sizes() == copy.sizes() && target.dtype() == copy.dtype(), "tensor ", i,
                  " is ", shape_text(target), " in the replica but ", shape_text(copy),
                  " in the model");
      target.set_data(copy);
      if (copy.grad_fn()) {
        torch::autograd::impl::set_gradient_edge(
            target, torch::autograd::Edge(copy.grad_fn(), static_cast<uint32_t>(copy.output_nr())));
      } else {
        if (target.grad_fn()) torch::autograd::impl::set_gradient_edge(target, {});
        if (target.requires_grad() != sources[i].requires_grad()) {
          target.set_requires_grad(sources[i].requires_grad());
        }
      }
    }
  });
}

bool scatter(const torch::Tensor& input, const std::vector<std::string>& devices, int64_t dim,
             std::vector<torch::Tensor>* out, char* err, int64_t err_len) {
  return guarded(err, err_len, "scatter over " + device_list(devices), [&] {
    std::vector<c10::Device> targets = parse_devices(devices);
    TORCH_CHECK(input.defined(), "the input is an undefined tensor");
    TORCH_CHECK(input.dim() > 0, "cannot scatter a 0-dim tensor");
    std::vector<torch::Tensor> chunks =
        input.chunk(static_cast<int64_t>(targets.size()), dim);
    for (size_t i = 0; i < chunks.size(); ++i) {
      out->push_back(chunks[i].to(chunks[i].options().device(targets[i])));
    }
  });
}

bool gather(const std::vector<torch::Tensor>& tensors, const std::string& device, int64_t dim,
            torch::Tensor* out, char* err, int64_t err_len) {
  return guarded(err, err_len, "gather on " + device, [&] {
    c10::Device target(device);
    TORCH_CHECK(!tensors.empty(), "no tensor to gather");
    bool all_scalars = true;
    for (const torch::Tensor& t : tensors) {
      TORCH_CHECK(t.defined(), "an output is an undefined tensor");
      all_scalars = all_scalars && t.dim() == 0;
    }
    if (tensors.size() == 1 && !all_scalars && tensors[0].device() == target) {
      *out = tensors[0];
      return;
    }
    std::vector<torch::Tensor> moved;
    moved.reserve(tensors.size());
    for (const torch::Tensor& t : tensors) {
      torch::Tensor m = t.to(t.options().device(target));
      moved.push_back(all_scalars ? m.unsqueeze(0) : m);
    }
    *out = at::cat(moved, dim);
  });
}

bool replicate_script(const torch::jit::Module& module, const std::vector<std::string>& devices,
                      ScriptModules* out, char* err, int64_t err_len) {
  return guarded(err, err_len, "replicate the script module to " + device_list(devices), [&] {
    std::vector<c10::Device> targets = parse_devices(devices);
    std::vector<torch::Tensor> tensors;
    std::unordered_map<const c10::TensorImpl*, size_t> index;
    std::unordered_map<const void*, bool> visited;
    collect_tensors(module._ivalue(), &visited, &tensors, &index);
    std::vector<torch::Tensor> copies = broadcast(tensors, targets);
    const size_t n = tensors.size();
    for (size_t d = 0; d < targets.size(); ++d) {
      std::vector<torch::Tensor> mine(copies.begin() + d * n, copies.begin() + (d + 1) * n);
      std::unordered_map<const void*, ObjectPtr> memo;
      out->emplace_back(rebuild(module._ivalue(), mine, index, &memo));
    }
  });
}

bool parallel_forward(ScriptModules* replicas, const std::vector<torch::Tensor>& inputs,
                      std::vector<torch::Tensor>* out, char* err, int64_t err_len) {
  const size_t n = replicas->size();
  if (n == 0 || inputs.size() != n) {
    set_error(err, err_len, "parallel forward: " + std::to_string(n) + " replicas for " +
                                std::to_string(inputs.size()) + " inputs");
    return false;
  }
  std::vector<torch::Tensor> outputs(n);
  std::vector<std::string> errors(n);
  if (n == 1) {
    forward_one(&(*replicas)[0], inputs[0], &outputs[0], &errors[0]);
  } else {
    const at::ThreadLocalState caller_state;
    std::vector<std::thread> threads;
    threads.reserve(n);
    std::string start_error;
    try {
      for (size_t i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
          at::ThreadLocalStateGuard state_guard(caller_state);
          forward_one(&(*replicas)[i], inputs[i], &outputs[i], &errors[i]);
        });
      }
    } catch (const std::system_error& e) {
      start_error = std::string("cannot start a thread: ") + e.what();
    }
    for (std::thread& t : threads) t.join();
    if (!start_error.empty()) {
      set_error(err, err_len, "parallel forward: " + start_error);
      return false;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      set_error(err, err_len, "replica " + std::to_string(i) + " on " +
                                  inputs[i].device().str() + " failed: " + errors[i]);
      return false;
    }
  }
  out->insert(out->end(), outputs.begin(), outputs.end());
  return true;
}

bool mirror_script(const torch::jit::Module& module, torch::nn::Module* parent,
                   const std::string& name, char* err, int64_t err_len) {
  return guarded(err, err_len, "the state_dict tree of the script module", [&] {
    TORCH_CHECK(parent != nullptr, "no parent module");
    auto root = std::make_shared<torch::nn::Module>(class_name(module));
    mirror(module, root.get());
    parent->register_module(name, root);
  });
}

ReplicaScope::ReplicaScope(const ThreadState& state, const std::string& device)
    : state_guard_(state.state()) {
  try {
    device_guard_.reset_device(c10::Device(device));
  } catch (const c10::Error& e) {
    error_ = "cannot make " + device + " current: " + one_line(e.what_without_backtrace());
  } catch (const std::exception& e) {
    error_ = "cannot make " + device + " current: " + one_line(e.what());
  }
}

}  // namespace ckpt4j
