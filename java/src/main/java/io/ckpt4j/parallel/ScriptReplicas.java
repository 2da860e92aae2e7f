package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nativeio.NativeLibrary;
import io.ckpt4j.nativeio.NativeParallel.ScriptModules;
import io.ckpt4j.nativeio.NativeParallel;
import java.util.List;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * The native path, for TorchScript modules, whose forward is C++: replicate and parallel apply
 * run entirely in native/ckpt4j_parallel.cpp, the forwards on std::threads, with no Java frame in
 * between. Replicas are made afresh at every forward (structural copies of the module tree over
 * broadcast tensors, as Python's replicate does), so they always see the module's current weights.
 */
final class ScriptReplicas extends ReplicaRunner {
  private final JitModule module;

  ScriptReplicas(JitModule module) {
    this.module = module;
  }

  @Override
  List<Tensor> forward(List<Tensor> inputs, List<String> devices) throws CheckpointException {
    ensureOpen();
    byte[] err = NativeLibrary.errorBuffer();
    try (ScriptModules replicas = new ScriptModules();
        StringVector deviceVector = ParallelOps.strings(devices);
        TensorVector in = ParallelOps.vector(inputs);
        TensorVector out = new TensorVector()) {
      if (!NativeParallel.replicate_script(module, deviceVector, replicas, err, err.length)
          || !NativeParallel.parallel_forward(replicas, in, out, err, err.length)) {
        throw new CheckpointException(Kind.NATIVE, "DataParallel forward of the script module: "
            + NativeLibrary.message(err));
      }
      return ParallelOps.owned(out);
    }
  }

  /** Nothing: the replicas of a forward are freed when it returns; the module is the caller's. */
  @Override
  protected void releaseResources() {}
}
