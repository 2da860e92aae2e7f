/**
 * Data parallelism as Python's {@code torch.nn.DataParallel} does it: {@link
 * io.ckpt4j.parallel.DataParallel} wraps a model under the name {@code module} (so its state_dict
 * keys carry Python's {@code module.} prefix) and runs one replica per device on a split batch.
 *
 * <p>The collective steps are native (native/ckpt4j_parallel.cpp through
 * {@link io.ckpt4j.nativeio.NativeParallel}), written against LibTorch's device-generic API
 * ({@code c10::Device}, {@code Tensor::to}), since the CPU torch wheel has no CUDA headers: the
 * broadcast of parameters and buffers, scatter and gather ({@link io.ckpt4j.parallel.ParallelOps}),
 * and, for TorchScript modules, replication and the parallel forward on std::threads. A model built
 * in Java ({@link io.ckpt4j.nn.TorchModel}) has a Java forward, so its replicas are models from a
 * factory whose tensors are pointed at the broadcast copies, run on Java threads.
 *
 * <p>Devices default to every visible CUDA device ({@code CUDA_VISIBLE_DEVICES} honoured, as
 * LibTorch counts what the CUDA runtime shows), else the CPU; listing {@code cpu} several times
 * runs several CPU replicas, which is how the tests exercise everything without a GPU.
 */
package io.ckpt4j.parallel;
